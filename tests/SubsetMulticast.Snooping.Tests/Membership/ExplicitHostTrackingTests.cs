using SubsetMulticast.Packets;
using static SubsetMulticast.Snooping.Tests.Frames;

namespace SubsetMulticast.Snooping.Tests.Membership;

/// <summary>
/// Fast leave with several hosts behind one port, as the Linux bridge does it (br_multicast_eht.c, enabled by
/// fast leave): IGMPv3/MLDv2 hosts are tracked by their IP source, and the port leaves at once only with its last
/// host. IGMPv2 leaves and MLDv1 dones still remove the port at once (br_multicast_leave_group's fast-leave path).
/// </summary>
public sealed class ExplicitHostTrackingTests
{
    private static SnooperHarness FastLeaveOnP1(int hostLimit = 512) =>
        new(new SnoopingOptions { FastLeavePorts = new HashSet<string> { "p1" }, FastLeaveHostLimit = hostLimit });

    [Theory]
    [InlineData("239.1.1.1", "10.0.0.21", "10.0.0.22")]
    [InlineData("ff0e::1", "fe80::21", "fe80::22")]
    public void OneOfTwoHostsLeaves_PortStays_LastHostLeaves_PortGoesAtOnce(string group, string a, string b)
    {
        var h = FastLeaveOnP1();
        byte[] From(string host, GroupRecordType t) => group.Contains(':') ? Mld2ReportFrom(host, t, group) : V3ReportFrom(host, t, group);
        h.Feed(1, From(a, GroupRecordType.ChangeToExclude), 0);
        h.Feed(1, From(b, GroupRecordType.ChangeToExclude), 0);
        h.Feed(1, From(a, GroupRecordType.ChangeToInclude), 10);
        Assert.Equal(["p1"], h.Members(group));
        h.Feed(1, From(b, GroupRecordType.ModeIsExclude), 10.5);   // b answers the group-specific query
        h.Advance(20);
        Assert.Equal(["p1"], h.Members(group));
        h.Feed(1, From(b, GroupRecordType.ChangeToInclude), 30);
        Assert.Empty(h.Members(group));
        Assert.Contains(h.Changes, c => c.Kind == SnoopingChangeKind.MemberRemoved && c.Timestamp == SnooperHarness.At(30));
    }

    [Fact]
    public void OneOfTwoHostsLeaves_WithoutAnAnswer_PortGoesAfterLmqt()
    {
        var h = FastLeaveOnP1();
        h.Feed(1, V3ReportFrom("10.0.0.21", GroupRecordType.ChangeToExclude, "239.1.1.1"), 0);
        h.Feed(1, V3ReportFrom("10.0.0.22", GroupRecordType.ChangeToExclude, "239.1.1.1"), 0);
        h.Feed(1, V3ReportFrom("10.0.0.21", GroupRecordType.ChangeToInclude, "239.1.1.1"), 10);
        h.Advance(11.9);
        Assert.Equal(["p1"], h.Members("239.1.1.1"));
        h.Advance(12.1);
        Assert.Empty(h.Members("239.1.1.1"));
    }

    [Fact]
    public void IncludeHosts_BlockOfTheLastSourceOfTheLastHost_RemovesAtOnce()
    {
        var h = FastLeaveOnP1();
        h.Feed(1, V3ReportFrom("10.0.0.21", GroupRecordType.ChangeToInclude, "232.1.1.1", "10.9.9.1"), 0);
        h.Feed(1, V3ReportFrom("10.0.0.22", GroupRecordType.AllowNewSources, "232.1.1.1", "10.9.9.2"), 0);
        h.Feed(1, V3ReportFrom("10.0.0.21", GroupRecordType.BlockOldSources, "232.1.1.1", "10.9.9.1"), 5);
        Assert.Equal(["p1"], h.Members("232.1.1.1"));
        h.Feed(1, V3ReportFrom("10.0.0.22", GroupRecordType.BlockOldSources, "232.1.1.1", "10.9.9.2"), 6);
        Assert.Empty(h.Members("232.1.1.1"));
    }

    [Fact]
    public void Igmpv2Leave_OnFastLeavePort_RemovesAtOnce_EvenWithOtherHosts()
    {
        var h = FastLeaveOnP1();
        h.Feed(1, V2Report("239.1.1.1", src: Ip("10.0.0.21")), 0);
        h.Feed(1, V3ReportFrom("10.0.0.22", GroupRecordType.ChangeToExclude, "239.1.1.1"), 0);
        h.Feed(1, V2LeaveFrom("10.0.0.21", "239.1.1.1"), 5);
        Assert.Empty(h.Members("239.1.1.1"));
    }

    [Fact]
    public void HostsBeyondTheLimit_AreNotTracked_SoTheTrackedOnesLeavingRemovesThePort()
    {
        var h = FastLeaveOnP1(hostLimit: 1);
        h.Feed(1, V3ReportFrom("10.0.0.21", GroupRecordType.ChangeToExclude, "239.1.1.1"), 0);
        h.Feed(1, V3ReportFrom("10.0.0.22", GroupRecordType.ChangeToExclude, "239.1.1.1"), 0);
        h.Feed(1, V3ReportFrom("10.0.0.21", GroupRecordType.ChangeToInclude, "239.1.1.1"), 5);
        Assert.Empty(h.Members("239.1.1.1"));
    }

    [Fact]
    public void HostSilentForGmi_IsForgotten()
    {
        var h = FastLeaveOnP1();
        h.Feed(1, V3ReportFrom("10.0.0.21", GroupRecordType.ChangeToExclude, "239.1.1.1"), 0);
        h.Feed(1, V3ReportFrom("10.0.0.22", GroupRecordType.ChangeToExclude, "239.1.1.1"), 0);
        h.Feed(1, V3ReportFrom("10.0.0.21", GroupRecordType.ModeIsExclude, "239.1.1.1"), 250);
        h.Feed(1, V3ReportFrom("10.0.0.21", GroupRecordType.ChangeToInclude, "239.1.1.1"), 270);  // .22 went quiet at 0
        Assert.Empty(h.Members("239.1.1.1"));
    }

    [Fact]
    public void NotFastLeavePort_NeverRemovesAtOnce()
    {
        var h = new SnooperHarness();
        h.Feed(1, V3ReportFrom("10.0.0.21", GroupRecordType.ChangeToExclude, "239.1.1.1"), 0);
        h.Feed(1, V3ReportFrom("10.0.0.21", GroupRecordType.ChangeToInclude, "239.1.1.1"), 5);
        Assert.Equal(["p1"], h.Members("239.1.1.1"));
        h.Advance(7.1);
        Assert.Empty(h.Members("239.1.1.1"));
    }
}
