using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SubsetMulticast.Cli.CommandLine;
using SubsetMulticast.Snmp.LinuxBridge;
using SubsetMulticast.Snmp.Tests.Support;

namespace SubsetMulticast.Snmp.Tests.Kernel;

/// <summary>
/// The whole product on the kernel: two snooping bridges, each behind its own snmpd and a `tsm bridge-agent` process;
/// hosts join a reference group with real IGMP; `tsm serve --snmp FILE` learns it through dot1qTpGroupTable; a REST
/// rendezvous group becomes static MDB entries and a real datagram reaches exactly the members; DELETE removes them.
/// </summary>
[Collection("kernel")]
public sealed class ServeSnmpKernelTests : IAsyncLifetime
{
    private const string Reference = "239.1.0.1";
    private KernelFabric _k = null!;
    private Snmpd _snmpdA = null!, _snmpdB = null!;
    private readonly List<Process> _agents = [];
    private string _brA = "", _brB = "";
    private readonly Dictionary<string, (string Ns, string Port)> _hosts = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("tsm-serve-snmp-").FullName;

    public Task InitializeAsync()
    {
        _k = new KernelFabric();
        _brA = _k.Bridge("a", querierIp: "10.78.0.254");
        _brB = _k.Bridge("b");
        _k.Link(_brA, _brB, "ab");
        _hosts["h1"] = _k.Host(_brA, "h1", "10.78.0.1");
        _hosts["h2"] = _k.Host(_brA, "h2", "10.78.0.2");
        _hosts["h3"] = _k.Host(_brB, "h3", "10.78.0.3");
        _hosts["h4"] = _k.Host(_brB, "h4", "10.78.0.4");
        _snmpdA = new Snmpd(agentX: true);
        _snmpdB = new Snmpd(agentX: true);
        _agents.Add(StartTsm("bridge-agent", "--bridge", _brA, "--agentx", $"tcp:127.0.0.1:{_snmpdA.AgentXPort}"));
        _agents.Add(StartTsm("bridge-agent", "--bridge", _brB, "--agentx", $"tcp:127.0.0.1:{_snmpdB.AgentXPort}"));
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        foreach (var p in _agents)
        {
            try { if (!p.HasExited) { p.Kill(); p.WaitForExit(5000); } } catch (InvalidOperationException) { }
            p.Dispose();
        }
        _snmpdA.Dispose();
        _snmpdB.Dispose();
        _k.Dispose();
        Directory.Delete(_dir, true);
        return Task.CompletedTask;
    }

    /// <summary>Runs the real tsm (built beside this test) and waits for its "registered" line.</summary>
    private static Process StartTsm(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "tsm.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        for (int i = 0; i < 10; i++)
        {
            var line = p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
            if (line is null) Assert.Fail("tsm bridge-agent exited: " + p.StandardError.ReadToEnd());
            if (line.Contains("registered", StringComparison.Ordinal)) return p;
        }
        Assert.Fail("tsm bridge-agent did not register");
        return p;
    }

    private static string Mac(string ns) =>
        JsonDocument.Parse(KernelFabric.Sh("ip", "netns", "exec", ns, "ip", "-j", "link", "show", "eth0")).RootElement[0].GetProperty("address").GetString()!;

    private Dictionary<string, int> Deliver(string group, params string[] receivers)
    {
        var captures = receivers.ToDictionary(r => r, r => _k.Start(_hosts[r].Ns, KernelFabric.CaptureScript, "40011"));
        return _k.Deliver(_hosts["h1"].Ns, "10.78.0.1", group, 40011, 3, captures);
    }

