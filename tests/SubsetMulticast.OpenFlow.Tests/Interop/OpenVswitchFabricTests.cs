using System.Diagnostics;
using System.Globalization;
using System.Net;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Discovery;
using SubsetMulticast.OpenFlow.Southbound;
using Xunit.Abstractions;

namespace SubsetMulticast.OpenFlow.Tests.Interop;

/// <summary>
/// Two leaves and a spine of real Open vSwitch bridges, six hosts in namespaces, every bridge on our
/// controller: LLDP discovery finds the wiring, a 3-member rendezvous group is programmed on three
/// switches in one transaction, a real UDP datagram reaches exactly the members, a refusal on one
/// switch rolls the others back, and the transaction latency is measured.
/// </summary>
[Trait("Category", "Interop")]
public class OpenVswitchFabricTests(ITestOutputHelper output)
{
    private const int UdpPort = 5008;

    [Fact]
    public async Task OpenVswitch_LeafSpineFabric_DiscoveryTransactionRollbackAndLatency()
    {
        await using var lab = new OvsLab();
        await using var listener = new OpenFlowListener(new IPEndPoint(IPAddress.Loopback, 0), new OpenFlowOptions { RequestTimeout = TimeSpan.FromSeconds(5) });
        listener.Start();
        using var sb = new OpenFlowSouthbound(listener);
        await using var discovery = new FabricDiscovery(listener, new DiscoveryOptions { LldpInterval = TimeSpan.FromSeconds(1) });
        var igmp = new System.Collections.Concurrent.ConcurrentBag<(string Switch, uint Port)>();
        listener.PacketInReceived += (s, p) =>
        {
            // Ethernet type 0x0800, IPv4 protocol 2: a punted IGMP message (the snooper's input).
            if (p.Data.Length > 23 && p.Data[12] == 0x08 && p.Data[13] == 0x00 && p.Data[23] == 2 && p.Match.InPort is { } port)
                igmp.Add((s.SwitchId, port));
        };

        lab.StartDatabase();
        lab.StartSwitchDaemon();
        int cport = listener.LocalEndpoint.Port;
        string leaf1 = lab.AddBridge("a", 0x11, cport), leaf2 = lab.AddBridge("b", 0x12, cport), spine = lab.AddBridge("c", 0x21, cport);
        var hosts = new Dictionary<int, string>();
        for (int i = 1; i <= 3; i++) hosts[i] = lab.AddHost(leaf1, i, ofport: i);
        for (int i = 4; i <= 6; i++) hosts[i] = lab.AddHost(leaf2, i, ofport: i - 3);
        lab.Link(leaf1, 10, spine, 1, 1);
        lab.Link(leaf2, 10, spine, 2, 2);
        string l1 = OpenFlowSession.FormatDatapathId(0x11), l2 = OpenFlowSession.FormatDatapathId(0x12), sp = OpenFlowSession.FormatDatapathId(0x21);

        await Until(() => new[] { l1, l2, sp }.All(id => listener.TryGetSwitch(id, out _)), "three handshakes", 20_000);
        // Punt flows present on every bridge.
        Assert.Contains("cookie=0x534e", lab.Ofctl($"dump-flows {spine}"));
        Assert.Contains("dl_type=0x88cc", lab.Ofctl($"dump-flows {spine}"));

        // LLDP discovery: exactly the four directions of the two inter-switch links.
        var expected = new[]
        {
            new SwitchLink(l1, 10, sp, 1), new SwitchLink(sp, 1, l1, 10),
            new SwitchLink(l2, 10, sp, 2), new SwitchLink(sp, 2, l2, 10),
        };
        await Until(() => expected.All(discovery.Links.Contains), "LLDP discovery of 4 link directions", 20_000);
        foreach (var l in discovery.Links) output.WriteLine($"link {l}");
        Assert.Equal(4, discovery.Links.Count);

        // One transaction on three switches: members h2 (leaf1), h5 and h6 (leaf2); sender h1.
        var group = IpAddress.Parse("239.77.1.1");
        var vlan = new VlanId(0);
        List<SwitchChange> Plan(IpAddress g, bool install) =>
        [
            new(l1, install ? null : new GroupRule(vlan, g, [2, 10]), install ? new GroupRule(vlan, g, [2, 10]) : null),
            new(sp, install ? null : new GroupRule(vlan, g, [2]), install ? new GroupRule(vlan, g, [2]) : null),
            new(l2, install ? null : new GroupRule(vlan, g, [2, 3]), install ? new GroupRule(vlan, g, [2, 3]) : null),
        ];
        var result = await sb.ApplyAsync(Plan(group, install: true), default);
        Assert.True(result.Succeeded, string.Join("; ", result.Failures));
        uint gid = sb.GroupIdFor(vlan, group);
        foreach (var br in new[] { leaf1, spine, leaf2 })
        {
            string g = lab.Ofctl($"dump-groups {br}");
            output.WriteLine($"{br}: {g.Trim()}");
            Assert.Contains($"group_id={gid},type=all", g);
        }
        var got = lab.Deliver(hosts, sender: 1, listeners: [2, 3, 4, 5, 6], group.ToString(), UdpPort, "fabric");
        output.WriteLine($"received by hosts [{string.Join(',', got)}]");
        Assert.Equal([2, 5, 6], got.Order());
        // The receivers' kernel IGMP joins reached the controller as packet-ins from their access ports.
        await Until(() => igmp.Contains((l1, 2u)) && igmp.Contains((l2, 2u)) && igmp.Contains((l2, 3u)), "IGMP packet-ins from h2, h5, h6", 10_000);
        output.WriteLine($"IGMP packet-ins: {string.Join(' ', igmp.Distinct().Order())}");

        // A refusal on the spine (the group id is already taken there) fails the transaction; the leaves are rolled back.
        var other = IpAddress.Parse("239.77.1.2");
        uint otherGid = sb.GroupIdFor(vlan, other);
        lab.Ofctl($"add-group {spine} group_id={otherGid},type=all,bucket=output:1");
        var refused = await sb.ApplyAsync(Plan(other, install: true), default);
        output.WriteLine($"refused: {string.Join("; ", refused.Failures)}");
        Assert.False(refused.Succeeded);
        Assert.Equal(sp, Assert.Single(refused.Failures).SwitchId);
        Assert.Contains("GROUP_MOD_FAILED/GROUP_EXISTS", refused.Failures[0].Reason);
        Assert.DoesNotContain($"group_id={otherGid}", lab.Ofctl($"dump-groups {leaf1}"));
        Assert.DoesNotContain($"group_id={otherGid}", lab.Ofctl($"dump-groups {leaf2}"));
        Assert.DoesNotContain("239.77.1.2", lab.Ofctl($"dump-flows {leaf1}"));
        lab.Ofctl($"del-groups {spine} group_id={otherGid}");

        // Latency: ApplyAsync → last barrier reply, 3-member group on the three bridges; then release.
        int n = int.TryParse(Environment.GetEnvironmentVariable("OF_BENCH_GROUPS"), out var v) ? v : 200;
        var install = new List<double>(n);
        var release = new List<double>(n);
        var total = Stopwatch.StartNew();
        for (int i = 0; i < n && total.Elapsed < TimeSpan.FromSeconds(120); i++)
        {
            var g = IpAddress.FromV4(0xEF4E0000u + (uint)i);
            var sw = Stopwatch.StartNew();
            Assert.True((await sb.ApplyAsync(Plan(g, install: true), default)).Succeeded);
            install.Add(sw.Elapsed.TotalMilliseconds);
            sw.Restart();
            Assert.True((await sb.ApplyAsync(Plan(g, install: false), default)).Succeeded);
            release.Add(sw.Elapsed.TotalMilliseconds);
        }
        double cycles = install.Count / total.Elapsed.TotalSeconds;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"BENCH {DateTime.UtcNow:yyyy-MM-dd} {Environment.MachineName} {Environment.ProcessorCount} cores: {install.Count} groups x 3 OVS bridges; install median {Pct(install, 50):0.00} ms p99 {Pct(install, 99):0.00} ms; release median {Pct(release, 50):0.00} ms p99 {Pct(release, 99):0.00} ms; {cycles:0.0} create+release cycles/s"));
        Assert.True(install.Count >= Math.Min(n, 20));

        // Release the first group: nobody receives.
        Assert.True((await sb.ApplyAsync(Plan(group, install: false), default)).Succeeded);
        Assert.DoesNotContain($"group_id={gid}", lab.Ofctl($"dump-groups {spine}"));
        Assert.Empty(lab.Deliver(hosts, sender: 1, listeners: [2, 5, 6], group.ToString(), UdpPort, "released"));
    }

    private static double Pct(List<double> xs, int p)
    {
        var s = xs.Order().ToList();
        return s[Math.Min(s.Count - 1, (int)Math.Ceiling(p / 100.0 * s.Count) - 1)];
    }

    private static async Task Until(Func<bool> condition, string what, int timeoutMs)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        for (int i = 0; i < 100_000 && !condition(); i++)
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out after {timeoutMs} ms waiting for {what}");
            await Task.Delay(20);
        }
    }
}
