using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace SubsetMulticast.Controller.Tests.Observability;

/// <summary>
/// <c>tsm serve</c> as a process, emulated and OpenFlow: GET /metrics answers Prometheus text that promtool accepts,
/// and on the emulated fabric the counters move with what the controller did (a group created, garbage datagrams to
/// the push endpoint).
/// </summary>
public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task ServeEmulated_Metrics_PromtoolAccepts_AndCountersMoveWithGroupsAndPushes()
    {
        await using var serve = await ServeProcess.StartAsync("serve", "--fabric", "leaf-spine:2:2:4", "--api", "http://127.0.0.1:0", "--push-udp", "127.0.0.1:0", "--quiet");
        using var http = new HttpClient { BaseAddress = serve.Api, Timeout = TimeSpan.FromSeconds(30) };
        var before = await http.GetStringAsync("metrics");
        await Prometheus.CheckAsync(before);
        Assert.Equal(0, Prometheus.Sample(before, "tsm_groups_live"));

        var topology = JsonDocument.Parse(await http.GetStringAsync("api/v1/topology")).RootElement;
        var host = topology.GetProperty("hosts")[0].GetProperty("ip").GetString();
        using var created = await http.PostAsJsonAsync("api/v1/groups", new { vlan = 1, reference = "239.1.0.1", members = new[] { host }, ttlMs = 60000 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var refused = await http.PostAsJsonAsync("api/v1/groups", new { vlan = 1, reference = "239.9.9.9", members = new[] { host } });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        using (var udp = new UdpClient())
            for (int i = 0; i < 20; i++) await udp.SendAsync(new byte[] { 0xDE, 0xAD, (byte)i }, serve.PushUdp!);

        string after = "";
        for (int i = 0; i < 200; i++)   // the datagrams are read asynchronously: up to 10 s for all 20
        {
            after = await http.GetStringAsync("metrics");
            if (Prometheus.Sample(after, "tsm_push_datagrams_total") >= 20) break;
            await Task.Delay(50);
        }
        await Prometheus.CheckAsync(after);
        Assert.Equal(1, Prometheus.Sample(after, "tsm_groups_live"));
        Assert.Equal(1, Prometheus.Sample(after, "tsm_group_operations_total", "operation=\"create\"", "outcome=\"ok\""));
        Assert.Equal(1, Prometheus.Sample(after, "tsm_group_operations_total", "operation=\"create\"", "outcome=\"unknown-reference-group\""));
        Assert.Equal(1, Prometheus.Sample(after, "tsm_group_setup_duration_seconds_count"));
        Assert.Equal(20, Prometheus.Sample(after, "tsm_push_datagrams_total"));
        Assert.Equal(20, Prometheus.Sample(after, "tsm_push_instructions_total", "verdict=\"truncated\""));
        Assert.Equal(0, Prometheus.Sample(after, "tsm_push_applied_total"));
    }

    [Fact]
    public async Task ServeOpenFlow_Metrics_PromtoolAccepts()
    {
        await using var serve = await ServeProcess.StartAsync("serve", "--openflow", "127.0.0.1:0", "--api", "http://127.0.0.1:0", "--quiet");
        using var http = new HttpClient { BaseAddress = serve.Api, Timeout = TimeSpan.FromSeconds(30) };
        var text = await http.GetStringAsync("metrics");
        await Prometheus.CheckAsync(text);
        Assert.Equal(0, Prometheus.Sample(text, "tsm_openflow_switches_connected"));
        Assert.Contains("# TYPE tsm_snooping_drops_total counter", text, StringComparison.Ordinal);
    }

    /// <summary>--log-format json: every log event is one JSON object per line, with its event id and structured fields.</summary>
    [Fact]
    public async Task ServeWithJsonLogs_ARejectedDatagram_IsOneJsonLineWithItsFields()
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(typeof(SubsetMulticast.Cli.Program).Assembly.Location);
        foreach (var a in (string[])["serve", "--fabric", "single:2", "--api", "http://127.0.0.1:0", "--push-udp", "127.0.0.1:0", "--log-format", "json"])
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            IPEndPoint? push = null;
            for (int i = 0; i < 40 && push is null; i++)
            {
                var t = (await p.StandardOutput.ReadLineAsync(cts.Token) ?? throw new Xunit.Sdk.XunitException($"tsm exited: {await p.StandardError.ReadToEndAsync()}")).Trim();
                if (t.StartsWith("push-udp ", StringComparison.Ordinal)) push = IPEndPoint.Parse(t[8..].Trim().Split(' ')[0]);
            }
            Assert.NotNull(push);
            using (var udp = new UdpClient()) await udp.SendAsync(new byte[] { 1, 2, 3 }, push);
            JsonElement? rejected = null;
            for (int i = 0; i < 200 && rejected is null; i++)
            {
                var line = await p.StandardOutput.ReadLineAsync(cts.Token) ?? break_();
                if (!line.StartsWith('{')) continue;
                var e = JsonDocument.Parse(line).RootElement;
                if (e.GetProperty("EventId").GetInt32() == 303) rejected = e;
            }
            Assert.NotNull(rejected);
            Assert.Equal("Warning", rejected.Value.GetProperty("LogLevel").GetString());
            Assert.Equal("Truncated", rejected.Value.GetProperty("State").GetProperty("Verdict").GetString());
            Assert.True(DateTimeOffset.TryParse(rejected.Value.GetProperty("Timestamp").GetString(), out _));
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }

        static string break_() => throw new Xunit.Sdk.XunitException("tsm closed its output before logging the rejection");
    }

    /// <summary>tsm as a child process (ours, killed by its handle); reads the api and push-udp lines it prints.</summary>
    private sealed class ServeProcess : IAsyncDisposable
    {
        private readonly Process _p;
        private ServeProcess(Process p, Uri api, IPEndPoint? push) { _p = p; Api = api; PushUdp = push; }
        public Uri Api { get; }
        public IPEndPoint? PushUdp { get; }

        public static async Task<ServeProcess> StartAsync(params string[] args)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add(typeof(SubsetMulticast.Cli.Program).Assembly.Location);
            foreach (var a in args) psi.ArgumentList.Add(a);
            var p = Process.Start(psi)!;
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                string? api = null;
                IPEndPoint? push = null;
                for (int i = 0; i < 20; i++)
                {
                    var line = await p.StandardOutput.ReadLineAsync(cts.Token) ?? throw new Xunit.Sdk.XunitException($"tsm exited: {await p.StandardError.ReadToEndAsync()}");
                    var t = line.Trim();
                    if (t.StartsWith("api ", StringComparison.Ordinal)) api = t[3..].Trim().Replace("api/v1/groups", "", StringComparison.Ordinal);
                    if (t.StartsWith("push-udp ", StringComparison.Ordinal)) push = IPEndPoint.Parse(t[8..].Trim().Split(' ')[0]);
                    if (t.Contains("Ctrl-C stops.", StringComparison.Ordinal) || t.StartsWith("openflow ", StringComparison.Ordinal)) break;
                }
                if (api is null) throw new Xunit.Sdk.XunitException("tsm serve printed no api address");
                _ = p.StandardOutput.ReadToEndAsync();
                _ = p.StandardError.ReadToEndAsync();
                return new ServeProcess(p, new Uri(api), push);
            }
            catch
            {
                p.Kill(entireProcessTree: true);
                p.Dispose();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            try { if (!_p.HasExited) _p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try { await _p.WaitForExitAsync(cts.Token); } catch (OperationCanceledException) { }
            _p.Dispose();
        }
    }
}
