using Microsoft.Extensions.Time.Testing;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.ReferenceGroups;
using SubsetMulticast.Cli.Emulated;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.Learning;
using SubsetMulticast.Packets;
using SubsetMulticast.Packets.Arp;
using SubsetMulticast.Packets.Igmp;
using SubsetMulticast.Push;

namespace SubsetMulticast.Emulator.Tests.Learning;

/// <summary>
/// The embedded default's controller learns from the emulated switches' control frames (the tap) through the
/// same <see cref="FabricLearner"/> as the OpenFlow path: what it learns from real Announce/Join/Leave frames
/// is held against the emulator's own switch tables.
/// </summary>
public sealed class EmulatedFabricFeedTests
{
    private static readonly IpAddress[] Groups = [IpAddress.Parse("239.1.0.1"), IpAddress.Parse("239.1.0.2"), IpAddress.Parse("ff15::1:1")];

    [Theory]
    [InlineData("leaf-spine:2:4:8", 1)]
    [InlineData("leaf-spine:3:6:4", 2)]
    [InlineData("fat-tree:4", 3)]
    [InlineData("single:6", 4)]
    public void LearnedTables_EqualTheEmulatorsOwn_OnNamedFabrics(string spec, int seed) =>
        LearnedTablesEqualTheEmulatorsOwn(FabricSpec.Parse(spec), new Random(seed));

    public static TheoryData<int> Seeds() => [.. Enumerable.Range(100, 16)];

    /// <summary>Random leaf-spine, fat-tree and meshes with redundant (blocked) links.</summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void LearnedTables_EqualTheEmulatorsOwn_OnRandomFabrics(int seed)
    {
        var rng = new Random(seed);
        LearnedTablesEqualTheEmulatorsOwn(RandomFabrics.Make(rng), rng);
    }

    private static void LearnedTablesEqualTheEmulatorsOwn(FabricSpec spec, Random rng)
    {
        var fabric = new EmulatedFabric(spec);
        var learner = new FabricLearner();
        using var feed = new EmulatedFabricFeed(fabric, learner);
        fabric.Announce();
        int joins = 0;
        foreach (var h in fabric.Hosts)
            foreach (var g in Groups)
                if (rng.Next(3) == 0 && (g.IsV4 || h.Ipv6 is not null)) { fabric.Join(h, g); joins++; }
        if (joins == 0) fabric.Join(fabric.Hosts[0], Groups[0]);
        string ctx = $"{spec.Description} ({spec.Switches.Count} switches, {spec.Links.Count} links)";

        // Topology: the same switches, links and spanning tree (so the same default router ports).
        var want = fabric.Topology;
        var got = learner.Topology;
        Assert.Equal(want.Switches.Select(s => (s.Id, s.BridgeId, string.Join(",", s.Ports))), got.Switches.Select(s => (s.Id, s.BridgeId, string.Join(",", s.Ports))));
        Assert.Equal(want.Links.Count, got.Links.Count);
        foreach (var s in want.Switches)
        {
            Assert.Equal(want.Tree.RootPort(s.Index), got.Tree.RootPort(s.Index));
            Assert.Equal(s.Ports.Where(p => want.Tree.IsTreePort(s.Index, p)), s.Ports.Where(p => got.Tree.IsTreePort(s.Index, p)));
        }

        // Reference groups: per switch, the member ports the switch snooped and its router ports.
        var expected = new ReferenceGroupTable(fabric.Topology);
        fabric.ExportReferenceGroups(expected);
        Assert.NotEmpty(expected.All());
        Assert.True(Describe(expected).SequenceEqual(Describe(learner.References)),
            $"{ctx}:\nemulator {string.Join("\n  ", Describe(expected))}\nlearner  {string.Join("\n  ", Describe(learner.References))}");

        // Hosts: every address the emulator's host tracking knows, at the same edge port; the learner may also
        // know a host's link-local address (the source of its MLD reports), at that host's own port.
        var exported = new HostTable();
        fabric.ExportHosts(exported);
        foreach (var e in exported.All())
        {
            Assert.True(learner.Hosts.TryResolve(e.Vlan, e.Ip, out var l), $"{ctx}: {e.Ip} not learned");
            Assert.Equal(e, l);
        }
        var exportedIps = exported.All().Select(e => (e.Vlan, e.Ip)).ToHashSet();
        foreach (var extra in learner.Hosts.All().Where(l => !exportedIps.Contains((l.Vlan, l.Ip))))
        {
            Assert.Equal(0xFE80UL << 48, extra.Ip.High);
            var owner = Assert.Single(fabric.Hosts, h => h.Mac == extra.Mac);
            Assert.Equal(new PortRef(owner.Switch, owner.Port), extra.Port);
        }
        Assert.Equal(0, learner.UnknownSwitchFrames + learner.UnknownPortFrames);
        Assert.True(feed.FramesFed >= fabric.Hosts.Count, $"{ctx}: only {feed.FramesFed} frames fed");
    }

