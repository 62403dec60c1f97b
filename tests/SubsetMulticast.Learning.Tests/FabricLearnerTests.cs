using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.Planning;
using SubsetMulticast.Learning.Tests.Support;

namespace SubsetMulticast.Learning.Tests;

public sealed class FabricLearnerTests
{
    private static readonly IpAddress Reference = IpAddress.Parse("239.1.0.1");
    private static readonly IpAddress ReferenceV6 = IpAddress.Parse("ff15::1:1");

    [Fact]
    public void SwitchesAndLinks_BuildTheTopology_SpineIsTheRoot()
    {
        var lab = LearnerLab.LeafSpine(spines: 1, leaves: 2, hostsPerLeaf: 3);
        var t = lab.Learner.Topology;
        Assert.Equal(["s1", "l1", "l2"], t.Switches.Select(s => s.Id));
        Assert.Equal([1u, 2u, 3u, 101u], t.Switches[1].Ports);
        Assert.Equal(2, t.Links.Count);
        Assert.Contains(new SwitchLink(new PortRef(0, 1), new PortRef(1, 101)), t.Links);
        Assert.Contains(new SwitchLink(new PortRef(0, 2), new PortRef(2, 101)), t.Links);
        Assert.True(t.Tree.IsRoot(0));
        Assert.Equal(101u, t.Tree.RootPort(2));
    }

    [Fact]
    public void PuntedReports_BecomeReferenceGroupsAndHosts_OnEveryVersion()
    {
        var lab = LearnerLab.LeafSpine(spines: 1, leaves: 2, hostsPerLeaf: 3);
        var (h1, h5) = (lab.Hosts[0], lab.Hosts[4]);
        Assert.All(lab.Emit(h1, LearnerLab.V3Join(h1, Reference)), o => Assert.Equal(PuntOutcome.Applied, o));
        Assert.All(lab.Emit(h5, LearnerLab.V2Report(h5, Reference)), o => Assert.Equal(PuntOutcome.Applied, o));
        lab.Emit(h5, LearnerLab.Mld2Join(h5, ReferenceV6));

        // s1 (index 0): toward h1 port 1, toward h5 port 2; l1: h1's port 1 and the uplink (h5's reports came down it); l2: port 2 and uplink.
        var learned = Expectations.Learned(lab.Learner.References, default, Reference);
        Assert.Equal([1u, 2u], learned[0]);
        Assert.Equal([1u, 101u], learned[1]);
        Assert.Equal([2u, 101u], learned[2]);
        Assert.Equal(Expectations.MemberPorts(lab, [h1, h5]), learned);
        Assert.Equal(Expectations.MemberPorts(lab, [h5]), Expectations.Learned(lab.Learner.References, default, ReferenceV6));

        // IGMP sources taught IP → MAC → edge port (never the spine's or an uplink).
        Assert.True(lab.Learner.Hosts.TryResolve(default, h1.V4, out var at1));
        Assert.Equal((h1.Mac, lab.Ref("l1", 1)), (at1.Mac, at1.Port));
        Assert.True(lab.Learner.Hosts.TryResolve(default, h5.V4, out var at5));
        Assert.Equal(lab.Ref("l2", 2), at5.Port);
        Assert.True(lab.Learner.Hosts.TryResolve(default, h5.V6, out var at5v6));
        Assert.Equal(lab.Ref("l2", 2), at5v6.Port);
    }

    [Fact]
    public void ArpAndNeighborAdvertisements_TeachHosts_TaggedFramesOnTheirVlan()
    {
        var lab = LearnerLab.LeafSpine(spines: 2, leaves: 3, hostsPerLeaf: 2);
        var vlan = new VlanId(7);
        foreach (var h in lab.Hosts) lab.Emit(h, LearnerLab.Arp(h, vlan));
        var h3 = lab.Hosts[2];
        lab.Emit(h3, LearnerLab.Na(h3));
        foreach (var h in lab.Hosts)
        {
            Assert.True(lab.Learner.Hosts.TryResolve(vlan, h.V4, out var at), $"host {h.Number}");
            Assert.Equal(lab.Ref(h.Switch, h.Port), at.Port);
            Assert.False(lab.Learner.Hosts.TryResolve(default, h.V4, out _));
        }
        Assert.True(lab.Learner.Hosts.TryResolve(default, h3.V6, out var v6));
        Assert.Equal(lab.Ref(h3.Switch, h3.Port), v6.Port);
        Assert.Equal(lab.Hosts.Count + 1, lab.Learner.Hosts.Count);
    }

