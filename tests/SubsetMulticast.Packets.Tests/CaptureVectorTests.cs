using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Packets.Ethernet;
using SubsetMulticast.Packets.Igmp;
using SubsetMulticast.Packets.Ip;
using SubsetMulticast.Packets.Mld;
using SubsetMulticast.Packets.Tests.Support;

namespace SubsetMulticast.Packets.Tests;

/// <summary>Decode real captures and re-encode their messages with our writers to the same bytes.</summary>
public sealed class CaptureVectorTests
{
    [Theory]
    [InlineData(Vectors.IgmpV1Report, "10.60.0.132", "224.0.1.60", 0x12, 1, "224.0.1.60", false)]
    [InlineData(Vectors.IgmpV2Query, "10.60.0.189", "224.0.0.1", 0x11, 2, "0.0.0.0", false)]
    [InlineData(Vectors.IgmpV2Report, "10.60.5.103", "239.255.255.253", 0x16, 2, "239.255.255.253", true)]
    [InlineData(Vectors.IgmpV3Query, "192.168.1.254", "224.0.0.1", 0x11, 3, "0.0.0.0", true)]
    [InlineData(Vectors.IgmpV3Report, "192.168.1.66", "224.0.0.22", 0x22, 3, "0.0.0.0", true)]
    public void Igmp_CaptureDecodes_AndReencodesToSameMessage(string hex, string src, string dst, int type, int version, string group, bool ra)
    {
        var frame = Hex.Parse(hex);
        Assert.True(EthernetFrame.TryRead(frame, out var eth));
        Assert.Equal(EtherTypes.Ipv4, eth.EtherType);
        Assert.False(eth.Tagged);
        Assert.Equal(MulticastMac.For(IpAddress.Parse(dst)), eth.Destination);
        Assert.True(IpPacket.TryRead(eth.Payload, eth.EtherType, out var ip));
        Assert.Equal(IpAddress.Parse(src), ip.Source);
        Assert.Equal(IpAddress.Parse(dst), ip.Destination);
        Assert.Equal(IpProtocols.Igmp, ip.Protocol);
        Assert.Equal(1, ip.Ttl);
        Assert.Equal(ra, ip.HasRouterAlert);
        Assert.True(IgmpMessage.TryReadPacket(ip, out var m));
        Assert.Equal((IgmpType)type, m.Type);
        Assert.Equal(version, m.Version);
        Assert.Equal(IpAddress.Parse(group), m.Group);

        var again = new byte[ip.PayloadLength];
        int n = m.Version == 3 && m.IsQuery
            ? IgmpMessage.WriteV3Query(again, m.MaxResponseDeciseconds, m.Group, m.SuppressRouterProcessing, m.Qrv, m.QueryIntervalSeconds, ToArray(m.Sources))
            : m.Type == IgmpType.V3MembershipReport
                ? IgmpMessage.WriteV3Report(again, ToRecords(m.Records))
                : IgmpMessage.WriteV2(again, m.Type, m.MaxResponseCode, m.Group);
        Assert.Equal(Hex.Of(ip.Payload), Hex.Of(again.AsSpan(0, n)));
    }

    [Fact]
    public void IgmpV3Query_Capture_Fields()
    {
        var m = ReadIgmp(Vectors.IgmpV3Query);
        Assert.Equal(24, m.MaxResponseDeciseconds); // 2.4 s
        Assert.Equal(2, m.Qrv);
        Assert.Equal(20, m.QueryIntervalSeconds);
        Assert.False(m.SuppressRouterProcessing);
        Assert.Equal(0, m.Sources.Count);
    }

    [Fact]
    public void IgmpV3Report_Capture_Records()
    {
        var m = ReadIgmp(Vectors.IgmpV3Report);
        Assert.Equal(2, m.Records.Count);
        var seen = new List<string>();
        foreach (var r in m.Records) seen.Add($"{r.Type} {r.Group} {r.Sources.Count}");
        Assert.Equal(["ModeIsExclude 239.195.7.2 0", "ModeIsExclude 239.255.255.250 0"], seen);
    }

    [Fact]
    public void IgmpV1Report_Capture_IgnoresEthernetPadding()
    {
        var frame = Hex.Parse(Vectors.IgmpV1Report);
        Assert.True(EthernetFrame.TryRead(frame, out var eth));
        Assert.True(IpPacket.TryRead(eth.Payload, eth.EtherType, out var ip));
        Assert.Equal(28, ip.TotalLength);
        Assert.Equal(8, ip.Payload.Length);
        Assert.True(eth.Payload.Length > 28);
    }

