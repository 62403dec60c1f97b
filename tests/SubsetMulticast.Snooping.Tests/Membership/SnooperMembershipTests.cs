using SubsetMulticast.Packets;
using static SubsetMulticast.Snooping.Tests.Frames;

namespace SubsetMulticast.Snooping.Tests.Membership;

public sealed class SnooperMembershipTests
{
    [Fact]
    public void V2Report_JoinsAsExcludeNone_AndTimesOutAfterGmi()
    {
        var h = new SnooperHarness();
        Assert.Equal(FrameOutcome.Applied, h.Feed(1, V2Report("239.1.1.1"), 0));
        var m = h.Membership("239.1.1.1", "p1");
        Assert.NotNull(m);
        Assert.Equal(FilterMode.Exclude, m.Mode);
        Assert.Empty(m.Sources);
        h.Advance(259.9);
        Assert.Equal(["p1"], h.Members("239.1.1.1"));
        h.Advance(260.1);
        Assert.Empty(h.Members("239.1.1.1"));
        Assert.Contains(h.Changes, c => c.Kind == SnoopingChangeKind.MemberRemoved && c.Port == "p1");
    }

    [Fact]
    public void Refresh_ExtendsMembership()
    {
        var h = new SnooperHarness();
        h.Feed(1, V2Report("239.1.1.1"), 0);
        h.Feed(1, V2Report("239.1.1.1"), 200);
        h.Advance(400);
        Assert.Equal(["p1"], h.Members("239.1.1.1"));
        h.Advance(461);
        Assert.Empty(h.Members("239.1.1.1"));
    }

    [Fact]
    public void V2Leave_WithoutFastLeave_WaitsLastMemberQueryTime()
    {
        var h = new SnooperHarness();
        h.Feed(1, V2Report("239.1.1.1"), 0);
        h.Feed(2, V2Report("239.1.1.1"), 0);
        h.Feed(1, V2Leave("239.1.1.1"), 10);
        h.Advance(11.9);
        Assert.Equal(["p1", "p2"], h.Members("239.1.1.1"));
        h.Advance(12.1);
        Assert.Equal(["p2"], h.Members("239.1.1.1"));
    }

    [Fact]
    public void Leave_ThenReportWithinLmqt_KeepsMember()
    {
        var h = new SnooperHarness();
        h.Feed(1, V2Report("239.1.1.1"), 0);
        h.Feed(1, V2Leave("239.1.1.1"), 10);
        h.Feed(1, V2Report("239.1.1.1"), 11);   // another host on the port answers the group-specific query
        h.Advance(100);
        Assert.Equal(["p1"], h.Members("239.1.1.1"));
    }

    [Fact]
    public void FastLeave_RemovesAtOnce_OnlyOnThatPort()
    {
        var h = new SnooperHarness(new SnoopingOptions { FastLeavePorts = new HashSet<string> { "p1" } });
        h.Feed(1, V2Report("239.1.1.1"), 0);
        h.Feed(2, V2Report("239.1.1.1"), 0);
        h.Feed(1, V2Leave("239.1.1.1"), 10);
        Assert.Equal(["p2"], h.Members("239.1.1.1"));
        h.Feed(2, V2Leave("239.1.1.1"), 10);
        Assert.Equal(["p2"], h.Members("239.1.1.1"));
        h.Advance(12.1);
        Assert.Empty(h.Members("239.1.1.1"));
    }

    [Fact]
    public void V3_IncludeAllowBlock_FollowsRfc3376Tables()
    {
        var h = new SnooperHarness();
        h.Feed(1, V3Report(GroupRecordType.ChangeToInclude, "232.1.1.1", "10.9.9.1"), 0);
        var m = h.Membership("232.1.1.1", "p1")!;
        Assert.Equal(FilterMode.Include, m.Mode);
        Assert.Equal([Ip("10.9.9.1")], m.Sources);
        h.Feed(1, V3Report(GroupRecordType.AllowNewSources, "232.1.1.1", "10.9.9.2"), 1);
        Assert.Equal([Ip("10.9.9.1"), Ip("10.9.9.2")], h.Membership("232.1.1.1", "p1")!.Sources);
        // BLOCK(A) in INCLUDE: Q(G,A*B) lowers 10.9.9.1 to LMQT (2 s); it goes, 10.9.9.2 stays.
        h.Feed(1, V3Report(GroupRecordType.BlockOldSources, "232.1.1.1", "10.9.9.1"), 5);
        h.Advance(7.1);
        Assert.Equal([Ip("10.9.9.2")], h.Membership("232.1.1.1", "p1")!.Sources);
        // TO_IN({}) in INCLUDE: Q(G,A-B) lowers the rest; membership gone after LMQT.
        h.Feed(1, V3Report(GroupRecordType.ChangeToInclude, "232.1.1.1"), 8);
        h.Advance(10.1);
        Assert.Null(h.Membership("232.1.1.1", "p1"));
    }