    [Fact]
    public void LinkFoundAfterHost_HostMovesFromTheUplinkToItsEdgePort()
    {
        // Switches up, no links yet: the spine sees h1's ARP on port 1 after the leaf saw it on port 1.
        var lab = LearnerLab.LeafSpine(spines: 1, leaves: 2, hostsPerLeaf: 2, announce: false);
        foreach (var sw in lab.Ports.Keys) lab.SwitchUp(sw);
        var h1 = lab.Hosts[0];
        var arp = LearnerLab.Arp(h1);
        Assert.Equal(PuntOutcome.Applied, lab.Learner.FrameIn("l1", 1, arp));
        lab.Clock.Advance(TimeSpan.FromMilliseconds(5));
        Assert.Equal(PuntOutcome.Applied, lab.Learner.FrameIn("s1", 1, arp));
        // A host seen only on what will be an uplink: h9 is behind a switch the controller does not manage.
        var h9 = new LabHost(9, "l2", 101, new MacAddress(0x02_00_00_00_09_09UL), IpAddress.Parse("10.9.9.9"), IpAddress.Parse("fe80::9"));
        Assert.Equal(PuntOutcome.Applied, lab.Learner.FrameIn("l2", 101, LearnerLab.Arp(h9)));
        Assert.True(lab.Learner.Hosts.TryResolve(default, h1.V4, out var before));
        Assert.Equal(lab.Ref("s1", 1), before.Port); // latest sighting wins while both ports look like edges
        Assert.True(lab.Learner.Hosts.TryResolve(default, h9.V4, out _));

        foreach (var (a, b) in lab.Links) lab.LinkBoth(a, b);

        Assert.True(lab.Learner.Hosts.TryResolve(default, h1.V4, out var after));
        Assert.Equal(lab.Ref("l1", 1), after.Port);
        Assert.False(lab.Learner.Hosts.TryResolve(default, h9.V4, out _)); // only ever seen on a link port: withdrawn

        // A later sighting on the spine's link port changes nothing.
        lab.Clock.Advance(TimeSpan.FromSeconds(1));
        lab.Learner.FrameIn("s1", 1, LearnerLab.Arp(h1));
        Assert.True(lab.Learner.Hosts.TryResolve(default, h1.V4, out var still));
        Assert.Equal(lab.Ref("l1", 1), still.Port);
    }

    [Fact]
    public void WideFabricWithoutSnooping_EveryHostStaysOnItsEdge_ThoughEverySwitchSeesIt()
    {
        // 2 spines, 30 leaves: each ARP is punted by 32 switches, 31 of them on inter-switch ports. Those
        // sightings must not push the edge one out (the 100-switch emulator scenario lost 350 of 384 hosts).
        var lab = LearnerLab.LeafSpine(spines: 2, leaves: 30, hostsPerLeaf: 2);
        foreach (var h in lab.Hosts) lab.Emit(h, LearnerLab.Arp(h));
        foreach (var h in lab.Hosts)
        {
            Assert.True(lab.Learner.Hosts.TryResolve(default, h.V4, out var at), $"{h.V4} not located");
            Assert.Equal(lab.Ref(h.Switch, h.Port), at.Port);
        }
    }