    /// <summary>
    /// A Leave (a real IGMPv3 TO_IN {} report) removes the member from the controller's reference group once
    /// the last-member query time has passed with no answer — what reading the emulator's tables never did —
    /// and a group asked for that host afterwards ignores it and does not reach it.
    /// </summary>
    [Fact]
    public async Task Leave_RemovesTheMemberAfterLeaveProcessing_AndAGroupAskedForItIgnoresIt()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var fabric = new EmulatedFabric(FabricSpec.LeafSpine(2, 4, 4));
        var learner = new FabricLearner(time: clock);
        using var feed = new EmulatedFabricFeed(fabric, learner);
        var reference = Groups[0];
        fabric.Announce();
        string[] members = ["h1-1", "h2-2", "h3-3", "h4-4"]; // one per leaf: the leave empties its leaf's uplink too
        foreach (var name in members) fabric.Join(fabric.Host(name), reference);
        var exportedBefore = new ReferenceGroupTable(fabric.Topology);
        fabric.ExportReferenceGroups(exportedBefore);
        Assert.Equal(Describe(exportedBefore), Describe(learner.References));

        var leaver = fabric.Host("h2-2");
        fabric.Leave(leaver, reference);
        // RFC 3376 §6.4: the membership stays for the last-member query time, waiting for other listeners.
        Assert.True(learner.References.TryGet(1, reference, out var pending) && pending.HasMemberPort(leaver.Switch, leaver.Port));
        clock.Advance(TimeSpan.FromSeconds(3));
        learner.Tick();
        Assert.True(learner.References.TryGet(1, reference, out var after));
        Assert.False(after.HasMemberPort(leaver.Switch, leaver.Port));
        var exportedAfter = new ReferenceGroupTable(fabric.Topology);
        fabric.ExportReferenceGroups(exportedAfter);
        Assert.Equal(Describe(exportedAfter), Describe(learner.References));
        // Re-reading the switches into the old table (the former embedded default) only ever adds: the leaver stays.
        fabric.ExportReferenceGroups(exportedBefore);
        Assert.True(exportedBefore.TryGet(1, reference, out var stale) && stale.HasMemberPort(leaver.Switch, leaver.Port));