    [Fact]
    public void V3_IsExclude_RecordsBlockedSources_AndGroupTimerExpiryReturnsToInclude()
    {
        var h = new SnooperHarness();
        h.Feed(1, V3Report(GroupRecordType.ModeIsExclude, "239.5.5.5", "10.1.1.1"), 0);
        var m = h.Membership("239.5.5.5", "p1")!;
        Assert.Equal(FilterMode.Exclude, m.Mode);
        Assert.Equal([Ip("10.1.1.1")], m.Sources);
        // ALLOW the blocked source: EXCLUDE(X+A, Y-A); it is no longer blocked.
        h.Feed(1, V3Report(GroupRecordType.AllowNewSources, "239.5.5.5", "10.1.1.1"), 1);
        Assert.Empty(h.Membership("239.5.5.5", "p1")!.Sources);
        // Group timer (GMI from t=0) expires: EXCLUDE → INCLUDE with X, whose timer (GMI from t=1) still runs.
        h.Advance(260.5);
        m = h.Membership("239.5.5.5", "p1")!;
        Assert.Equal(FilterMode.Include, m.Mode);
        Assert.Equal([Ip("10.1.1.1")], m.Sources);
        h.Advance(261.5);
        Assert.Null(h.Membership("239.5.5.5", "p1"));
    }

    [Fact]
    public void V3_ToExcludeFromInclude_KeepsIntersectionAndBlocksRest()
    {
        var h = new SnooperHarness();
        h.Feed(1, V3Report(GroupRecordType.ModeIsInclude, "239.5.5.5", "10.1.1.1", "10.1.1.2"), 0);
        h.Feed(1, V3Report(GroupRecordType.ChangeToExclude, "239.5.5.5", "10.1.1.2", "10.1.1.3"), 1);
        var m = h.Membership("239.5.5.5", "p1")!;
        Assert.Equal(FilterMode.Exclude, m.Mode);
        Assert.Equal([Ip("10.1.1.3")], m.Sources);  // Y = B-A; X = A*B = {10.1.1.2} (forwarded, not listed)
    }

    [Fact]
    public void Mld_V1AndV2_TrackedLikeIgmp()
    {
        var h = new SnooperHarness();
        h.Feed(1, Mld1Report("ff0e::1"), 0);
        h.Feed(2, Mld2Report(GroupRecordType.ChangeToExclude, "ff0e::1"), 0);
        h.Feed(3, Mld2Report(GroupRecordType.ModeIsInclude, "ff3e::1", "2001:db8::1"), 0);
        Assert.Equal(["p1", "p2"], h.Members("ff0e::1"));
        Assert.Equal(["p3"], h.Members("ff3e::1"));
        h.Feed(1, Mld1Done("ff0e::1"), 5);
        h.Advance(7.1);
        Assert.Equal(["p2"], h.Members("ff0e::1"));
    }

    [Fact]
    public void LinkLocalGroups_AreNeverTracked()
    {
        var h = new SnooperHarness();
        Assert.Equal(FrameOutcome.Ignored, h.Feed(1, V2Report("224.0.0.5"), 0));
        h.Feed(1, V3Report(GroupRecordType.ChangeToExclude, "224.0.0.251"), 0);
        Assert.Equal(FrameOutcome.Ignored, h.Feed(1, Mld1Report("ff02::1"), 0));
        Assert.Empty(h.Snooper.Snapshot().Groups);
    }

