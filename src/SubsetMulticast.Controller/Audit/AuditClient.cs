using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace SubsetMulticast.Controller.Audit;

/// <summary>
/// The client half of /api/v1/audit, for <c>tsm audit</c>: runs the audit (or the repair) through the controller's API,
/// following the Link rel="next" pages, and renders the result as text or JSON.
/// </summary>
public static class AuditClient
{
    /// <summary>Every page's switches in one run view (totals summed). Throws <see cref="HttpRequestException"/> with the problem's detail on an error answer.</summary>
    public static async Task<AuditRunView> RunAsync(HttpClient http, string? switchId, bool repair, CancellationToken ct)
    {
        string? url = $"api/v1/audit{(repair ? "/repair" : "")}?limit={AuditApi.MaxLimit}&items={AuditApi.MaxItems}{(switchId is null ? "" : "&switch=" + Uri.EscapeDataString(switchId))}";
        var switches = new List<SwitchAuditReportView>();
        AuditRunView? first = null;
        double ms = 0;
        for (int pages = 0; url is not null && pages < 10_000; pages++)
        {
            using var request = new HttpRequestMessage(repair ? HttpMethod.Post : HttpMethod.Get, url);
            using var response = await http.SendAsync(request, ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                string detail = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                try { detail = JsonDocument.Parse(detail).RootElement.GetProperty("detail").GetString() ?? detail; }
                catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException) { }
                throw new HttpRequestException($"{(int)response.StatusCode}: {detail}");
            }
            var page = await response.Content.ReadFromJsonAsync(AuditJsonContext.Default.AuditRunView, ct).ConfigureAwait(false)
                ?? throw new HttpRequestException("empty audit answer");
            first ??= page;
            ms += page.DurationMs;
            switches.AddRange(page.Switches);
            url = response.Headers.TryGetValues("Link", out var links) ? NextLink(links.FirstOrDefault()) : null;
        }
        var all = switches.ToArray();
        var totals = new AuditCountsView(all.Sum(s => s.Counts.Expected), all.Sum(s => s.Counts.Observed), all.Sum(s => s.Counts.Matched), all.Sum(s => s.Counts.Missing),
            all.Sum(s => s.Counts.Extra), all.Sum(s => s.Counts.Modified), all.Sum(s => s.Counts.Unverifiable), all.Sum(s => s.Counts.Repaired));
        return new AuditRunView(first!.StartedAt, ms, repair, totals, all);
    }

    private static string? NextLink(string? header)
    {
        if (header is null || !header.StartsWith('<')) return null;
        int end = header.IndexOf('>', StringComparison.Ordinal);
        return end > 1 ? header[1..end].TrimStart('/') : null;
    }

    public static string Json(AuditRunView run) => JsonSerializer.Serialize(run, AuditJsonContext.Default.AuditRunView);

    /// <summary>One line per switch, then one per finding, then the totals.</summary>
    public static string Text(AuditRunView run)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        foreach (var s in run.Switches)
        {
            var c = s.Counts;
            sb.Append(inv, $"{s.Adapter} {s.Switch}: {(s.Error is not null ? "UNREADABLE" : s.InSync ? "in sync" : "DIFFERS")} — expected {c.Expected}, observed {c.Observed}, matched {c.Matched}, missing {c.Missing}, extra {c.Extra}, modified {c.Modified}, unverifiable {c.Unverifiable}");
            if (run.Repair) sb.Append(inv, $", repaired {c.Repaired} ({s.RepairResult})");
            sb.Append(inv, $" [{s.DurationMs:0.0} ms]");
            if (s.Error is not null) sb.Append(inv, $": {s.Error}");
            sb.Append('\n');
            foreach (var i in s.Items)
                sb.Append(inv, $"  {i.Category,-12} {i.Kind} {i.Key}{(i.Expected is null ? "" : $"  want {i.Expected}")}{(i.Observed is null ? "" : $"  have {i.Observed}")}{(i.Action == "none" ? "" : $"  [{i.Action}]")}\n");
            if (s.ItemsTruncated) sb.Append("  … more findings than listed\n");
        }
        var t = run.Totals;
        sb.Append(inv, $"{run.Switches.Length} switches at {run.StartedAt:u} in {run.DurationMs:0.0} ms: expected {t.Expected}, matched {t.Matched}, missing {t.Missing}, extra {t.Extra}, modified {t.Modified}, unverifiable {t.Unverifiable}{(run.Repair ? $", repaired {t.Repaired}" : "")}\n");
        return sb.ToString();
    }
}