        var lifecycle = new GroupLifecycle(new LifecycleOptions().AddVlan(1, "239.255.0.0/24", "ff15::7:0/120"),
            learner.References, learner.Hosts, new InMemoryGroupStore(), clock);
        var stayer = fabric.Host("h4-4");
        var prepared = lifecycle.PrepareCreate(new CreateGroupRequest(1, reference, [leaver.Ipv4, stayer.Ipv4]));
        Assert.True(prepared.Succeeded, prepared.Problem?.Detail);
        var tx = prepared.Value!;
        Assert.Equal([stayer.Ipv4], tx.After!.Effective);
        Assert.Equal(leaver.Ipv4, Assert.Single(tx.After.Ignored).Member);
        var southbound = new EmulatorSouthbound(fabric, new PushKeyRing().Add(1, 1, new byte[32]));
        Assert.True((await southbound.ApplyAsync(tx.Changes, default)).Succeeded);
        lifecycle.Commit(tx);
        var report = fabric.SendUdp(fabric.Host("h1-1"), tx.After.Address, "chunk"u8);
        Assert.Equal([stayer.Index], report.HostsReached());
        Assert.Equal(1, report.MaxCopiesPerLinkPerFrame);
    }

    /// <summary>
    /// One tapped frame per switch the report crosses (edge switch, then each switch toward the querier at
    /// the root), and nothing allocated per frame with the learner behind the tap — nor without a tap.
    /// </summary>
    [Fact]
    public void Tap_FeedsEachSwitchOnThePath_AndAllocatesNothingPerFrame()
    {
        var fabric = new EmulatedFabric(FabricSpec.LeafSpine(2, 4, 4));
        var learner = new FabricLearner();
        var feed = new EmulatedFabricFeed(fabric, learner);
        fabric.Announce();
        var host = fabric.Host("h3-2");
        var group = Groups[0];
        fabric.Join(host, group);
        int path = 1;
        for (int sw = host.Switch; !fabric.Topology.Tree.IsRoot(sw); sw = fabric.Topology.Tree.Parent(sw)) path++;
        long before = feed.FramesFed;
        fabric.Reaffirm(host, group);
        Assert.Equal(before + path, feed.FramesFed);

        var report = new byte[128];
        int n = IgmpFrames.WriteV3Report(report, host.Mac, host.Vlan, host.Ipv4, [new GroupRecord(GroupRecordType.ModeIsExclude, group)]);
        var arp = new byte[128];
        int m = ArpPacket.WriteGratuitousFrame(arp, host.Mac, host.Ipv4, host.Vlan);
        var into = fabric.Reaffirm(host, group); // a report to count into, made before measuring
        Assert.Equal(0, AllocatedWhileSending(fabric, host, report.AsSpan(0, n), arp.AsSpan(0, m), into));
        Assert.True(feed.FramesFed >= before + 2 * path + 6000 * path);
        feed.Dispose();
        Assert.Null(fabric.ControlTap);
        long fed = feed.FramesFed;
        Assert.Equal(0, AllocatedWhileSending(fabric, host, report.AsSpan(0, n), arp.AsSpan(0, m), into));
        Assert.Equal(fed, feed.FramesFed);
    }

    [Fact]
    public void SecondFeedOnOneFabric_IsRefused()
    {
        var fabric = new EmulatedFabric(FabricSpec.LeafSpine(1, 2, 2));
        using var feed = new EmulatedFabricFeed(fabric, new FabricLearner());
        var e = Assert.Throws<InvalidOperationException>(() => new EmulatedFabricFeed(fabric, new FabricLearner()));
        Assert.Contains("one feed per fabric", e.Message);
        Assert.NotNull(fabric.ControlTap);
    }

    /// <summary>
    /// Bytes allocated on this thread over 2,000 frames, the least of three windows: an allocation per frame shows in every
    /// window, while a one-off (the runtime's tiering or type loading landing in a window, seen once in CI as 5,736 B over
    /// 2,000 frames) does not.
    /// </summary>
    private static long AllocatedWhileSending(EmulatedFabric fabric, EmulatedHost host, ReadOnlySpan<byte> report, ReadOnlySpan<byte> arp, DeliveryReport into)
    {
        for (int i = 0; i < 50; i++) { fabric.Send(host, report, into); fabric.Send(host, arp, into); }
        long least = long.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            long start = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++) { fabric.Send(host, report, into); fabric.Send(host, arp, into); }
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - start);
        }
        return least;
    }

    /// <summary>Reference groups as text, switches by name: "vlan/group switch members [..] routers [..]".</summary>
    private static string[] Describe(ReferenceGroupTable table) =>
        [.. table.All().SelectMany(g => Enumerable.Range(0, g.SwitchCount).Select(i =>
            $"{g.Vlan.Value}/{g.Group} {table.Topology.Switches[g.SwitchAt(i)].Id} members [{string.Join(",", g.MemberPortsAt(i).ToArray())}] routers [{string.Join(",", g.RouterPortsAt(i).ToArray())}]"))
            .Order(StringComparer.Ordinal)];
}