    [Fact]
    public void Vlans_AreSeparate()
    {
        var h = new SnooperHarness();
        h.Feed(1, V2Report("239.1.1.1", vlan: 10), 0);
        h.Feed(2, V2Report("239.1.1.1", vlan: 20, mac: RouterMac), 0);
        Assert.Equal(["p1"], h.Members("239.1.1.1", 10));
        Assert.Equal(["p2"], h.Members("239.1.1.1", 20));
        Assert.Empty(h.Members("239.1.1.1", 0));
    }

    [Fact]
    public void RouterPorts_LearnedFromQueriesWithRealSource_NotFromZero_AndAgeOut()
    {
        var h = new SnooperHarness();
        h.Feed(1, V3Query(Ip("0.0.0.0")), 0);
        Assert.Empty(h.Snooper.Snapshot().RouterPorts);
        h.Feed(2, V3Query(RouterV4), 0);
        h.Feed(3, Mld2Query(RouterV6), 0);
        var s = h.Snooper.Snapshot();
        Assert.Equal(["p2", "p3"], s.RouterPorts.Select(r => r.Port));
        h.Advance(256);
        Assert.Empty(h.Snooper.Snapshot().RouterPorts);
    }

    [Fact]
    public void QuerierElection_LowestAddressWins()
    {
        var h = new SnooperHarness();
        h.Feed(1, V3Query(Ip("10.0.0.9")), 0);
        h.Feed(2, V3Query(Ip("10.0.0.3")), 1);
        h.Feed(1, V3Query(Ip("10.0.0.9")), 2);
        var q = Assert.Single(h.Snooper.Snapshot().Queriers);
        Assert.Equal(Ip("10.0.0.3"), q.Address);
        Assert.Equal("p2", q.Port);
    }

    [Fact]
    public void WithOtherQuerier_LeaveWaitsForItsGroupSpecificQuery()
    {
        var h = new SnooperHarness();
        h.Feed(4, V3Query(RouterV4), 0);
        h.Feed(1, V2Report("239.1.1.1"), 0);
        h.Feed(1, V2Leave("239.1.1.1"), 10);
        h.Advance(20);
        Assert.Equal(["p1"], h.Members("239.1.1.1"));   // the querier has not asked yet
        h.Feed(4, V2Query(RouterV4, "239.1.1.1", 10), 20); // group-specific, MRT 1 s → LMQC × 1 s
        h.Advance(21.9);
        Assert.Equal(["p1"], h.Members("239.1.1.1"));
        h.Advance(22.1);
        Assert.Empty(h.Members("239.1.1.1"));
    }

    [Fact]
    public void PerPortLimit_RefusesNewGroups_CountsAndLogs_AndSnoopingStaysOn()
    {
        var logs = new List<string>();
        var h = new SnooperHarness(new SnoopingOptions { MaxGroupsPerPort = 2 });
        h.Snooper.Log = logs.Add;
        h.Feed(1, V2Report("239.0.0.1"), 0);
        h.Feed(1, V2Report("239.0.0.2"), 0);
        h.Feed(1, V2Report("239.0.0.3"), 0);
        h.Feed(2, V2Report("239.0.0.3", mac: RouterMac), 0);
        Assert.DoesNotContain("p1", h.Members("239.0.0.3"));
        Assert.Equal(["p2"], h.Members("239.0.0.3"));
        var s = h.Snooper.Snapshot();
        Assert.Equal(1, s.Refused["perPortGroupLimit"]);
        Assert.Contains(h.Changes, c => c.Kind == SnoopingChangeKind.GroupRefused && c.Port == "p1");
        Assert.Single(logs);
        // Existing groups keep working, and a freed slot is usable again.
        h.Feed(1, V2Leave("239.0.0.1"), 1);
        h.Advance(3.1);
        h.Feed(1, V2Report("239.0.0.3"), 4);
        Assert.Equal(["p1", "p2"], h.Members("239.0.0.3"));
    }