    [Fact]
    public async Task ServeSnmp_LearnsTheReference_ProgramsTheRendezvousGroup_AndDeleteRemovesIt()
    {
        foreach (var h in new[] { "h2", "h3", "h4" }) _k.Start(_hosts[h].Ns, KernelFabric.JoinScript, Reference, $"10.78.0.{h[1]}");
        // The switch list: A over v3 (keys from the environment), B over v2c (community from a file). No secret in it.
        var tag = _k.Tag;
        Environment.SetEnvironmentVariable($"TSM_TEST_AUTH_{tag}", "authpass512");
        Environment.SetEnvironmentVariable($"TSM_TEST_PRIV_{tag}", "privpass512");
        File.WriteAllText(Path.Combine(_dir, "community"), "private\n");
        var file = Path.Combine(_dir, "switches.txt");
        File.WriteAllLines(file,
        [
            $"switch A 127.0.0.1:{_snmpdA.Port} v3 user=u512 auth=SHA-512 auth-key=env:TSM_TEST_AUTH_{tag} priv=AES-256 priv-key=env:TSM_TEST_PRIV_{tag}",
            $"switch B 127.0.0.1:{_snmpdB.Port} v2c community=file:community",
            $"link A:{PortNo(_brA, $"tlaba{tag}")} B:{PortNo(_brB, $"tlabb{tag}")}",
            .. new[] { "h2", "h3", "h4" }.Select(h => $"host 10.78.0.{h[1]} {Mac(_hosts[h].Ns)}"),
            $"reference {Reference}",
            "vlan 0",
            "poll 1",
        ]);
        int apiPort = Snmpd.FreeTcpPort();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var serve = Task.Run(() => TsmCommandLine.RunAsync(["serve", "--snmp", file, "--api", $"http://127.0.0.1:{apiPort}", "--quiet", "--audit-interval", "1"], TextWriter.Synchronized(stdout), TextWriter.Synchronized(stderr), cts.Token));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{apiPort}/api/v1/") };
        try
        {
            // Ready, and the reference group learned on both switches through dot1qTpGroupTable (bounded: 30 s).
            JsonElement group = default;
            for (int i = 0; i < 150; i++)
            {
                if (serve.IsCompleted) Assert.Fail($"serve exited {await serve}: {stderr}{stdout}");
                try
                {
                    var post = await http.PostAsJsonAsync("groups", new { vlan = 0, reference = Reference, members = new[] { "10.78.0.2", "10.78.0.3" }, ttlMs = 120_000 });
                    if (post.IsSuccessStatusCode) { group = JsonDocument.Parse(await post.Content.ReadAsStringAsync()).RootElement; break; }
                }
                catch (HttpRequestException) { }
                await Task.Delay(200);
            }
            Assert.True(group.ValueKind == JsonValueKind.Object, $"no group was created: {stderr}{stdout}");
            Assert.DoesNotContain("authpass512", stdout.ToString() + stderr);
            Assert.DoesNotContain("private", stdout.ToString() + stderr);
            Assert.Empty(group.GetProperty("ignored").EnumerateArray());
            var address = group.GetProperty("group").GetString()!;
            var id = group.GetProperty("id").GetString()!;

            // The rows live in the kernel and in snmpwalk, and a datagram reaches exactly h2 and h3.
            Assert.Contains($"\"grp\":\"{address}\",\"state\":\"permanent\"", KernelFabric.Sh("bridge", "-j", "mdb", "show", "dev", _brA));
            Assert.Contains($"\"grp\":\"{address}\",\"state\":\"permanent\"", KernelFabric.Sh("bridge", "-j", "mdb", "show", "dev", _brB));
            var (code, walk, err) = _snmpdB.Tool("snmpwalk", "-On", "-v2c", "-c", "public", $"127.0.0.1:{_snmpdB.Port}", "1.3.6.1.2.1.17.7.1.3.2.1.5");
            Assert.True(code == 0, err);
            Assert.Contains("= INTEGER: 3", walk);
            var got = Deliver(address, "h2", "h3", "h4");
            Assert.Equal(3, got["h2"]);
            Assert.Equal(3, got["h3"]);
            Assert.Equal(0, got["h4"]);

            // --audit-interval 1: the periodic audit reads both switches' static multicast tables back and finds the group's row on each.
            long matched = -1;
            for (int i = 0; i < 50 && matched < 2; i++)
            {
                var metrics = await http.GetStringAsync(new Uri($"http://127.0.0.1:{apiPort}/metrics"));
                var m = System.Text.RegularExpressions.Regex.Match(metrics, @"^tsm_audit_rules\{[^}]*category=""matched""[^}]*\} (\d+)", System.Text.RegularExpressions.RegexOptions.Multiline);
                matched = m.Success ? long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : -1;
                if (matched < 2) await Task.Delay(200);
            }
            Assert.True(matched >= 2, $"the periodic SNMP audit matched {matched} rules, expected the group's row on both switches");

            // DELETE removes them from both bridges.
            var del = await http.DeleteAsync($"groups/{id}");
            Assert.True(del.IsSuccessStatusCode, await del.Content.ReadAsStringAsync());
            Assert.DoesNotContain(address, KernelFabric.Sh("bridge", "-j", "mdb", "show", "dev", _brA));
            Assert.DoesNotContain(address, KernelFabric.Sh("bridge", "-j", "mdb", "show", "dev", _brB));
        }
        finally
        {
            await cts.CancelAsync();
            int exit = await serve;
            Assert.True(exit == 0, $"serve exited {exit} when stopped: {stderr}");
        }
    }

    private static uint PortNo(string bridge, string port) => new LinuxBridgeState(bridge).Ports().Single(p => p.Name == port).Number;
}
