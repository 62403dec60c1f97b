using System.Collections.Concurrent;
using System.Net;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.ReferenceGroups;
using SubsetMulticast.Emulator.OpenFlow;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Discovery;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.OpenFlow.Southbound;
using SubsetMulticast.Packets;
using SubsetMulticast.Packets.Ethernet;
using SubsetMulticast.Packets.Igmp;
using SubsetMulticast.Packets.Ip;
using OfLink = SubsetMulticast.OpenFlow.Discovery.SwitchLink;

namespace SubsetMulticast.Emulator.Tests.OpenFlow;

/// <summary>
/// The emulator as a fabric of OpenFlow switches, against the controller's own OpenFlow pieces (listener,
/// discovery, southbound) over TCP on loopback: handshakes, punt flows, LLDP across every link (blocked
/// ones too), IGMP punted from the port toward the joining host, group rules carrying a datagram to exactly
/// the members, and NORMAL flooding when no rule exists.
/// </summary>
public sealed class OpenFlowFabricTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly IpAddress Reference = IpAddress.Parse("239.1.0.1");

    /// <summary>A listener, discovery and southbound on 127.0.0.1:0 plus an emulated fabric connected to them.</summary>
    internal sealed class Rig : IAsyncDisposable
    {
        public required OpenFlowListener Listener { get; init; }
        public required FabricDiscovery Discovery { get; init; }
        public required OpenFlowSouthbound Southbound { get; init; }
        public required OpenFlowFabric Fabric { get; init; }
        /// <summary>(switch id, in port, group) of every punted IGMPv3 join.</summary>
        public required ConcurrentDictionary<(string Switch, uint Port, IpAddress Group), int> Joins { get; init; }

        public static async Task<Rig> StartAsync(FabricSpec spec)
        {
            var listener = new OpenFlowListener(new IPEndPoint(IPAddress.Loopback, 0), new OpenFlowOptions { HandshakeTimeout = TimeSpan.FromSeconds(20) });
            listener.Start();
            var joins = new ConcurrentDictionary<(string, uint, IpAddress), int>();
            listener.PacketInReceived += (s, p) => RecordJoins(joins, s.SwitchId, p);
            var discovery = new FabricDiscovery(listener, new DiscoveryOptions { LldpInterval = TimeSpan.FromSeconds(1) });
            var southbound = new OpenFlowSouthbound(listener);
            var fabric = await OpenFlowFabric.ConnectAsync(new EmulatedFabric(spec), listener.LocalEndpoint);
            return new Rig { Listener = listener, Discovery = discovery, Southbound = southbound, Fabric = fabric, Joins = joins };
        }

        private static void RecordJoins(ConcurrentDictionary<(string, uint, IpAddress), int> joins, string sw, PacketIn p)
        {
            if (p.Match.InPort is not { } port || !EthernetFrame.TryRead(p.Data.Span, out var eth) || eth.EtherType != EtherTypes.Ipv4) return;
            if (!IpPacket.TryRead(eth.Payload, eth.EtherType, out var ip) || ip.Protocol != IpProtocols.Igmp) return;
            if (!IgmpMessage.TryReadPacket(in ip, out var igmp) || igmp.Type != IgmpType.V3MembershipReport) return;
            foreach (var r in igmp.Records)
                if (r.Type == GroupRecordType.ChangeToExclude) joins.AddOrUpdate((sw, port, r.Group), 1, (_, n) => n + 1);
        }

        public async Task ConnectedAndDiscoveredAsync()
        {
            var f = Fabric.Fabric;
            await Eventually.UntilAsync(() => f.Switches.All(s => Listener.TryGetSwitch(OpenFlowFabric.SwitchIdOf(s), out _)), Wait, "every handshake");
            await Eventually.UntilAsync(() => f.Switches.All(Fabric.PuntsIgmp), Wait, "punt flows on every switch");
            await Eventually.UntilAsync(() => Discovery.Links.Count == 2 * f.Spec.Links.Count, Wait, "LLDP discovery of every link direction");
        }

        public async ValueTask DisposeAsync()
        {
            await Fabric.DisposeAsync();
            Southbound.Dispose();
            await Discovery.DisposeAsync();
            await Listener.DisposeAsync();
        }
    }

    [Fact]
    public async Task Connect_LeafSpine_EverySwitchHandshakesGetsPuntFlowsAndLldpFindsEveryLinkIncludingBlockedOnes()
    {
        var spec = FabricSpec.LeafSpine(2, 4, 2, vlan: 0, ipv6: false);
        await using var rig = await Rig.StartAsync(spec);
        await rig.ConnectedAndDiscoveredAsync();

        var f = rig.Fabric.Fabric;
        Assert.Equal(f.Switches.Count, rig.Fabric.ConnectedCount);
        // Ports as the controller sees them: numbered as in the emulator, named SWITCH-pN, unplugged ones down.
        Assert.True(rig.Listener.TryGetSwitch(OpenFlowFabric.SwitchIdOf(f.Switch("leaf2")), out var leaf2));
        Assert.Equal(["leaf2-p1", "leaf2-p2", "leaf2-p3", "leaf2-p4"], leaf2.Ports.Values.OrderBy(p => p.PortNo).Select(p => p.Name));
        Assert.All(leaf2.Ports.Values, p => Assert.True(p.IsUp));

        // Exactly the spec's links, both directions, by datapath id and port: spine2's links are all blocked
        // by spanning tree except one, and LLDP still crosses them.
        var expected = spec.Links.SelectMany(l =>
        {
            string a = OpenFlowFabric.SwitchIdOf(f.Switch(l.SwitchA)), b = OpenFlowFabric.SwitchIdOf(f.Switch(l.SwitchB));
            return new[] { new OfLink(a, l.PortA, b, l.PortB), new OfLink(b, l.PortB, a, l.PortA) };
        }).ToHashSet();
        Assert.Equal(expected, rig.Discovery.Links.ToHashSet());
        Assert.Contains(f.Switches, s => Enumerable.Range(1, s.PortCount).Any(p => !f.Topology.Tree.IsTreePort(s.Index, (uint)p) && f.Topology.Links.Any(l => l.A == new PortRef(s.Index, (uint)p))));
        Assert.Equal(0, rig.Fabric.PacketInsDropped);
    }

    [Fact]
    public async Task Join_RealIgmpV3Report_IsPuntedByEverySwitchFromThePortTowardTheHost()
    {
        var spec = FabricSpec.LeafSpine(2, 4, 2, vlan: 0, ipv6: false);
        await using var rig = await Rig.StartAsync(spec);
        await rig.ConnectedAndDiscoveredAsync();
        var f = rig.Fabric.Fabric;
        var host = f.Host("h3-2");

        var report = f.Join(host, Reference);

        // NORMAL without snooping floods the report on the tree: every other host's NIC sees it once.
        Assert.Equal(f.Hosts.Count - 1, report.HostsReached().Count());
        Assert.Equal(1, report.MaxCopiesPerLinkPerFrame);
        var tree = f.Topology.Tree;
        var at = new PortRef(host.Switch, host.Port);
        var expected = f.Switches.Select(s => (OpenFlowFabric.SwitchIdOf(s), tree.PortToward(s.Index, at), Reference)).ToHashSet();
        await Eventually.UntilAsync(() => rig.Joins.Count >= expected.Count, Wait, "a punted join from every switch");
        Assert.Equal(expected, rig.Joins.Keys.ToHashSet());
        Assert.All(rig.Joins.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task GroupRules_FromPuntedJoins_CarryOneDatagramToExactlyTheMembersAndReleaseFallsBackToFlooding()
    {
        var spec = FabricSpec.LeafSpine(2, 4, 3, vlan: 0, ipv6: false);
        await using var rig = await Rig.StartAsync(spec);
        await rig.ConnectedAndDiscoveredAsync();
        var f = rig.Fabric.Fabric;
        f.Announce();
        foreach (var h in f.Hosts) f.Join(h, Reference);
        await rig.Fabric.WaitForPacketInsSentAsync(Wait);
        await Eventually.UntilAsync(() => rig.Joins.Count >= MemberPortCount(f), Wait, "punted joins");

        // The controller's model from what the switches told it: topology by datapath id, member ports from the punted joins.
        var topology = new FabricTopology(
            [.. f.Topology.Switches.Select(s => s with { Id = OpenFlowFabric.SwitchIdOf(f.Switches[s.Index]) })], f.Topology.Links);
        var refs = new ReferenceGroupTable(topology);
        foreach (var s in f.Switches)
        {
            string id = OpenFlowFabric.SwitchIdOf(s);
            refs.SetRouterPorts(0, s.Index, []); // OVS floods unregistered multicast: no switch may be left without a rule
            refs.SetMemberPorts(0, Reference, s.Index, rig.Joins.Keys.Where(k => k.Switch == id && k.Group == Reference).Select(k => k.Port));
        }
        var hosts = new HostTable();
        f.ExportHosts(hosts);
        var lifecycle = new GroupLifecycle(new LifecycleOptions().AddVlan(0, "239.255.0.0/24"), refs, hosts, new InMemoryGroupStore(), TimeProvider.System);
        var members = new[] { f.Host("h1-2"), f.Host("h3-1"), f.Host("h4-3") };
        var sender = f.Host("h2-1");
        var tx = lifecycle.PrepareCreate(new CreateGroupRequest(0, Reference, [.. members.Select(m => m.Ipv4)])).Value!;
        var applied = await rig.Southbound.ApplyAsync(tx.Changes, default);
        Assert.True(applied.Succeeded, string.Join("; ", applied.Failures));
        lifecycle.Commit(tx);
        var group = tx.After!.Address;

        // Group tables hold exactly the planned rules.
        foreach (var s in f.Switches)
        {
            var planned = tx.Changes.SingleOrDefault(c => c.SwitchId == OpenFlowFabric.SwitchIdOf(s))?.Next;
            var groups = rig.Fabric.Agent(s).Groups.Values.ToList();
            if (planned is null) { Assert.Empty(groups); continue; }
            var g = Assert.Single(groups);
            Assert.Equal(planned.Ports.Order(), g.Buckets.SelectMany(b => b.Actions).OfType<OutputAction>().Select(o => o.Port).Order());
        }

        var delivered = f.SendUdp(sender, group, "chunk"u8);
        Assert.Equal(members.Select(m => m.Index).Order(), delivered.HostsReached().Order());
        Assert.Equal(1, delivered.MaxCopiesPerLinkPerFrame);

        var release = lifecycle.PrepareRelease(tx.After.Id).Value!;
        Assert.True((await rig.Southbound.ApplyAsync(release.Changes, default)).Succeeded);
        lifecycle.Commit(release);
        Assert.All(rig.Fabric.Agents, a => Assert.Empty(a.Groups));
        // No rule left: the switches forward the group as OVS's NORMAL does, flooding on the tree.
        var flooded = f.SendUdp(sender, group, "chunk"u8);
        Assert.Equal(f.Hosts.Count - 1, flooded.HostsReached().Count());
        Assert.Equal(1, flooded.MaxCopiesPerLinkPerFrame);
    }

    [Fact]
    public async Task DataPlane_DatagramThroughGroupFlows_AllocatesNothingPerFrame()
    {
        var spec = FabricSpec.LeafSpine(2, 4, 2, vlan: 0, ipv6: false);
        await using var rig = await Rig.StartAsync(spec);
        await rig.ConnectedAndDiscoveredAsync();
        var f = rig.Fabric.Fabric;
        var group = IpAddress.Parse("239.255.0.9");
        var leaf1 = f.Switch("leaf1");
        var spine1 = f.Switch("spine1");
        var leaf4 = f.Switch("leaf4");
        // h1-1 → leaf1 → spine1 → leaf4 → h4-2, by hand-written rules.
        var changes = new[]
        {
            new SubsetMulticast.Core.Southbound.SwitchChange(OpenFlowFabric.SwitchIdOf(leaf1), null, new SubsetMulticast.Core.Southbound.GroupRule(0, group, [f.Topology.Tree.RootPort(leaf1.Index)])),
            new SubsetMulticast.Core.Southbound.SwitchChange(OpenFlowFabric.SwitchIdOf(spine1), null, new SubsetMulticast.Core.Southbound.GroupRule(0, group, [4])),
            new SubsetMulticast.Core.Southbound.SwitchChange(OpenFlowFabric.SwitchIdOf(leaf4), null, new SubsetMulticast.Core.Southbound.GroupRule(0, group, [2])),
        };
        Assert.True((await rig.Southbound.ApplyAsync(changes, default)).Succeeded);
        var sender = f.Host("h1-1");
        var report = f.SendUdp(sender, group, "warm-up"u8);
        Assert.Equal([f.Host("h4-2").Index], report.HostsReached());

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) f.SendUdp(sender, group, "chunk"u8, report);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(1001, report.FramesPerHost[f.Host("h4-2").Index]);
        Assert.Equal(1001, report.FramesSent);
    }

    /// <summary>Every (switch, port-toward-a-host) pair: the member ports snooping ends with when every host joined.</summary>
    private static int MemberPortCount(EmulatedFabric f) =>
        f.Switches.Sum(s => f.Hosts.Select(h => f.Topology.Tree.PortToward(s.Index, new PortRef(h.Switch, h.Port))).Distinct().Count());
}
