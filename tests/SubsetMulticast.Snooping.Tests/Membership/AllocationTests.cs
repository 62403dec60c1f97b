using SubsetMulticast.Packets;
using static SubsetMulticast.Snooping.Tests.Frames;

namespace SubsetMulticast.Snooping.Tests.Membership;

public sealed class AllocationTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]   // explicit host tracking refreshes its entries in place
    public void SteadyState_ReportsForExistingGroups_AllocateNothing(bool fastLeave)
    {
        var h = new SnooperHarness(fastLeave ? new SnoopingOptions { FastLeavePorts = new HashSet<string> { "p1" } } : null);
        byte[][] frames =
        [
            V2Report("239.1.1.1"),
            V3Report([new GroupRecord(GroupRecordType.ModeIsExclude, Ip("239.1.1.2")),
                new GroupRecord(GroupRecordType.ModeIsInclude, Ip("232.1.1.1"), new[] { Ip("10.9.9.1"), Ip("10.9.9.2") })]),
            Mld2Report(GroupRecordType.ModeIsExclude, "ff0e::1"),
            Mld1Report("ff0e::2"),
            V3Query(RouterV4),
            Arp(HostMac, HostV4),
            WithTtl(V2Report("239.1.1.1"), 1),
            V3ReportFrom("10.0.0.21", GroupRecordType.ModeIsExclude, "239.1.1.2"),
            Mld2ReportFrom("fe80::21", GroupRecordType.ModeIsInclude, "ff3e::1", "2001:db8::1"),
        ];
        double t = 0;
        for (int i = 0; i < 2000; i++) foreach (var f in frames) h.Feed(1, f, t += 0.001);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20000; i++) foreach (var f in frames) h.Feed(1, f, t += 0.001);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }
}
