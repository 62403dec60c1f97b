using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace SubsetMulticast.OpenFlow.Tests.Interop;

/// <summary>
/// Real Open vSwitch on <c>ssl:</c> controllers (<c>ovs-vsctl set-ssl</c>, certificates from <c>ovs-pki</c>) against the real
/// <c>tsm serve --openflow … --openflow-cert … --openflow-ca …</c>: the OVS scenario over TLS (hosts join the reference
/// group, a group for two of them, a datagram reaches exactly those two), then the same bridge with a switch certificate
/// from another PKI is refused and never becomes a switch of the controller.
/// </summary>
[Trait("Category", "Interop")]
[Collection(OvsSecondLaneCollection.Name)]
public class OpenVswitchTlsTests(ITestOutputHelper output)
{
    private const string Reference = "239.1.0.1";
    private const int UdpPort = 5009;

    [Fact]
    public async Task TsmServe_OverSsl_OvsConnectsWithItsCertificate_GroupReachesExactlyTheMembers_OtherCaRefused()
    {
        var (pki, other) = await OvsPki.SharedAsync();
        await using var lab = new OvsLab(); // a datapath of its own while other OVS labs run on the machine
        lab.StartDatabase();
        lab.StartSwitchDaemon();
        await using var tsm = await TsmServe.StartAsync("--openflow", $"{lab.ControllerAddress}:0", "--lldp-interval", "1",
            "--openflow-cert", pki.ControllerCert, "--openflow-key", pki.ControllerKey, "--openflow-ca", pki.SwitchCa);
        using var http = new HttpClient { BaseAddress = tsm.Api, Timeout = TimeSpan.FromSeconds(30) };

        lab.Vsctl($"set-ssl {pki.SwitchKey} {pki.SwitchCert} {pki.ControllerCa}");
        string br = lab.AddBridge("t", 0x21, tsm.OpenFlow.Port, scheme: "ssl");
        var hosts = new Dictionary<int, string>();
        for (int i = 1; i <= 4; i++) hosts[i] = lab.AddHost(br, i, ofport: i);
        await Eventually.UntilAsync(() => Task.FromResult(lab.Vsctl($"--columns=target,is_connected list controller")), s => s.Contains("true", StringComparison.Ordinal),
            "OVS connected over ssl:", 30_000, () => lab.LogTail("vswitchd.log", 20));
        output.WriteLine(lab.Vsctl("--columns=target,is_connected,status list controller"));
        var topology = await Eventually.UntilAsync(() => GetJsonAsync(http, "api/v1/topology"), t => t.GetProperty("switches").GetArrayLength() == 1, "the switch over TLS", 30_000);
        Assert.Equal("0000000000000021", topology.GetProperty("switches")[0].GetProperty("id").GetString());

        foreach (var (i, ns) in hosts) await lab.InHostAsync(ns, $"ip addr add {Reference}/32 dev {lab.Tag}i{i} autojoin");
        await Eventually.UntilAsync(() => GetJsonAsync(http, "api/v1/topology"),
            t => Enumerable.Range(1, 4).All(i => t.GetProperty("hosts").EnumerateArray().Any(h => h.GetProperty("ip").GetString() == $"10.77.0.{i}")), "four hosts located", 20_000);
        await Eventually.UntilAsync(() => GetJsonAsync(http, "api/v1/reference-groups"),
            r => r.EnumerateArray().Any(g => g.GetProperty("group").GetString() == Reference && g.ToString().Contains("[1,2,3,4]", StringComparison.Ordinal)),
            "the four joins learned", 20_000);

        using var created = await http.PostAsJsonAsync("api/v1/groups", new { vlan = 0, reference = Reference, members = new[] { "10.77.0.2", "10.77.0.3" }, ttlMs = 600_000 });
        string body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, body);
        string group = JsonDocument.Parse(body).RootElement.GetProperty("group").GetString()!;
        var got = await lab.DeliverAsync(hosts, sender: 1, listeners: [2, 3, 4], group, UdpPort, "tls");
        output.WriteLine($"over TLS, received by hosts [{string.Join(',', got)}]");
        Assert.Equal([2, 3], got.Order());

        // The same switch with a certificate from another PKI: the controller refuses the handshake; it never connects again.
        Assert.Equal(1, await ConnectedSwitchesAsync(http));
        lab.Vsctl($"set-ssl {other.SwitchKey} {other.SwitchCert} {pki.ControllerCa}");
        lab.Vsctl($"del-controller {br}");
        await Eventually.UntilAsync(() => ConnectedSwitchesAsync(http), n => n == 0, "the switch's session closed", 30_000);
        string log = Path.Combine(lab.Dir, "vswitchd.log");
        int logBefore = File.ReadAllLines(log).Length;
        lab.Vsctl($"set-controller {br} ssl:{lab.ControllerAddress}:{tsm.OpenFlow.Port}");
        // OVS retries with backoff (1 s, 2 s, 4 s …): every attempt ends in the handshake ("connection failed" / "dropped");
        // the controller never gets a session.
        string target = $"ssl:{lab.ControllerAddress}:{tsm.OpenFlow.Port}";
        await Eventually.UntilAsync(() => Task.FromResult(File.ReadAllLines(log).Skip(logBefore).ToArray()),
            lines => lines.Count(x => x.Contains(target, StringComparison.Ordinal)
                && (x.Contains("connection failed", StringComparison.Ordinal) || x.Contains("connection dropped", StringComparison.Ordinal))) >= 2,
            "two refused attempts in OVS's log", 30_000);
        var deadline = DateTime.UtcNow.AddSeconds(8);
        while (DateTime.UtcNow < deadline)
        {
            Assert.Equal(0, await ConnectedSwitchesAsync(http));
            Assert.DoesNotContain("true", lab.Vsctl("--columns=is_connected list controller"), StringComparison.Ordinal);
            await Task.Delay(500);
        }
        output.WriteLine(lab.Vsctl("--columns=target,is_connected,status list controller"));
        output.WriteLine(string.Join('\n', lab.LogTail("vswitchd.log", 300).Split('\n').Where(l => l.Contains("ssl", StringComparison.OrdinalIgnoreCase)).TakeLast(6)));
        Assert.False(tsm.HasExited);
    }

    /// <summary>The controller's own count of switches with a session (tsm_openflow_switches_connected on /metrics).</summary>
    private static async Task<int> ConnectedSwitchesAsync(HttpClient http)
    {
        var m = System.Text.RegularExpressions.Regex.Match(await http.GetStringAsync("metrics"), @"^tsm_openflow_switches_connected(\{[^}]*\})? (\S+)", System.Text.RegularExpressions.RegexOptions.Multiline);
        Assert.True(m.Success, "no tsm_openflow_switches_connected on /metrics");
        return (int)double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, string path) =>
        JsonDocument.Parse(await http.GetStringAsync(path)).RootElement;
}