    [Fact]
    public void ManySightingsBeforeTheLinksAreKnown_TheEdgeOneSurvives()
    {
        var lab = LearnerLab.LeafSpine(spines: 1, leaves: 20, hostsPerLeaf: 1, announce: false);
        foreach (var sw in lab.Ports.Keys) lab.SwitchUp(sw);
        var h1 = lab.Hosts[0];
        var arp = LearnerLab.Arp(h1);
        lab.Learner.FrameIn(h1.Switch, h1.Port, arp); // the edge switch punts first
        lab.Learner.FrameIn("s1", 1, arp);
        foreach (var leaf in lab.Ports.Keys.Where(k => k[0] == 'l' && k != h1.Switch))
        {
            lab.Clock.Advance(TimeSpan.FromMilliseconds(1));
            lab.Learner.FrameIn(leaf, 101, arp);
        }
        foreach (var (a, b) in lab.Links) lab.LinkBoth(a, b);
        Assert.True(lab.Learner.Hosts.TryResolve(default, h1.V4, out var at));
        Assert.Equal(lab.Ref(h1.Switch, h1.Port), at.Port);
    }

    [Fact]
    public void LinkLostBriefly_HostStaysOnItsEdgePort()
    {
        var lab = LearnerLab.LeafSpine(spines: 1, leaves: 2, hostsPerLeaf: 2);
        var h1 = lab.Hosts[0];
        lab.Emit(h1, LearnerLab.Arp(h1));
        var (a, b) = lab.Links[0];
        lab.Learner.LinkDown(a, b);
        lab.Learner.LinkDown(b, a);
        Assert.Single(lab.Learner.Topology.Links);
        // s1:1 is link-less now, and saw h1 later than l1:1 did; a port that was a link end never beats one that never was.
        Assert.True(lab.Learner.Hosts.TryResolve(default, h1.V4, out var at));
        Assert.Equal(lab.Ref("l1", 1), at.Port);
    }

    [Fact]
    public void SwitchDownAndUp_KeepsIndicesAndReferenceGroups_NewSwitchGetsANewIndex()
    {
        var lab = LearnerLab.LeafSpine(spines: 1, leaves: 2, hostsPerLeaf: 2);
        var h1 = lab.Hosts[0];
        lab.Emit(h1, LearnerLab.V3Join(h1, Reference));
        var learned = Expectations.Learned(lab.Learner.References, default, Reference);

        Assert.True(lab.Learner.SwitchDown("l1"));
        Assert.False(lab.Learner.IsUp("l1"));
        Assert.Equal(3, lab.Learner.Topology.Switches.Count);
        Assert.Equal("l1", lab.Learner.Topology.Switches[1].Id);
        // Its links go (discovery reports them lost), a new switch appears, then l1 returns.
        var (a, b) = lab.Links[0];
        lab.Learner.LinkDown(a, b);
        lab.Learner.LinkDown(b, a);
        Assert.True(lab.Learner.SwitchUp("l9", 0x3000, [new SwitchPortInfo(1, "l9-eth1")]));
        lab.SwitchUp("l1");
        lab.LinkBoth(a, b);

        Assert.Equal(["s1", "l1", "l2", "l9"], lab.Learner.Topology.Switches.Select(s => s.Id));
        Assert.True(lab.Learner.IsUp("l1"));
        Assert.Equal(learned, Expectations.Learned(lab.Learner.References, default, Reference));
        Assert.True(lab.Learner.Hosts.TryResolve(default, h1.V4, out var at));
        Assert.Equal(new PortRef(1, 1), at.Port);
    }

    [Fact]
    public void PortRemoved_DropsItsMembershipsAndLinks()
    {
        var lab = LearnerLab.LeafSpine(spines: 1, leaves: 2, hostsPerLeaf: 2);
        var (h1, h2) = (lab.Hosts[0], lab.Hosts[1]);
        lab.Emit(h1, LearnerLab.V3Join(h1, Reference));
        lab.Emit(h2, LearnerLab.V3Join(h2, Reference));
        Assert.Equal([1u, 2u], Expectations.Learned(lab.Learner.References, default, Reference)[1]);
        Assert.True(lab.Learner.PortRemoved("l1", 1));
        Assert.Equal([2u], Expectations.Learned(lab.Learner.References, default, Reference)[1]);
        Assert.DoesNotContain(1u, lab.Learner.Topology.Switches[1].Ports);

        Assert.True(lab.Learner.PortRemoved("l1", 101));
        Assert.Single(lab.Learner.Topology.Links);
        Assert.Equal(PuntOutcome.UnknownPort, lab.Learner.FrameIn("l1", 1, LearnerLab.V3Join(h1, Reference)));
        Assert.True(lab.Learner.PortAdded("l1", new SwitchPortInfo(1, "l1-eth1")));
        Assert.Equal(PuntOutcome.Applied, lab.Learner.FrameIn("l1", 1, LearnerLab.V3Join(h1, Reference)));
        Assert.Equal([1u, 2u], Expectations.Learned(lab.Learner.References, default, Reference)[1]);
    }