    [Theory]
    [InlineData(Vectors.MldV2Query, "fe80::b2a8:6eff:fe0c:d4e8", "ff02::1", 130, 2, 0)]
    [InlineData(Vectors.MldV2Report, "fe80::215:17ff:fecc:e546", "ff02::16", 143, 2, 4)]
    public void Mld_CaptureDecodes_AndReencodesToSameMessage(string hex, string src, string dst, int type, int version, int records)
    {
        var frame = Hex.Parse(hex);
        Assert.True(EthernetFrame.TryRead(frame, out var eth));
        Assert.Equal(EtherTypes.Ipv6, eth.EtherType);
        Assert.True(IpPacket.TryRead(eth.Payload, eth.EtherType, out var ip));
        Assert.Equal(IpAddress.Parse(src), ip.Source);
        Assert.Equal(IpAddress.Parse(dst), ip.Destination);
        Assert.Equal(IpProtocols.Icmpv6, ip.Protocol);
        Assert.Equal(48, ip.PayloadOffset);
        Assert.True(ip.HasRouterAlert);
        Assert.Equal(0, ip.RouterAlertValue);
        Assert.True(MldMessage.TryReadPacket(ip, out var m));
        Assert.Equal((MldType)type, m.Type);
        Assert.Equal(version, m.Version);
        Assert.Equal(records, m.Records.Count);

        var again = new byte[ip.PayloadLength];
        int n = m.IsQuery
            ? MldMessage.WriteV2Query(again, ip.Source, ip.Destination, m.MaxResponseDelayMilliseconds, m.MulticastAddress, m.SuppressRouterProcessing, m.Qrv, m.QueryIntervalSeconds, ToArray(m.Sources))
            : MldMessage.WriteV2Report(again, ip.Source, ip.Destination, ToRecords(m.Records));
        Assert.Equal(Hex.Of(ip.Payload), Hex.Of(again.AsSpan(0, n)));
    }

    [Fact]
    public void MldV2Query_Capture_Fields()
    {
        var frame = Hex.Parse(Vectors.MldV2Query);
        EthernetFrame.TryRead(frame, out var eth);
        IpPacket.TryRead(eth.Payload, eth.EtherType, out var ip);
        Assert.True(MldMessage.TryReadPacket(ip, out var m));
        Assert.Equal(10000, m.MaxResponseDelayMilliseconds);
        Assert.Equal(2, m.Qrv);
        Assert.Equal(60, m.QueryIntervalSeconds);
        Assert.True(m.MulticastAddress.IsUnspecified);
        Assert.Equal(0x623a, m.Checksum);
    }

    [Fact]
    public void MldV2Report_Capture_Records()
    {
        var frame = Hex.Parse(Vectors.MldV2Report);
        EthernetFrame.TryRead(frame, out var eth);
        IpPacket.TryRead(eth.Payload, eth.EtherType, out var ip);
        Assert.True(MldMessage.TryReadPacket(ip, out var m));
        var seen = new List<string>();
        foreach (var r in m.Records) seen.Add($"{(int)r.Type} {r.Group}");
        Assert.Equal(["2 ff02::db8:1122:3344", "2 ff02::1:ffcc:e546", "2 ff02::1:ffa7:10ad", "2 ff02::1:ff00:2"], seen);
    }

    [Fact]
    public void Ipv4_Rfc1071Example_ChecksumVerifies_AndWriterReproducesIt()
    {
        var h = Hex.Parse(Vectors.Ipv4HeaderOnly);
        // Total length 0x73 exceeds the 20 header bytes given: need more bytes.
        Assert.False(IpPacket.TryRead(h, EtherTypes.Ipv4, out _));
        var whole = new byte[0x73];
        h.CopyTo(whole, 0);
        Assert.True(IpPacket.TryRead(whole, EtherTypes.Ipv4, out var ip));
        Assert.Equal(IpAddress.Parse("192.168.0.199"), ip.Destination);
        Assert.Equal(0x73 - 20, ip.PayloadLength);

        var mine = new byte[20];
        IpPacket.WriteHeader(mine, ip.Source, ip.Destination, 17, 0x73 - 20, 64);
        // Our writer leaves DF clear and id 0; set DF as the example has and recompute: the checksum must match.
        mine[6] = 0x40;
        mine[10] = mine[11] = 0;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(mine.AsSpan(10), InternetChecksum.Finish(InternetChecksum.Sum(mine)));
        Assert.Equal(Hex.Of(h), Hex.Of(mine));
    }

    private static IgmpMessage ReadIgmp(string hex)
    {
        var frame = Hex.Parse(hex);
        EthernetFrame.TryRead(frame, out var eth);
        IpPacket.TryRead(eth.Payload, eth.EtherType, out var ip);
        Assert.True(IgmpMessage.TryReadPacket(ip, out var m));
        return m;
    }

    internal static IpAddress[] ToArray(SourceList s)
    {
        var a = new IpAddress[s.Count];
        for (int i = 0; i < a.Length; i++) a[i] = s[i];
        return a;
    }

    internal static GroupRecord[] ToRecords(GroupRecordList list)
    {
        var r = new List<GroupRecord>();
        foreach (var v in list) r.Add(new GroupRecord(v.Type, v.Group, ToArray(v.Sources), v.AuxData.ToArray()));
        return r.ToArray();
    }
}
