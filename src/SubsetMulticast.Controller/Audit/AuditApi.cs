using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SubsetMulticast.Controller.Api;
using SubsetMulticast.Core.Audit;

namespace SubsetMulticast.Controller.Audit;

/// <summary>
/// GET /api/v1/audit and POST /api/v1/audit/repair: audits the switches now (a page of them: ?limit=&amp;after=, Link
/// rel="next"), optionally one (?switch=ID), and lists at most ?items= findings per switch. Repair converges exactly
/// the findings it lists (missing installed, modified rewritten, extra removed) — on OpenFlow in one atomic bundle.
/// </summary>
internal static class AuditApi
{
    public const int DefaultLimit = 100, MaxLimit = 1000, DefaultItems = 100, MaxItems = 10_000;

    public static void Map(IEndpointRouteBuilder app, RuleAuditor auditor, CancellationToken southboundToken)
    {
        var api = app.MapGroup(ApiEndpoints.Prefix).WithTags("audit");
        api.MapGet("/audit", (Func<HttpContext, Task<IResult>>)(http => RunAsync(http, auditor, repair: false, southboundToken)))
            .WithName("audit").WithSummary("Compare intended and installed rules on each switch now (?switch=&limit=&after=&items=; Link rel=\"next\")")
            .WithDescription("Per switch and adapter: counts of expected, observed, matched, missing, extra, modified (same key, different buckets or ports) and unverifiable rules, the findings, when it ran and how long it took.")
            .Produces<AuditRunView>(StatusCodes.Status200OK).ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/audit/repair", (Func<HttpContext, Task<IResult>>)(http => RunAsync(http, auditor, repair: true, southboundToken)))
            .WithName("auditRepair").WithSummary("Audit and repair: install what is missing, rewrite what was modified, remove what is extra (same parameters as GET /audit)")
            .Produces<AuditRunView>(StatusCodes.Status200OK).ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> RunAsync(HttpContext http, RuleAuditor auditor, bool repair, CancellationToken southboundToken)
    {
        var q = http.Request.Query;
        foreach (var key in q.Keys)
            if (key is not ("switch" or "limit" or "after" or "items"))
                return ApiProblems.Invalid($"'{key}' is not a parameter of the audit (switch, limit, after, items).", http);
        if (!Bounded(q, "limit", DefaultLimit, MaxLimit, out int limit)) return ApiProblems.Invalid($"limit '{q["limit"]}' is not a number from 1 to {MaxLimit}.", http);
        if (!Bounded(q, "items", DefaultItems, MaxItems, out int items)) return ApiProblems.Invalid($"items '{q["items"]}' is not a number from 1 to {MaxItems}.", http);
        string? only = q.TryGetValue("switch", out var s) ? s.ToString() : null;
        string? after = q.TryGetValue("after", out var a) ? a.ToString() : null;
        if (only is { Length: 0 or > 256 }) return ApiProblems.Invalid("switch must be a switch id of 1 to 256 characters.", http);
        if (after is { Length: > 600 }) return ApiProblems.Invalid("after is longer than any page key.", http);

        var targets = auditor.Targets();
        if (only is not null)
        {
            targets = [.. targets.Where(t => t.Switch == only)];
            if (targets.Count == 0) return ApiProblems.Result("unknown-switch", StatusCodes.Status404NotFound, "Unknown switch", $"No adapter knows switch '{only}'.", http);
        }
        // Pages over (adapter, switch) in order; the key is "adapter/switch".
        var rest = targets.Where(t => after is null || string.CompareOrdinal(PageKey(t.Adapter.Name, t.Switch), after) > 0).ToList();
        var page = rest.Take(limit).ToList();
        if (rest.Count > limit)
        {
            var next = $"{ApiEndpoints.Prefix}/audit{(repair ? "/repair" : "")}?limit={limit}&items={items}&after={Uri.EscapeDataString(PageKey(page[^1].Adapter.Name, page[^1].Switch))}";
            http.Response.Headers.Link = $"<{next}>; rel=\"next\"";
        }
        var run = await auditor.RunAsync(page, repair, southboundToken).ConfigureAwait(false);
        return Results.Json(AuditRunView.From(run, auditor, items), AuditJsonContext.Default.AuditRunView);
    }

    private static string PageKey(string adapter, string switchId) => adapter + "/" + switchId;

    private static bool Bounded(IQueryCollection q, string name, int fallback, int max, out int value)
    {
        value = fallback;
        return !q.TryGetValue(name, out var text) || (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value) && value >= 1 && value <= max);
    }
}

/// <summary>One audit run: when, how long, whether it repaired, totals, and each switch's report.</summary>
public sealed record AuditRunView(DateTimeOffset StartedAt, double DurationMs, bool Repair, AuditCountsView Totals, SwitchAuditReportView[] Switches)
{
    internal static AuditRunView From(RuleAuditRun run, RuleAuditor auditor, int maxItems)
    {
        var switches = run.Reports.Select(r => SwitchAuditReportView.From(r, auditor.TryGetHistory(r.Adapter, r.SwitchId, out var h) ? h : null, maxItems)).ToArray();
        var totals = new AuditCountsView(switches.Sum(s => s.Counts.Expected), switches.Sum(s => s.Counts.Observed), switches.Sum(s => s.Counts.Matched),
            switches.Sum(s => s.Counts.Missing), switches.Sum(s => s.Counts.Extra), switches.Sum(s => s.Counts.Modified), switches.Sum(s => s.Counts.Unverifiable),
            switches.Sum(s => s.Counts.Repaired));
        return new AuditRunView(run.StartedAt, run.Duration.TotalMilliseconds, run.Repair, totals, switches);
    }
}

public sealed record AuditCountsView(int Expected, int Observed, int Matched, int Missing, int Extra, int Modified, int Unverifiable, int Repaired);

/// <summary>One switch's report; <see cref="ItemsTruncated"/> when it had more findings than the request's ?items= bound.</summary>
public sealed record SwitchAuditReportView(string Switch, string Adapter, DateTimeOffset StartedAt, double DurationMs, bool InSync, AuditCountsView Counts,
    AuditItemView[] Items, bool ItemsTruncated, string? RepairResult, string? Error, DateTimeOffset? LastSuccessAt, int SuccessCount, int FailureCount, int ConsecutiveFailures)
{
    internal static SwitchAuditReportView From(SwitchAuditReport r, SwitchAuditHistory? h, int maxItems) => new(
        r.SwitchId, r.Adapter, r.StartedAt, r.Duration.TotalMilliseconds, r.InSync,
        new AuditCountsView(r.Expected, r.Observed, r.Matched, r.Missing, r.Extra, r.Modified, r.Unverifiable, r.Repaired),
        [.. r.Items.Take(maxItems).Select(i => new AuditItemView(Snake(i.Category.ToString()), i.Kind, i.Key, i.Expected, i.Observed, Snake(i.Action.ToString())))],
        r.Items.Count > maxItems, r.RepairResult, r.Error, h?.LastSuccessAt, h?.SuccessCount ?? 0, h?.FailureCount ?? 0, h?.ConsecutiveFailures ?? 0);

    private static string Snake(string pascal) => string.Concat(pascal.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "-" : "") + char.ToLowerInvariant(c) : c.ToString()));
}

/// <summary>A finding: category (missing, extra, modified, unverifiable), what it is, its key, the intended and installed contents, and the action taken (none, repaired, repair-failed).</summary>
public sealed record AuditItemView(string Category, string Kind, string Key, string? Expected, string? Observed, string Action);

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AuditRunView))]
public sealed partial class AuditJsonContext : JsonSerializerContext;