    [Fact]
    public void LeaveAndTimers_RemoveMembers_OnTheLearnersTick()
    {
        var lab = LearnerLab.LeafSpine(spines: 1, leaves: 2, hostsPerLeaf: 2);
        var h1 = lab.Hosts[0];
        lab.Emit(h1, LearnerLab.V2Report(h1, Reference));
        Assert.NotEmpty(Expectations.Learned(lab.Learner.References, default, Reference));
        lab.Emit(h1, LearnerLab.V2Leave(h1, Reference));
        lab.Clock.Advance(TimeSpan.FromSeconds(3)); // past LMQT (2 × 1 s)
        Assert.NotEmpty(Expectations.Learned(lab.Learner.References, default, Reference)); // nothing runs until the tick
        lab.Learner.Tick();
        Assert.Empty(Expectations.Learned(lab.Learner.References, default, Reference));
        Assert.False(lab.Learner.References.TryGet(default, Reference, out _));

        lab.Emit(h1, LearnerLab.V3Join(h1, Reference));
        lab.Clock.Advance(TimeSpan.FromSeconds(261)); // past GMI
        lab.Learner.Tick();
        Assert.False(lab.Learner.References.TryGet(default, Reference, out _));
    }

    [Fact]
    public void QueriesMakeRouterPorts_AndTheirExpiryRestoresTheTreeDefault()
    {
        var lab = LearnerLab.LeafSpine(spines: 1, leaves: 2, hostsPerLeaf: 2);
        var (h1, h4) = (lab.Hosts[0], lab.Hosts[3]);
        lab.Emit(h4, LearnerLab.V3Join(h4, Reference));
        int l2 = lab.Ref("l2", 1).Switch;
        Assert.Equal([101u], lab.Learner.References.RouterPorts(default, l2).ToArray()); // tree default: toward the spine
        var query = new byte[256];
        int n = SubsetMulticast.Packets.Igmp.IgmpFrames.WriteV3Query(query, h1.Mac, default, h1.V4, IpAddress.Parse("0.0.0.0"), 100, false, 2, 125, []);
        lab.Emit(h1, query[..n]); // h1 (on l1) is a querier: every switch's router port points toward it
        Assert.Equal([101u], lab.Learner.References.RouterPorts(default, l2).ToArray());
        Assert.Equal([1u], lab.Learner.References.RouterPorts(default, lab.Ref("l1", 1).Switch).ToArray());
        Assert.Equal([1u], lab.Learner.References.RouterPorts(default, lab.Ref("s1", 1).Switch).ToArray());
        lab.Clock.Advance(TimeSpan.FromSeconds(256)); // past the other-querier-present interval
        lab.Learner.Tick();
        Assert.Empty(lab.Learner.References.RouterPorts(default, lab.Ref("s1", 1).Switch).ToArray()); // the root has no root port
        Assert.Equal([101u], lab.Learner.References.RouterPorts(default, lab.Ref("l1", 1).Switch).ToArray());
    }