    [Fact]
    public void GlobalLimit_RefusesNewGroups_CountsAndLogsBounded_AndSnoopingStaysOn()
    {
        var logs = new List<string>();
        var h = new SnooperHarness(new SnoopingOptions { MaxGroups = 2 });
        h.Snooper.Log = logs.Add;
        for (int i = 1; i <= 5000; i++) h.Feed(1, V2Report($"239.0.{i / 256}.{i % 256}"), 0);
        var s = h.Snooper.Snapshot();
        Assert.Equal(2, s.Groups.Count);
        Assert.Equal(4998, s.Refused["globalGroupLimit"]);
        Assert.Equal(4998, h.Changes.Count(c => c.Kind == SnoopingChangeKind.GroupRefused && c.Detail == "global group limit"));
        // A flood cannot flood the log: the first refusal and every 1000th.
        Assert.Equal(5, logs.Count);
        Assert.All(logs, l => Assert.Contains("snooping stays on", l, StringComparison.Ordinal));
        // Snooping stays on: joins to existing groups, leaves and timers work, and a freed slot is taken again.
        h.Feed(2, V2Report("239.0.0.1", mac: RouterMac), 0);   // joining an existing group is not a new group
        Assert.Equal(["p1", "p2"], h.Members("239.0.0.1"));
        h.Feed(1, V2Leave("239.0.0.2"), 1);
        h.Advance(3.1);
        Assert.Empty(h.Members("239.0.0.2"));
        h.Feed(3, V2Report("239.0.0.9"), 4);
        Assert.Equal(["p3"], h.Members("239.0.0.9"));
    }

    [Fact]
    public void Hosts_LearnedFromMacArpNdAndReports_AndMoves()
    {
        var h = new SnooperHarness();
        var mac2 = Core.Addressing.MacAddress.Parse("02:00:00:00:00:22");
        h.Feed(1, Arp(mac2, Ip("10.0.0.22")), 0);
        h.Feed(2, NeighborAdvert(mac2, Ip("2001:db8::22")), 0);
        h.Feed(3, V2Report("239.1.1.1"), 0);
        var hosts = h.Snooper.Snapshot().Hosts;
        var host2 = hosts.Single(x => x.Mac == mac2);
        Assert.Equal("p2", host2.Port);
        Assert.Equal([Ip("10.0.0.22"), Ip("2001:db8::22")], host2.Addresses);
        var host = hosts.Single(x => x.Mac == HostMac);
        Assert.Equal("p3", host.Port);
        Assert.Equal([HostV4], host.Addresses);
        Assert.Contains(h.Changes, c => c.Kind == SnoopingChangeKind.HostMoved && c.Mac == mac2);
    }

    [Fact]
    public void OwnQuerier_QueriesUntilALowerQuerierAppears()
    {
        var h = new SnooperHarness(new SnoopingOptions
        {
            Querier = new QuerierOptions { IPv4Source = Ip("10.0.0.5"), IPv6Source = Ip("fe80::5") },
        });
        h.Advance(0);
        Assert.Equal(2, h.Sent.Count);   // IGMPv3 and MLDv2 general queries
        // A querier from the lower address 10.0.0.1 takes over IPv4; we keep MLD.
        h.Feed(4, V3Query(RouterV4), 1);
        h.Sent.Clear();
        h.Advance(200);
        Assert.Single(h.Sent);
        var replay = new SnooperHarness();
        Assert.Equal(FrameOutcome.Applied, replay.Feed(1, h.Sent[0], 0));   // our query is a valid MLDv2 query
        Assert.Equal(["p1"], replay.Snooper.Snapshot().RouterPorts.Select(r => r.Port));
    }

    [Fact]
    public void OwnQuerier_SendsGroupSpecificQueriesAfterLeave()
    {
        var h = new SnooperHarness(new SnoopingOptions { Querier = new QuerierOptions { IPv4Source = Ip("10.0.0.5") } });
        h.Feed(1, V2Report("239.1.1.1"), 0);
        h.Sent.Clear();
        h.Feed(1, V2Leave("239.1.1.1"), 1);
        h.Advance(1.5);
        h.Advance(2.5);
        var replay = new SnooperHarness();
        replay.Feed(2, V2Report("239.1.1.1"), 0);
        foreach (var f in h.Sent.Where(f => f.Length > 0)) replay.Feed(4, f, 0);
        Assert.True(h.Sent.Count >= 2, $"{h.Sent.Count} queries sent");
    }
}
