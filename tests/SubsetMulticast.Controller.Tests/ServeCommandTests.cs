using SubsetMulticast.Cli.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace SubsetMulticast.Controller.Tests;

/// <summary><c>tsm serve</c> as a process: it prints its bound address and answers REST on the emulated fabric.</summary>
public sealed class ServeCommandTests
{
    [Fact]
    public async Task Serve_OnAnEmulatedFabric_AnswersRestAndCreatesAGroup()
    {
        using var p = Start("serve", "--fabric", "leaf-spine:2:2:4", "--api", "http://127.0.0.1:0", "--push-udp", "127.0.0.1:0", "--quiet");
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string? apiLine = null;
            for (int i = 0; i < 20 && apiLine is null; i++)
            {
                var line = await p.StandardOutput.ReadLineAsync(cts.Token) ?? throw new Xunit.Sdk.XunitException($"serve exited: {await p.StandardError.ReadToEndAsync()}");
                if (line.TrimStart().StartsWith("api ", StringComparison.Ordinal)) apiLine = line.Trim()[3..].Trim();
            }
            Assert.NotNull(apiLine);
            using var http = new HttpClient { BaseAddress = new Uri(apiLine.Replace("api/v1/groups", "")), Timeout = TimeSpan.FromSeconds(30) };
            var topology = JsonDocument.Parse(await http.GetStringAsync("api/v1/topology", cts.Token)).RootElement;
            Assert.Equal(4, topology.GetProperty("switches").GetArrayLength());
            var host = topology.GetProperty("hosts")[0].GetProperty("ip").GetString();
            using var created = await http.PostAsJsonAsync("api/v1/groups", new { vlan = 1, reference = "239.1.0.1", members = new[] { host }, ttlMs = 5000 }, cts.Token);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }
    }

    /// <summary>--api-h2c: a second listener that speaks HTTP/2 with prior knowledge; a create over it is answered over HTTP/2 with its hops.</summary>
    [Fact]
    public async Task Serve_WithApiH2c_AnswersACreateOverHttp2WithServerTiming()
    {
        using var p = Start("serve", "--fabric", "leaf-spine:2:2:4", "--api", "http://127.0.0.1:0", "--api-h2c", "http://127.0.0.1:0", "--push-udp", "off", "--quiet");
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string? h2c = null;
            for (int i = 0; i < 20 && h2c is null; i++)
            {
                var line = await p.StandardOutput.ReadLineAsync(cts.Token) ?? throw new Xunit.Sdk.XunitException($"serve exited: {await p.StandardError.ReadToEndAsync()}");
                if (line.TrimStart().StartsWith("api-h2c ", StringComparison.Ordinal)) h2c = line.Trim()[7..].Trim();
            }
            Assert.NotNull(h2c);
            using var http = new HttpClient
            {
                BaseAddress = new Uri(h2c.Replace("api/v1/groups", "")), Timeout = TimeSpan.FromSeconds(30),
                DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            var topology = JsonDocument.Parse(await http.GetStringAsync("api/v1/topology", cts.Token)).RootElement;
            var host = topology.GetProperty("hosts")[0].GetProperty("ip").GetString();
            using var created = await http.PostAsJsonAsync("api/v1/groups", new { vlan = 1, reference = "239.1.0.1", members = new[] { host }, ttlMs = 5000 }, cts.Token);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.Equal(HttpVersion.Version20, created.Version);
            var timing = string.Join(", ", created.Headers.GetValues("Server-Timing"));
            foreach (var hop in new[] { "route;dur=", "arrive;dur=", "parse;dur=", "admit;dur=", "prepare;dur=", "total;dur=" }) Assert.Contains(hop, timing);
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }
    }

    /// <summary>SIGTERM (what systemd and docker send) stops serve as Ctrl-C does: a clean exit 0, the API closed.</summary>
    [Fact]
    public async Task Serve_OnSigterm_StopsCleanly()
    {
        using var p = Start("serve", "--fabric", "single:4", "--api", "http://127.0.0.1:0", "--push-udp", "off", "--quiet");
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            for (int i = 0; i < 20; i++)
            {
                var line = await p.StandardOutput.ReadLineAsync(cts.Token) ?? throw new Xunit.Sdk.XunitException($"serve exited: {await p.StandardError.ReadToEndAsync()}");
                if (line.Contains("Ctrl-C stops.", StringComparison.Ordinal)) break;
            }
            using (var kill = Process.Start(new ProcessStartInfo("kill", $"-TERM {p.Id}"))!)
                await kill.WaitForExitAsync(cts.Token);
            await p.WaitForExitAsync(cts.Token);
            Assert.Equal(0, p.ExitCode);
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }
    }

    /// <summary>
    /// The emulated default learns like the OpenFlow path: REST shows the reference group the controller learned
    /// from the hosts' IGMPv3 reports through the switches' control frames, equal to what the emulated switches
    /// snooped (the same fabric built here, the same joins), and hosts at their edge ports; pushed mode works on it.
    /// </summary>
    [Fact]
    public async Task Serve_OnAnEmulatedFabric_RestShowsTheReferenceGroupLearnedFromReports()
    {
        const string Spec = "leaf-spine:2:3:4";
        using var p = Start("serve", "--fabric", Spec, "--api", "http://127.0.0.1:0", "--push-udp", "off", "--mode", "pushed", "--quiet");
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string? apiLine = null, referenceLine = null;
            for (int i = 0; i < 20 && (apiLine is null || referenceLine is null); i++)
            {
                var line = await p.StandardOutput.ReadLineAsync(cts.Token) ?? throw new Xunit.Sdk.XunitException($"serve exited: {await p.StandardError.ReadToEndAsync()}");
                var t = line.Trim();
                if (t.StartsWith("api ", StringComparison.Ordinal)) apiLine = t[3..].Trim();
                if (t.StartsWith("reference ", StringComparison.Ordinal)) referenceLine = t;
            }
            Assert.NotNull(apiLine);
            Assert.Contains("learned on 4 switches", referenceLine); // 3 leaves + the root spine (reports go toward the querier)
            using var http = new HttpClient { BaseAddress = new Uri(apiLine.Replace("api/v1/groups", "")), Timeout = TimeSpan.FromSeconds(30) };

            var fabric = new SubsetMulticast.Emulator.EmulatedFabric(SubsetMulticast.Emulator.Topology.FabricSpec.Parse(Spec));
            var reference = SubsetMulticast.Core.Addressing.IpAddress.Parse("239.1.0.1");
            fabric.Announce();
            foreach (var h in fabric.Hosts) fabric.Join(h, reference);
            var snooped = new SubsetMulticast.Core.ReferenceGroups.ReferenceGroupTable(fabric.Topology);
            fabric.ExportReferenceGroups(snooped);
            Assert.True(snooped.TryGet(1, reference, out var expected));
            var want = Enumerable.Range(0, expected.SwitchCount).Select(i =>
                $"{fabric.Switches[expected.SwitchAt(i)].Name} [{string.Join(",", expected.MemberPortsAt(i).ToArray())}] [{string.Join(",", expected.RouterPortsAt(i).ToArray())}]");

            var groups = JsonDocument.Parse(await http.GetStringAsync("api/v1/reference-groups", cts.Token)).RootElement;
            var learned = Assert.Single(groups.EnumerateArray());
            Assert.Equal(1, learned.GetProperty("vlan").GetInt32());
            Assert.Equal("239.1.0.1", learned.GetProperty("group").GetString());
            var got = learned.GetProperty("switches").EnumerateArray().Select(s =>
                $"{s.GetProperty("id").GetString()} [{string.Join(",", s.GetProperty("memberPorts").EnumerateArray().Select(x => x.GetUInt32()))}] [{string.Join(",", s.GetProperty("routerPorts").EnumerateArray().Select(x => x.GetUInt32()))}]");
            Assert.Equal(want.Order(StringComparer.Ordinal), got.Order(StringComparer.Ordinal));

            var topology = JsonDocument.Parse(await http.GetStringAsync("api/v1/topology", cts.Token)).RootElement;
            var hosts = topology.GetProperty("hosts").EnumerateArray()
                .ToDictionary(h => h.GetProperty("ip").GetString()!, h => (h.GetProperty("switch").GetString(), h.GetProperty("port").GetUInt32()));
            foreach (var h in fabric.Hosts)
                Assert.Equal((fabric.Switches[h.Switch].Name, h.Port), hosts[h.Ipv4.ToString()]);

            var members = new[] { fabric.Hosts[0].Ipv4.ToString(), fabric.Hosts[^1].Ipv4.ToString() };
            using var created = await http.PostAsJsonAsync("api/v1/groups", new { vlan = 1, reference = "239.1.0.1", members, ttlMs = 5000 }, cts.Token);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var group = JsonDocument.Parse(await created.Content.ReadAsStringAsync(cts.Token)).RootElement;
            Assert.Equal(members.Order(), group.GetProperty("effective").EnumerateArray().Select(e => e.GetString()!).Order());
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }
    }

    [Theory]
    [InlineData("--mode", "sideways")]
    [InlineData("--fabric", "torus:3")]
    [InlineData("--api", "not a url")]
    [InlineData("--push-udp", "9470")]
    [InlineData("--push-keys", "abcd")]
    [InlineData("--api-h2c", "http://10.1.2.3:8081")]
    [InlineData("--api-h2c", "https://127.0.0.1:8081")]
    public async Task Serve_BadArgument_ExitsWithUsageError(string option, string value)
    {
        var (code, stderr) = await RunInProcessAsync("serve", option, value);
        Assert.Equal(2, code);
        Assert.Contains(option, stderr);
    }

    [Fact]
    public async Task ServeOpenFlow_LearnsAgentsFabric_AndProgramsThemOverRest()
    {
        using var p = Start("serve", "--openflow", "127.0.0.1:0", "--api", "http://127.0.0.1:0", "--lldp-interval", "1", "--quiet");
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string? api = null, openflow = null;
            for (int i = 0; i < 20 && (api is null || openflow is null); i++)
            {
                var line = await p.StandardOutput.ReadLineAsync(cts.Token) ?? throw new Xunit.Sdk.XunitException($"serve exited: {await p.StandardError.ReadToEndAsync()}");
                var t = line.Trim();
                if (t.StartsWith("api ", StringComparison.Ordinal)) api = t[3..].Trim().Replace("api/v1/groups", "");
                if (t.StartsWith("openflow ", StringComparison.Ordinal)) openflow = t[8..].Trim();
            }
            Assert.NotNull(api);
            Assert.NotNull(openflow);
            await using var fabric = new Support.AgentFabric();
            await fabric.ConnectAsync(IPEndPoint.Parse(openflow));
            using var http = new HttpClient { BaseAddress = new Uri(api), Timeout = TimeSpan.FromSeconds(30) };
            await OpenFlowServiceTests.UntilAsync(async () => JsonDocument.Parse(await http.GetStringAsync("api/v1/topology", cts.Token)).RootElement,
                t => t.GetProperty("switches").GetArrayLength() == 3 && t.GetProperty("links").GetArrayLength() == 2, "3 switches and 2 links from LLDP");
            await OpenFlowServiceTests.UntilAsync(() => Task.FromResult(fabric.All.All(a => a.Flows.Count(f => f.Cookie >> 48 == 0x534E) >= 9)), ok => ok, "punt flows");
            for (int h = 1; h <= 6; h++) await fabric.EmitAsync(h, Support.AgentFabric.Join(h, SubsetMulticast.Core.Addressing.IpAddress.Parse("239.1.0.1")));
            await OpenFlowServiceTests.UntilAsync(async () => JsonDocument.Parse(await http.GetStringAsync("api/v1/reference-groups", cts.Token)).RootElement,
                Support.AgentFabric.EveryJoinLearned, "the six joins learned on 3 switches");
            await OpenFlowServiceTests.UntilAsync(async () => await http.GetStringAsync("api/v1/topology", cts.Token),
                t => t.Contains("\"10.0.1.1\"", StringComparison.Ordinal) && t.Contains("\"10.0.2.3\"", StringComparison.Ordinal), "both members located");

            using var created = await http.PostAsJsonAsync("api/v1/groups", new { vlan = 0, reference = "239.1.0.1", members = new[] { "10.0.1.1", "10.0.2.3" }, ttlMs = 5000 }, cts.Token);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.All(fabric.All, a => Assert.Single(a.Groups));
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }
    }

    [Theory]
    [InlineData("--openflow", "6653")]
    [InlineData("--openflow", "127.0.0.1:0", "--fabric", "single:4")]
    [InlineData("--openflow", "127.0.0.1:0", "--vlan", "5000")]
    [InlineData("--openflow", "127.0.0.1:0", "--mode", "pushed")]
    [InlineData("--openflow", "127.0.0.1:0", "--block", "10.0.0.0/8")]
    [InlineData("--vlan", "3")]
    [InlineData("--openflow", "127.0.0.1:0", "--querier", "239.1.1.1")]
    [InlineData("--openflow", "127.0.0.1:0", "--querier", "10.0.0.254", "--querier-v6", "2001:db8::1")]
    [InlineData("--openflow", "127.0.0.1:0", "--querier-v6", "fe80::1")]
    [InlineData("--openflow", "127.0.0.1:0", "--query-response", "200")]
    [InlineData("--querier", "10.0.0.254")]
    [InlineData("--openflow-write", "pool")]
    [InlineData("--openflow", "127.0.0.1:0", "--openflow-write", "sideways")]
    [InlineData("--openflow", "127.0.0.1:0", "--etcd-timeout", "3")] // no etcd to time out
    [InlineData("--openflow", "127.0.0.1:0", "--store", "etcd=http://127.0.0.1:1", "--etcd-timeout", "0")]
    public async Task ServeOpenFlow_BadArgument_ExitsWithUsageError(params string[] args)
    {
        var (code, stderr) = await RunInProcessAsync(["serve", .. args]);
        Assert.Equal(2, code);
        Assert.Contains(args[^2], stderr);
    }

    /// <summary>
    /// The usage-error rows run the command line in this process (the same <see cref="TsmCommandLine.RunAsync"/> that
    /// Program.Main calls; CommandLineTests checks the real process's exit code): 20 dotnet start-ups were 40–60 s of
    /// this class's time on a loaded 2-core machine. A row that is not refused would start serving: the token stops it
    /// after 30 s and the exit code is then not 2.
    /// </summary>
    private static async Task<(int Code, string Stderr)> RunInProcessAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        int code = await TsmCommandLine.RunAsync(args, TextWriter.Synchronized(stdout), TextWriter.Synchronized(stderr), cts.Token);
        return (code, stderr.ToString());
    }

    private static Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(typeof(SubsetMulticast.Cli.Program).Assembly.Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }
}
