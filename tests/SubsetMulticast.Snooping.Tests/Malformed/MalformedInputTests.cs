using System.Buffers.Binary;
using SubsetMulticast.Packets;
using SubsetMulticast.Snooping.Reporting;
using static SubsetMulticast.Snooping.Tests.Frames;

namespace SubsetMulticast.Snooping.Tests.Malformed;

/// <summary>
/// Malformed frames are dropped and counted per reason; nothing throws and no state changes (groups, routers,
/// queriers, hosts are compared as JSON before and after, at the same timestamp).
/// </summary>
public sealed class MalformedInputTests
{
    private static SnooperHarness Seeded()
    {
        var h = new SnooperHarness();
        h.Feed(1, V2Report("239.1.1.1"), 0);
        h.Feed(2, V3Report(GroupRecordType.ModeIsInclude, "232.1.1.1", "10.9.9.1"), 0);
        h.Feed(3, Mld2Report(GroupRecordType.ChangeToExclude, "ff0e::1"), 0);
        h.Feed(4, V3Query(RouterV4), 0);
        return h;
    }

    private static string State(SnooperHarness h)
    {
        var s = h.Snooper.Snapshot();
        return SnoopingJson.ToJson(s with { Dropped = new Dictionary<DropReason, long>(), FramesSeen = 0, MessagesApplied = 0 });
    }

    private static void AssertDropped(byte[] frame, DropReason reason, int port = 1)
    {
        var h = Seeded();
        string before = State(h);
        long count = h.Snooper.GetDropped(reason);
        var outcome = h.Feed(port, frame, 0);
        Assert.Equal(FrameOutcome.Dropped, outcome);
        Assert.Equal(count + 1, h.Snooper.GetDropped(reason));
        Assert.Equal(before, State(h));
    }

    public static TheoryData<string, byte[]> ValidFrames() => new()
    {
        { "IGMPv1 report", V1Report("239.7.7.7") },
        { "IGMPv2 report", V2Report("239.7.7.7") },
        { "IGMPv2 leave", V2Leave("239.1.1.1") },
        { "IGMPv3 report, 2 records", V3Report([new GroupRecord(GroupRecordType.ChangeToExclude, Ip("239.7.7.7")),
            new GroupRecord(GroupRecordType.AllowNewSources, Ip("232.1.1.1"), new[] { Ip("10.9.9.2"), Ip("10.9.9.3") })]) },
        { "IGMPv3 query", V3Query(Ip("10.0.0.2"), "239.1.1.1", 10, default, "10.9.9.1") },
        { "MLDv1 report", Mld1Report("ff0e::7") },
        { "MLDv1 done", Mld1Done("ff0e::1") },
        { "MLDv2 report", Mld2Report(GroupRecordType.ModeIsInclude, "ff3e::7", "2001:db8::1", "2001:db8::2") },
        { "MLDv2 query", Mld2Query(Ip("fe80::2"), "ff0e::1") },
        { "ARP", Arp(Core.Addressing.MacAddress.Parse("02:00:00:00:00:77"), Ip("10.0.0.77")) },
        { "ND advertisement", NeighborAdvert(Core.Addressing.MacAddress.Parse("02:00:00:00:00:78"), Ip("2001:db8::78")) },
    };

    [Theory]
    [MemberData(nameof(ValidFrames))]
    public void TruncatedAtEveryOffset_IsDroppedAsTruncated_WithoutStateChange(string name, byte[] frame)
    {
        var h = Seeded();
        string before = State(h);
        for (int cut = 0; cut < frame.Length; cut++)
        {
            var outcome = h.Feed(1, frame[..cut], 0);
            Assert.True(outcome == FrameOutcome.Dropped, $"{name} cut at {cut}: {outcome}");
            Assert.Equal(before, State(h));
        }
        Assert.Equal(frame.Length, h.Snooper.GetDropped(DropReason.Truncated) + h.Snooper.GetDropped(DropReason.BogusCount));
        Assert.NotEqual(FrameOutcome.Dropped, h.Feed(1, frame, 0));   // and the whole frame is fine
    }

    [Theory]
    [MemberData(nameof(ValidFrames))]
    public void EveryByteFlipped_NeverThrows(string name, byte[] frame)
    {
        var h = Seeded();
        for (int i = 0; i < frame.Length; i++)
        {
            foreach (byte mask in new byte[] { 0x01, 0x80, 0xFF })
            {
                var f = (byte[])frame.Clone();
                f[i] ^= mask;
                var ex = Record.Exception(() => h.Feed(1 + i % 4, f, 0));
                Assert.True(ex is null, $"{name}: byte {i} ^ {mask:x2} threw {ex}");
            }
        }
    }

