using Microsoft.Extensions.Time.Testing;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Packets.Arp;
using SubsetMulticast.Packets;
using SubsetMulticast.Packets.Igmp;
using SubsetMulticast.Packets.Mld;
using SubsetMulticast.Packets.Ndp;

namespace SubsetMulticast.Learning.Tests.Support;

/// <summary>A host of the lab: its switch (by id), access port and addresses.</summary>
internal sealed record LabHost(int Number, string Switch, uint Port, MacAddress Mac, IpAddress V4, IpAddress V6);

/// <summary>
/// A fabric told to a <see cref="FabricLearner"/> the way the OpenFlow feed tells it (switch up with ports,
/// LLDP links in both directions), and hosts whose frames — built with the Packets builders — are punted the
/// way a fabric that forwards reports normally punts them: at the host's switch on its access port, and at
/// every other switch on the port toward the host along the forwarding tree.
/// </summary>
internal sealed class LearnerLab
{
    public readonly FakeTimeProvider Clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    public readonly FabricLearner Learner;
    public readonly List<LabHost> Hosts = [];
    public readonly Dictionary<string, List<uint>> Ports = [];
    public readonly List<(SwitchPort A, SwitchPort B)> Links = [];

    public LearnerLab(FabricLearnerOptions? options = null) => Learner = new FabricLearner(options, Clock);

    public static string Id(string name) => name;

    /// <summary>Leaf-spine: spines s1.., leaves l1.. (uplink port 100+spine), hosts on leaf ports 1..hostsPerLeaf.</summary>
    public static LearnerLab LeafSpine(int spines, int leaves, int hostsPerLeaf, bool announce = true, FabricLearnerOptions? options = null)
    {
        var lab = new LearnerLab(options);
        for (int s = 1; s <= spines; s++) lab.Ports[$"s{s}"] = [.. Enumerable.Range(1, leaves).Select(l => (uint)l)];
        for (int l = 1; l <= leaves; l++)
        {
            lab.Ports[$"l{l}"] = [.. Enumerable.Range(1, hostsPerLeaf).Select(h => (uint)h), .. Enumerable.Range(1, spines).Select(s => (uint)(100 + s))];
            for (int s = 1; s <= spines; s++) lab.Links.Add((new SwitchPort($"l{l}", (uint)(100 + s)), new SwitchPort($"s{s}", (uint)l)));
            for (int h = 1; h <= hostsPerLeaf; h++)
            {
                int n = lab.Hosts.Count + 1;
                lab.Hosts.Add(new LabHost(n, $"l{l}", (uint)h, new MacAddress(0x02_00_00_00_00_00UL | (uint)n),
                    IpAddress.Parse($"10.0.{l}.{h}"), IpAddress.Parse($"fe80::{l}:{h}")));
            }
        }
        if (announce) lab.AnnounceAll();
        return lab;
    }

    /// <summary>Spines get the lowest bridge ids (they are the tree roots, as a real fabric is configured).</summary>
    public ulong BridgeId(string sw) => (sw[0] == 's' ? 0x1000UL : 0x2000UL) + ulong.Parse(sw[1..], System.Globalization.CultureInfo.InvariantCulture);

    public void AnnounceAll()
    {
        foreach (var sw in Ports.Keys) SwitchUp(sw);
        foreach (var (a, b) in Links) LinkBoth(a, b);
    }

    public void SwitchUp(string sw) =>
        Assert.True(Learner.SwitchUp(sw, BridgeId(sw), [.. Ports[sw].Select(p => new SwitchPortInfo(p, $"{sw}-eth{p}"))]));

    public void LinkBoth(SwitchPort a, SwitchPort b)
    {
        Learner.LinkUp(a, b);
        Learner.LinkUp(b, a);
    }

    public PortRef Ref(string sw, uint port) =>
        Learner.Topology.TryGetIndex(sw, out int i) ? new PortRef(i, port) : throw new InvalidOperationException($"{sw} unknown");

    /// <summary>Punts <paramref name="frame"/> from <paramref name="host"/> at every switch that would see it; returns the outcomes.</summary>
    public List<PuntOutcome> Emit(LabHost host, byte[] frame)
    {
        var outcomes = new List<PuntOutcome>();
        var topology = Learner.Topology;
        var at = Ref(host.Switch, host.Port);
        outcomes.Add(Learner.FrameIn(host.Switch, host.Port, frame));
        foreach (var sw in topology.Switches)
        {
            if (sw.Index == at.Switch || !topology.Tree.SameComponent(sw.Index, at.Switch)) continue;
            uint port = topology.Tree.PortToward(sw.Index, at);
            if (port == SpanningTree.NoPort) continue;
            Clock.Advance(TimeSpan.FromMilliseconds(1));
            outcomes.Add(Learner.FrameIn(sw.Id, port, frame));
        }
        Clock.Advance(TimeSpan.FromMilliseconds(1));
        return outcomes;
    }

    // ---- frames (Packets builders only) ----

    private static byte[] Build(Func<byte[], int> write)
    {
        var b = new byte[1600];
        return b[..write(b)];
    }

    public static byte[] V2Report(LabHost h, IpAddress group, VlanId vlan = default) => Build(b => IgmpFrames.WriteV2Report(b, h.Mac, vlan, h.V4, group));
    public static byte[] V2Leave(LabHost h, IpAddress group, VlanId vlan = default) => Build(b => IgmpFrames.WriteV2Leave(b, h.Mac, vlan, h.V4, group));
    public static byte[] V3Join(LabHost h, IpAddress group, VlanId vlan = default) =>
        Build(b => IgmpFrames.WriteV3Report(b, h.Mac, vlan, h.V4, [new GroupRecord(GroupRecordType.ChangeToExclude, group)]));
    public static byte[] V3Leave(LabHost h, IpAddress group, VlanId vlan = default) =>
        Build(b => IgmpFrames.WriteV3Report(b, h.Mac, vlan, h.V4, [new GroupRecord(GroupRecordType.ChangeToInclude, group)]));
    public static byte[] Mld2Join(LabHost h, IpAddress group, VlanId vlan = default) =>
        Build(b => MldFrames.WriteV2Report(b, h.Mac, vlan, h.V6, [new GroupRecord(GroupRecordType.ChangeToExclude, group)]));
    public static byte[] Mld2Leave(LabHost h, IpAddress group, VlanId vlan = default) =>
        Build(b => MldFrames.WriteV2Report(b, h.Mac, vlan, h.V6, [new GroupRecord(GroupRecordType.ChangeToInclude, group)]));
    public static byte[] Arp(LabHost h, VlanId vlan = default) => Build(b => ArpPacket.WriteGratuitousFrame(b, h.Mac, h.V4, vlan));
    public static byte[] Na(LabHost h, VlanId vlan = default) => Build(b => NeighborDiscovery.WriteUnsolicitedAdvertisementFrame(b, h.Mac, h.V6, vlan));
}