    [Fact]
    public void OurQuerier_QueriesEdgePortsOnly_AndStandsDownForALowerAddressedQuerier()
    {
        var ours = IpAddress.Parse("10.0.9.254");
        var lab = LearnerLab.LeafSpine(spines: 1, leaves: 2, hostsPerLeaf: 2, options: new FabricLearnerOptions
        {
            Snooping = new SubsetMulticast.Snooping.SnoopingOptions { Querier = new SubsetMulticast.Snooping.QuerierOptions { IPv4Source = ours } },
        });
        var sent = new List<QueryOut>();
        lab.Learner.QuerySent += q => { lock (sent) sent.Add(q); };
        lab.Clock.Advance(TimeSpan.FromSeconds(1));
        lab.Learner.Tick();

        // Startup general queries: each leaf's host ports; the spine has only links and sends nothing.
        Assert.Equal(["l1", "l2"], sent.Select(q => q.SwitchId).Order());
        Assert.All(sent, q => Assert.Equal([1u, 2u], q.Ports));
        foreach (var q in sent)
        {
            Assert.True(SubsetMulticast.Packets.Ethernet.EthernetFrame.TryRead(q.Frame, out var eth));
            Assert.True(SubsetMulticast.Packets.Ip.IpPacket.TryRead(eth.Payload, eth.EtherType, out var ip));
            Assert.Equal(ours, ip.Source);
            Assert.True(SubsetMulticast.Packets.Igmp.IgmpMessage.TryReadPacket(in ip, out var igmp));
            Assert.True(igmp.IsQuery);
            Assert.True(igmp.Group.IsUnspecified); // a general query
        }

        // A router at 10.0.1.1 (lower than ours) queries from h1's port: every switch hears it and stands down
        // for the other-querier-present interval (255 s), then takes over again.
        var h1 = lab.Hosts[0];
        var query = new byte[256];
        int n = SubsetMulticast.Packets.Igmp.IgmpFrames.WriteV3Query(query, h1.Mac, default, IpAddress.Parse("10.0.1.1"), IpAddress.Parse("0.0.0.0"), 100, false, 2, 125, []);
        lab.Emit(h1, query[..n]);
        sent.Clear();
        for (int i = 0; i < 25; i++) { lab.Clock.Advance(TimeSpan.FromSeconds(10)); lab.Learner.Tick(); }
        Assert.Empty(sent); // 250 s: our startup and general queries would all have fired by now
        for (int i = 0; i < 15; i++) { lab.Clock.Advance(TimeSpan.FromSeconds(10)); lab.Learner.Tick(); }
        Assert.Equal(["l1", "l2"], sent.Select(q => q.SwitchId).Distinct().Order());
    }

    [Fact]
    public void HostileFrames_ChangeNothing()
    {
        var lab = LearnerLab.LeafSpine(spines: 1, leaves: 2, hostsPerLeaf: 2);
        var h1 = lab.Hosts[0];
        lab.Emit(h1, LearnerLab.V3Join(h1, Reference));
        var topology = lab.Learner.Topology;
        var learned = Expectations.Learned(lab.Learner.References, default, Reference);
        int hosts = lab.Learner.Hosts.Count;

        var good = LearnerLab.V3Join(lab.Hosts[1], IpAddress.Parse("239.9.9.9"));
        var badChecksum = (byte[])good.Clone();
        badChecksum[^1] ^= 0xFF;
        var notMulticast = LearnerLab.V3Join(lab.Hosts[1], IpAddress.Parse("239.9.9.9"));
        var rng = new Random(7);
        var noise = new byte[200];
        rng.NextBytes(noise);
        var hostile = new List<byte[]> { Array.Empty<byte>(), good[..10], good[..30], good[..(good.Length - 3)], badChecksum, noise };
        // A v3 record naming a unicast "group" must be refused whole (the checksum is recomputed by the builder).
        var unicastGroup = new byte[256];
        int n = SubsetMulticast.Packets.Igmp.IgmpFrames.WriteV3Report(unicastGroup, lab.Hosts[1].Mac, default, lab.Hosts[1].V4,
            [new SubsetMulticast.Packets.GroupRecord(SubsetMulticast.Packets.GroupRecordType.ChangeToExclude, IpAddress.Parse("239.9.9.8")),
             new SubsetMulticast.Packets.GroupRecord(SubsetMulticast.Packets.GroupRecordType.ChangeToExclude, IpAddress.Parse("10.1.1.1"))]);
        hostile.Add(unicastGroup[..n]);
        _ = notMulticast;
        foreach (var f in hostile)
            Assert.NotEqual(PuntOutcome.Applied, lab.Learner.FrameIn("l1", 2, f));
        Assert.Equal(PuntOutcome.UnknownSwitch, lab.Learner.FrameIn("nope", 1, good));
        Assert.Equal(PuntOutcome.UnknownSwitch, lab.Learner.FrameIn(null!, 1, good));
        Assert.Equal(PuntOutcome.UnknownPort, lab.Learner.FrameIn("l1", 0xFFFFFFFE, good));
        Assert.Equal(PuntOutcome.UnknownPort, lab.Learner.FrameIn("l1", 77, good));
        Assert.False(lab.Learner.SwitchUp("", 1, []));
        Assert.False(lab.Learner.PortRemoved("nope", 1));
        lab.Learner.LinkDown(new SwitchPort("nope", 1), new SwitchPort("l1", 1));

        Assert.Same(topology, lab.Learner.Topology);
        Assert.Equal(learned, Expectations.Learned(lab.Learner.References, default, Reference));
        Assert.False(lab.Learner.References.TryGet(default, IpAddress.Parse("239.9.9.9"), out _));
        Assert.False(lab.Learner.References.TryGet(default, IpAddress.Parse("239.9.9.8"), out _));
        Assert.Equal(hosts, lab.Learner.Hosts.Count);
        Assert.Equal(2, lab.Learner.UnknownSwitchFrames);
        Assert.Equal(2, lab.Learner.UnknownPortFrames);
    }