    [Fact]
    public void BadIgmpChecksum_IsDropped()
    {
        var f = V2Report("239.7.7.7");
        f[Igmp4 + 2] ^= 0x55;
        AssertDropped(f, DropReason.BadChecksum);
    }

    [Fact]
    public void BadIpv4HeaderChecksum_IsDropped()
    {
        var f = V3Report(GroupRecordType.ChangeToExclude, "239.7.7.7");
        f[Ip4 + 10] ^= 0x55;
        AssertDropped(f, DropReason.BadChecksum);
    }

    [Fact]
    public void BadMldChecksum_IsDropped()
    {
        var f = Mld2Report(GroupRecordType.ChangeToExclude, "ff0e::7");
        f[^1] ^= 0x55;
        AssertDropped(f, DropReason.BadChecksum);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(64)]
    [InlineData(255)]
    public void WrongIgmpTtl_IsDropped(byte ttl) => AssertDropped(WithTtl(V2Report("239.7.7.7"), ttl), DropReason.WrongTtl);

    [Fact]
    public void WrongMldHopLimit_IsDropped()
    {
        var f = Mld1Report("ff0e::7");
        f[14 + 7] = 2;   // hop limit is not in the ICMPv6 checksum
        AssertDropped(f, DropReason.WrongTtl);
    }

    [Fact]
    public void IgmpV3WithoutRouterAlert_IsDropped() => AssertDropped(V3ReportWithoutRouterAlert("239.7.7.7"), DropReason.MissingRouterAlert);

    [Fact]
    public void MldWithoutRouterAlert_IsDropped() => AssertDropped(Mld2ReportWithoutRouterAlert("ff0e::7"), DropReason.MissingRouterAlert);

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(0xFFFF)]
    public void BogusRecordCount_IsDropped(int records)
    {
        var f = V3Report(GroupRecordType.ChangeToExclude, "239.7.7.7");
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(Igmp4 + 6), (ushort)records);
        FixIgmpChecksum(f);
        AssertDropped(f, DropReason.BogusCount);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0x4000)]
    [InlineData(0xFFFF)]
    public void BogusSourceCount_IsDropped(int sources)
    {
        // Two records: the first is valid, the second lies — the first must not be applied either.
        var f = V3Report([new GroupRecord(GroupRecordType.ChangeToExclude, Ip("239.7.7.7")),
            new GroupRecord(GroupRecordType.ChangeToExclude, Ip("239.7.7.8"))]);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(Igmp4 + 8 + 8 + 2), (ushort)sources);
        FixIgmpChecksum(f);
        AssertDropped(f, DropReason.BogusCount);
    }

    [Fact]
    public void BogusAuxLength_IsDropped()
    {
        var f = V3Report(GroupRecordType.ChangeToExclude, "239.7.7.7");
        f[Igmp4 + 8 + 1] = 3;   // aux data words past the end
        FixIgmpChecksum(f);
        AssertDropped(f, DropReason.BogusCount);
    }

    [Fact]
    public void V3RecordWithUnicastGroup_DropsWholeReport()
    {
        var f = V3Report([new GroupRecord(GroupRecordType.ChangeToExclude, Ip("239.7.7.7")),
            new GroupRecord(GroupRecordType.ChangeToExclude, Ip("10.1.2.3"))]);
        AssertDropped(f, DropReason.BadGroup);
    }

    [Fact]
    public void V2ReportForUnicastGroup_IsDropped()
    {
        var f = V2Report("239.7.7.7");
        f[Igmp4 + 4] = 10;   // group 10.7.7.7
        FixIgmpChecksum(f);
        AssertDropped(f, DropReason.BadGroup);
    }

    [Fact]
    public void Drops_AreReportedPerReasonInJson()
    {
        var h = Seeded();
        h.Feed(1, WithTtl(V2Report("239.7.7.7"), 5), 0);
        h.Feed(1, V2Report("239.7.7.7")[..20], 0);
        string json = SnoopingJson.ToJson(h.Snooper.Snapshot());
        Assert.Contains("\"dropped\":{\"truncated\":1,\"wrongTtl\":1}", json, StringComparison.Ordinal);
    }
}
