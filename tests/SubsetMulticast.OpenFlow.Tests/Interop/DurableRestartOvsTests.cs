using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Southbound;
using Xunit.Abstractions;

namespace SubsetMulticast.OpenFlow.Tests.Interop;

/// <summary>
/// Issue 12, durable groups on real peers: the controller (<c>tsm serve --openflow --store etcd=…</c>) stores its
/// groups in a real etcd started here; it is killed with SIGKILL while a sender streams to a live group, and started
/// again. Every unexpired group is back (same id, address, switches), the expired one is gone from etcd, the API
/// and the switch, and the live group's rule was never removed: Open vSwitch's group and flow packet counters keep
/// counting across the restart and the flow's age spans it; its members, and only they, still receive.
/// </summary>
[Trait("Category", "Interop")]
[Collection(OvsDaemonCollection.Name)]
public class DurableRestartOvsTests(ITestOutputHelper output)
{
    private const int UdpPort = 5012;
    private const string Reference = "239.1.0.1";

    [Fact]
    public async Task KillMinus9AndRestart_OnEtcd_KeepsLiveRulesCountingAndDropsExpired()
    {
        await using var etcd = await EtcdServer.StartAsync();
        // ovs-vswitchd in a namespace of its own: no clash with another userspace datapath on the machine.
        await using var lab = new OvsLab();
        lab.StartDatabase();
        lab.StartSwitchDaemon();
        string[] serve = ["--openflow", $"{lab.ControllerAddress}:0", "--store", $"etcd={etcd.ClientUrl}", "--lldp-interval", "1",
            // Our querier makes the hosts report again: an unsolicited report sent before the punt flows were in is lost,
            // and without a query that host would never be located.
            "--querier", "10.77.0.254", "--query-interval", "3", "--query-response", "1"];
        var tsm = await TsmServe.StartAsync(serve);
        Process? stream = null;
        try
        {
            using var http = new HttpClient { BaseAddress = tsm.Api, Timeout = TimeSpan.FromSeconds(30) };
            string br = lab.AddBridge("d", 0x21, tsm.OpenFlow.Port);
            var hosts = new Dictionary<int, string>();
            for (int i = 1; i <= 3; i++) hosts[i] = lab.AddHost(br, i, ofport: i);
            string sw = OpenFlowSession.FormatDatapathId(0x21);
            foreach (var (i, ns) in hosts) await lab.InHostAsync(ns, $"ip addr add {Reference}/32 dev {lab.Tag}i{i} autojoin");
            await Eventually.UntilAsync(() => GetJsonAsync(http, "api/v1/reference-groups"), r => r.ToString().Contains(sw, StringComparison.Ordinal), "the joins learned");
            await Eventually.UntilAsync(() => GetJsonAsync(http, "api/v1/topology"),
                t => Enumerable.Range(1, 3).All(i => t.GetProperty("hosts").EnumerateArray().Any(h => h.GetProperty("ip").GetString() == $"10.77.0.{i}")), "three hosts located");

            // The live group lives long; the doomed one's lease (3 s) runs out while the controller is dead.
            var live = await CreateAsync(http, ["10.77.0.2", "10.77.0.3"], 600_000);
            string liveGroup = live.GetProperty("group").GetString()!, liveId = live.GetProperty("id").GetString()!;
            using var ids = new OpenFlowSouthbound(new OpenFlowListener(new IPEndPoint(IPAddress.Loopback, 0)));
            uint liveGid = ids.GroupIdFor(default, IpAddress.Parse(liveGroup));

            // h1 streams to the live group from now to the end: 50 datagrams a second.
            stream = lab.StartStream(hosts[1], liveGroup, UdpPort + 1);
            var beforeKill = await Eventually.UntilAsync(() => CountersAsync(lab, br, liveGid, liveGroup), c => c.Group >= 20, "the stream counted on the switch");
            output.WriteLine($"before kill: group packets {beforeKill.Group}, flow packets {beforeKill.Flow}, flow age {beforeKill.AgeSeconds:0.0} s");

            var doomed = await CreateAsync(http, ["10.77.0.2"], 3_000);
            string doomedGroup = doomed.GetProperty("group").GetString()!, doomedId = doomed.GetProperty("id").GetString()!;
            uint doomedGid = ids.GroupIdFor(default, IpAddress.Parse(doomedGroup));
            var groups = await lab.OfctlAsync($"dump-groups {br}");
            Assert.Contains($"group_id={liveGid},", groups);
            Assert.Contains($"group_id={doomedGid},", groups);
            var stored = await EtcdKeysAsync(etcd, "/tsm/groups/");
            Assert.Contains(liveId, stored);
            Assert.Contains(doomedId, stored);

            // kill -9: no goodbye to the switch or to etcd.
            await tsm.DisposeAsync();
            var killedAt = Stopwatch.StartNew();
            await Eventually.UntilAsync(async () => await EtcdKeysAsync(etcd, "/tsm/groups/"), keys => !keys.Contains(doomedId, StringComparison.Ordinal),
                "etcd to expire the short group's lease with no controller alive", 15_000);
            output.WriteLine($"short group expired in etcd {killedAt.Elapsed.TotalSeconds:0.0} s after the kill");
            Assert.Contains(liveId, await EtcdKeysAsync(etcd, "/tsm/groups/"));
            // Nobody removed its rule: no controller is alive.
            Assert.Contains($"group_id={doomedGid},", await lab.OfctlAsync($"dump-groups {br}"));
            var whileDead = await CountersAsync(lab, br, liveGid, liveGroup);
            Assert.True(whileDead.Group > beforeKill.Group, "the switch forwards on its own while no controller is alive");

            tsm = await TsmServe.StartAsync(serve);
            var restartedAt = Stopwatch.StartNew();
            using var http2 = new HttpClient { BaseAddress = tsm.Api, Timeout = TimeSpan.FromSeconds(30) };
            lab.Vsctl($"set-controller {br} tcp:{lab.ControllerAddress}:{tsm.OpenFlow.Port}");
            var listed = await GetJsonAsync(http2, "api/v1/groups");
            output.WriteLine($"after restart: {listed}");
            var back = Assert.Single(listed.EnumerateArray());
            Assert.Equal(liveId, back.GetProperty("id").GetString());
            Assert.Equal(liveGroup, back.GetProperty("group").GetString());

            // The restarted controller reconciles the switch: the expired group's rule goes, the live one stays.
            await Eventually.UntilAsync(async () => await lab.OfctlAsync($"dump-groups {br}"), g => !g.Contains($"group_id={doomedGid},", StringComparison.Ordinal),
                "the expired group's rule removed by reconciliation", 30_000);
            Assert.Contains($"group_id={liveGid},", await lab.OfctlAsync($"dump-groups {br}"));
            var after = await CountersAsync(lab, br, liveGid, liveGroup);
            output.WriteLine($"after restart: group packets {after.Group}, flow packets {after.Flow}, flow age {after.AgeSeconds:0.0} s (controller up {restartedAt.Elapsed.TotalSeconds:0.0} s)");
            Assert.True(after.Group > whileDead.Group && after.Flow >= beforeKill.Flow,
                $"counters went back: before kill {beforeKill}, while dead {whileDead}, after restart {after}");
            Assert.True(after.AgeSeconds > killedAt.Elapsed.TotalSeconds, $"the flow ({after.AgeSeconds:0.0} s old) was re-added after the kill ({killedAt.Elapsed.TotalSeconds:0.0} s ago)");

            Kill(stream);
            stream = null;
            var got = await lab.DeliverAsync(hosts, sender: 1, listeners: [2, 3], liveGroup, UdpPort, "restarted");
            Assert.Equal([2, 3], got.Order());
            // Nobody outside the group: the expired group's address now goes the unregistered way (no member listens on it).
            using var gone = await http2.GetAsync($"api/v1/groups/{Uri.EscapeDataString(doomedId)}");
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
        finally
        {
            if (stream is not null) Kill(stream);
            await tsm.DisposeAsync();
        }
    }

    private sealed record Counters(long Group, long Flow, double AgeSeconds);

    private static async Task<Counters> CountersAsync(OvsLab lab, string br, uint gid, string group)
    {
        var stats = await lab.OfctlAsync($"dump-group-stats {br} group_id={gid}");
        long g = long.Parse(Regex.Match(stats, @"packet_count=(\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        var flows = await lab.OfctlAsync($"dump-flows {br} ip,nw_dst={group}");
        var line = flows.Split('\n').First(l => l.Contains($"group:{gid}", StringComparison.Ordinal));
        long f = long.Parse(Regex.Match(line, @"n_packets=(\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        double age = double.Parse(Regex.Match(line, @"duration=([\d.]+)s").Groups[1].Value, CultureInfo.InvariantCulture);
        return new Counters(g, f, age);
    }

    private static void Kill(Process p)
    {
        try { if (!p.HasExited) { p.Kill(entireProcessTree: true); p.WaitForExit(3000); } } catch (InvalidOperationException) { }
        p.Dispose();
    }

    private static async Task<string> EtcdKeysAsync(EtcdServer etcd, string prefix)
    {
        // The v3 JSON gateway: range over the prefix, keys only (operations.md §7).
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        string key = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(prefix));
        var end = System.Text.Encoding.UTF8.GetBytes(prefix);
        end[^1]++;
        using var r = await http.PostAsJsonAsync($"{etcd.ClientUrl}/v3/kv/range", new { key, range_end = Convert.ToBase64String(end), keys_only = true });
        var body = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
        if (!body.TryGetProperty("kvs", out var kvs)) return "";
        return string.Join('\n', kvs.EnumerateArray().Select(k => System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(k.GetProperty("key").GetString()!))));
    }

    private static async Task<JsonElement> CreateAsync(HttpClient http, string[] members, int ttlMs)
    {
        using var r = await http.PostAsJsonAsync("api/v1/groups", new { vlan = 0, reference = Reference, members, ttlMs });
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.Created, body);
        return JsonDocument.Parse(body).RootElement;
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, string path) =>
        JsonDocument.Parse(await http.GetStringAsync(path)).RootElement;
}