    [Fact]
    public void LinksToUnknownSwitchesOrPorts_WaitUntilBothEndsExist()
    {
        var lab = LearnerLab.LeafSpine(spines: 1, leaves: 1, hostsPerLeaf: 1, announce: false);
        lab.SwitchUp("l1");
        lab.LinkBoth(new SwitchPort("l1", 101), new SwitchPort("s1", 1));
        lab.Learner.LinkUp(new SwitchPort("l1", 1), new SwitchPort("l1", 101)); // a loop on one switch: never a link
        Assert.Empty(lab.Learner.Topology.Links);
        lab.SwitchUp("s1");
        Assert.Equal([new SwitchLink(new PortRef(0, 101), new PortRef(1, 1))], lab.Learner.Topology.Links);
    }

    [Fact]
    public void SteadyStateReports_AllocateNothingInTheLearner()
    {
        var lab = LearnerLab.LeafSpine(spines: 1, leaves: 2, hostsPerLeaf: 2);
        var h1 = lab.Hosts[0];
        var report = LearnerLab.V3Join(h1, Reference);
        lab.Emit(h1, report);
        for (int i = 0; i < 100; i++) lab.Learner.FrameIn("l1", 1, report); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++) lab.Learner.FrameIn("l1", 1, report);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{allocated} bytes for 10,000 punted reports");
    }

    [Fact]
    public async Task ConcurrentFramesAndTopologyChanges_StayConsistent()
    {
        var lab = LearnerLab.LeafSpine(spines: 2, leaves: 4, hostsPerLeaf: 4);
        var frames = lab.Hosts.Select(h => (h, LearnerLab.V3Join(h, Reference))).ToArray();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var senders = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < 20_000 && !stop.IsCancellationRequested; i++)
            {
                var (h, f) = frames[(i + t) % frames.Length];
                lab.Learner.FrameIn(h.Switch, h.Port, f);
            }
        })).ToArray();
        var churn = Task.Run(() =>
        {
            for (int i = 0; i < 200 && !stop.IsCancellationRequested; i++)
            {
                var (a, b) = lab.Links[i % lab.Links.Count];
                lab.Learner.LinkDown(a, b);
                lab.Learner.LinkDown(b, a);
                lab.LinkBoth(a, b);
            }
        });
        await Task.WhenAll([.. senders, churn]);
        Assert.Equal(lab.Links.Count, lab.Learner.Topology.Links.Count);
        foreach (var (h, f) in frames) lab.Emit(h, f);
        Assert.Equal(Expectations.MemberPorts(lab, lab.Hosts), Expectations.Learned(lab.Learner.References, default, Reference));
    }
}
