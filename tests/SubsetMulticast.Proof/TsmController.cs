using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace SubsetMulticast.Proof;

/// <summary>
/// The real controller, <c>tsm serve --openflow</c>, as our child process (stopped by its handle). Its REST and
/// OpenFlow addresses are read from its output; <see cref="WaitLearnedAsync"/> waits until it has learned the
/// fabric (LLDP links), the reference group (the hosts' IGMP reports) and every host.
/// </summary>
internal sealed class TsmController : IAsyncDisposable
{
    private readonly Process _process;

    private TsmController(Process process, Uri api, IPEndPoint openFlow, Uri? apiH2c, IPEndPoint? pushUdp)
    { _process = process; Api = api; OpenFlow = openFlow; ApiH2c = apiH2c; PushUdp = pushUdp; }

    public Process Process => _process;
    public Uri Api { get; }
    public IPEndPoint OpenFlow { get; }
    /// <summary>The h2c listener (--api-h2c), or null.</summary>
    public Uri? ApiH2c { get; }
    /// <summary>The push-instruction endpoint (--push-udp), or null.</summary>
    public IPEndPoint? PushUdp { get; }

    public static Task<TsmController> StartAsync(params string[] extra) => StartAsync(null, extra);

    /// <param name="environment">Extra environment variables for the controller process (e.g. runtime knobs), or null.</param>
    public static async Task<TsmController> StartAsync(IReadOnlyDictionary<string, string>? environment, params string[] extra)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (environment is not null) foreach (var (k, v) in environment) psi.Environment[k] = v;
        psi.ArgumentList.Add(typeof(SubsetMulticast.Cli.Program).Assembly.Location);
        foreach (var a in (string[])["serve", "--openflow", "127.0.0.1:0", "--api", "http://127.0.0.1:0", "--quiet", .. extra]) psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start tsm");
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            string? api = null, of = null, h2c = null, push = null;
            // Up to the banner's last line: the optional listeners (api-h2c, push-udp) come after api and openflow.
            for (int i = 0; i < 60; i++)
            {
                var line = await p.StandardOutput.ReadLineAsync(cts.Token)
                    ?? throw new InvalidOperationException($"tsm serve exited: {await p.StandardError.ReadToEndAsync(cts.Token)}");
                var t = line.Trim();
                if (t.StartsWith("api ", StringComparison.Ordinal)) api = t[3..].Trim().Replace("api/v1/groups", "", StringComparison.Ordinal);
                if (t.StartsWith("openflow ", StringComparison.Ordinal)) of = t[8..].Trim();
                if (t.StartsWith("api-h2c ", StringComparison.Ordinal)) h2c = t[7..].Trim().Replace("api/v1/groups", "", StringComparison.Ordinal);
                if (t.StartsWith("push-udp ", StringComparison.Ordinal) && !t.EndsWith("off", StringComparison.Ordinal)) push = t[8..].Trim().Split(' ')[0];
                if (t.StartsWith("Ctrl-C stops", StringComparison.Ordinal)) break;
            }
            if (api is null || of is null) throw new InvalidOperationException("tsm serve printed no api/openflow address");
            _ = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            return new TsmController(p, new Uri(api), IPEndPoint.Parse(of), h2c is null ? null : new Uri(h2c), push is null ? null : IPEndPoint.Parse(push));
        }
        catch
        {
            p.Kill(entireProcessTree: true);
            p.Dispose();
            throw;
        }
    }

    public static async Task WaitLearnedAsync(HttpClient http, Testbed bed, Action joinReference)
    {
        await UntilAsync(http, "api/v1/topology", t => t.GetProperty("switches").GetArrayLength() == 3 && t.GetProperty("links").GetArrayLength() >= 2, "3 switches and their LLDP links", 60_000);
        joinReference();
        await UntilAsync(http, "api/v1/reference-groups",
            r => r.EnumerateArray().Any(g => g.GetProperty("group").GetString() == Testbed.Reference && g.GetProperty("switches").GetArrayLength() == 3),
            "the reference group on 3 switches", 60_000);
        await UntilAsync(http, "api/v1/topology",
            t => Enumerable.Range(1, bed.Receivers).All(i => t.GetProperty("hosts").EnumerateArray().Any(h => h.GetProperty("ip").GetString() == bed.Ip(i))),
            "every receiver located", 60_000);
    }

    private static async Task UntilAsync(HttpClient http, string path, Func<JsonElement, bool> done, string what, int timeoutMs)
    {
        var sw = Stopwatch.StartNew();
        string last = "";
        for (int i = 0; i < 100_000 && sw.ElapsedMilliseconds < timeoutMs; i++)
        {
            last = await http.GetStringAsync(path);
            if (done(JsonDocument.Parse(last).RootElement)) return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"the controller did not learn {what} within {timeoutMs} ms; last {path}: {last}");
    }

    public async ValueTask DisposeAsync()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try { await _process.WaitForExitAsync(cts.Token); } catch (OperationCanceledException) { }
        _process.Dispose();
    }
}
