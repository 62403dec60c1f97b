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

    /// <summary>
    /// A flood of malformed IGMP/MLD (bad IGMP checksum, bad IPv4 header checksum, TTL 2, MLD checksum, an IGMPv3
    /// record count past the end) is dropped with its reason and allocates nothing: the readers return a status,
    /// no exception is thrown per frame.
    /// </summary>
    [Fact]
    public void MalformedFlood_DroppedWithReasons_AllocatesNothing()
    {
        var h = new SnooperHarness();
        static byte[] Flip(byte[] f, int at) { f[at] ^= 0x5A; return f; }
        var v3 = V3Report([new GroupRecord(GroupRecordType.ModeIsExclude, Ip("239.1.1.2"))]);
        var bogusCount = v3.ToArray();
        bogusCount[14 + 24 + 6] = 0x40;   // record count 0x40xx: past the message (checksum fixed below)
        FixIgmpChecksum(bogusCount, 14 + 24);
        (byte[] Frame, DropReason Reason)[] frames =
        [
            (Flip(V2Report("239.1.1.1"), 14 + 24 + 2), DropReason.BadChecksum),   // IGMP checksum (after a 24-byte header with Router Alert)
            (Flip(V2Report("239.1.1.1"), 14 + 10), DropReason.BadChecksum),       // IPv4 header checksum
            (WithTtl(V2Report("239.1.1.1"), 2), DropReason.WrongTtl),
            (Flip(Mld2Report(GroupRecordType.ModeIsExclude, "ff0e::1"), 14 + 48 + 2), DropReason.BadChecksum),
            (bogusCount, DropReason.BogusCount),
        ];
        foreach (var (f, reason) in frames)
        {
            long was = h.Snooper.GetDropped(reason);
            Assert.Equal(FrameOutcome.Dropped, h.Feed(1, f, 0.001));
            Assert.Equal(was + 1, h.Snooper.GetDropped(reason));
        }
        double t = 0;
        for (int i = 0; i < 2000; i++) foreach (var (f, _) in frames) h.Feed(1, f, t += 0.001);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20000; i++) foreach (var (f, _) in frames) h.Feed(1, f, t += 0.001);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static void FixIgmpChecksum(byte[] frame, int at)
    {
        int total = (frame[14 + 2] << 8 | frame[14 + 3]) - (at - 14);
        frame[at + 2] = frame[at + 3] = 0;
        uint sum = 0;
        for (int i = 0; i < total; i += 2) sum += (uint)(frame[at + i] << 8 | (i + 1 < total ? frame[at + i + 1] : 0));
        while (sum > 0xFFFF) sum = (sum & 0xFFFF) + (sum >> 16);
        ushort c = (ushort)~sum;
        frame[at + 2] = (byte)(c >> 8);
        frame[at + 3] = (byte)c;
    }
}
