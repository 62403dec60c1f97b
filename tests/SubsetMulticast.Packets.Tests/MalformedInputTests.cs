using System.Buffers.Binary;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Packets.Arp;
using SubsetMulticast.Packets.Ethernet;
using SubsetMulticast.Packets.Igmp;
using SubsetMulticast.Packets.Ip;
using SubsetMulticast.Packets.Mld;
using SubsetMulticast.Packets.Ndp;
using SubsetMulticast.Packets.Tests.Support;
using SubsetMulticast.Packets.Udp;

namespace SubsetMulticast.Packets.Tests;

/// <summary>Bad input makes readers return false (need more bytes) or throw MalformedPacketException with the
/// right reason — never any other exception.</summary>
public sealed class MalformedInputTests
{
    public static TheoryData<string> AllFrameNames()
    {
        var d = new TheoryData<string>();
        foreach (var f in Frames()) d.Add(f.Name);
        return d;
    }

    private static IEnumerable<(string Name, byte[] Bytes)> Frames() =>
        Catalog.All().Select(f => (f.Name, f.Bytes))
            .Concat(Vectors.AllFrames.Select((h, i) => ($"capture-{i}", Hex.Parse(h))));

    private static byte[] Frame(string name) => Frames().First(f => f.Name == name).Bytes;

    /// <summary>Outcome of the whole-stack walk; any exception but ours fails with the case named.</summary>
    private static string Outcome(byte[] frame, string what)
    {
        try
        {
            return Stack.Outcome(frame);
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} escaped: {e.Message}");
            return "";
        }
    }

    [Theory]
    [MemberData(nameof(AllFrameNames))]
    public void ValidFrame_ParsesOk(string name) => Assert.Equal("ok", Outcome(Frame(name), name));

    [Theory]
    [MemberData(nameof(AllFrameNames))]
    public void Frame_TruncatedAtEveryOffset_ReturnsFalse(string name)
    {
        var frame = Frame(name);
        int ipEnd = IpEnd(frame);
        for (int cut = 0; cut < ipEnd; cut++)
            Assert.Equal("short", Outcome(frame[..cut], $"{name} cut at {cut}"));
    }

    [Theory]
    [MemberData(nameof(AllFrameNames))]
    public void UpperLayer_TruncatedAtEveryOffset_FalseOrMalformed(string name)
    {
        var frame = Frame(name);
        if (!EthernetFrame.TryRead(frame, out var eth) || !IpPacket.IsIp(eth.EtherType))
        {
            if (eth.EtherType == EtherTypes.Arp)
                for (int cut = 0; cut < ArpPacket.Length; cut++) Assert.False(ArpPacket.TryRead(frame.AsSpan(eth.HeaderLength, cut), out _));
            return;
        }
        IpPacket.TryRead(eth.Payload, eth.EtherType, out var ip);
        var payload = ip.Payload.ToArray();
        var (src, dst, proto) = (ip.Source, ip.Destination, ip.Protocol);
        for (int cut = 0; cut < payload.Length; cut++)
        {
            var part = payload.AsSpan(0, cut);
            try
            {
                bool ok = proto switch
                {
                    IpProtocols.Igmp => IgmpMessage.TryRead(part, out _),
                    IpProtocols.Udp => UdpDatagram.TryRead(part, src, dst, out _),
                    _ when payload[0] is 135 or 136 => NeighborMessage.TryRead(part, src, dst, out _),
                    _ => MldMessage.TryRead(part, src, dst, out _),
                };
                Assert.False(ok && cut < 4, $"{name}: a {cut}-byte message read");
            }
            catch (MalformedPacketException)
            {
            }
            catch (Exception e)
            {
                Assert.Fail($"{name} payload cut at {cut}: {e.GetType().Name} escaped: {e.Message}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllFrameNames))]
    public void EveryByte_Overwritten_NeverEscapesAnotherException(string name)
    {
        var frame = Frame(name);
        byte[] values = [0x00, 0xFF, 0x80, 0x7F, 0x01, 0x3F];
        for (int i = 0; i < frame.Length; i++)
        {
            byte original = frame[i];
            foreach (var v in values.Append((byte)(original ^ 0x01)))
            {
                frame[i] = v;
                Outcome(frame, $"{name} byte {i} = 0x{v:x2}");
                // The same with 16-bit fields set huge, the checksum fixed so the count itself is checked.
            }
            frame[i] = original;
        }
    }

    [Theory]
    [MemberData(nameof(AllFrameNames))]
    public void EveryByte_OverwrittenWithChecksumsFixed_NeverEscapesAnotherException(string name)
    {
        var frame = Frame(name);
        for (int i = 0; i < frame.Length; i++)
        {
            byte original = frame[i];
            foreach (byte v in new byte[] { 0xFF, 0x00, 0x40 })
            {
                frame[i] = v;
                var copy = (byte[])frame.Clone();
                FixChecksums(copy);
                Outcome(copy, $"{name} byte {i} = 0x{v:x2} (checksums fixed)");
            }
            frame[i] = original;
        }
    }

    [Theory]
    [InlineData("igmpv3-report-six-types", 6, "BadRecordCount")]     // nrec → 0xFFFF
    [InlineData("igmpv3-report-six-types", 10, "BadSourceCount")]    // first record nsrc → 0xFFFF
    [InlineData("igmpv3-group-source-query", 10, "BadSourceCount")]  // nsrc → 0xFFFF
    [InlineData("mldv2-report-six-types-vlan42", 6, "BadRecordCount")]
    [InlineData("mldv2-report-six-types-vlan42", 10, "BadSourceCount")]
    [InlineData("mldv2-group-source-query", 26, "BadSourceCount")]
    [InlineData("udp-v4", 4, "BadLength")]
    [InlineData("udp-v6-vlan5-odd", 4, "BadLength")]
    public void CountOrLength_SetHuge_ChecksumFixed_IsRejectedWithReason(string name, int offsetInMessage, string reason)
    {
        var frame = Frame(name);
        int at = MessageOffset(frame) + offsetInMessage;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(at), 0xFFFF);
        FixChecksums(frame);
        Assert.Equal(reason, Outcome(frame, name));
    }

    [Theory]
    [InlineData("igmpv3-report-six-types", 9, "BadSourceCount")]   // aux data len → 255 words
    [InlineData("mldv2-report-six-types-vlan42", 9, "BadSourceCount")]
    public void AuxLength_SetHuge_IsRejected(string name, int offsetInMessage, string reason)
    {
        var frame = Frame(name);
        frame[MessageOffset(frame) + offsetInMessage] = 0xFF;
        FixChecksums(frame);
        Assert.Equal(reason, Outcome(frame, name));
    }

    [Theory]
    [InlineData("igmpv2-report")]
    [InlineData("igmpv3-report-six-types")]
    [InlineData("mldv1-report")]
    [InlineData("mldv2-report-six-types-vlan42")]
    [InlineData("udp-v4")]
    [InlineData("udp-v6-vlan5-odd")]
    [InlineData("na-unsolicited-vlan9")]
    [InlineData("ns-dad")]
    public void UpperLayerChecksum_Corrupted_IsBadChecksum(string name)
    {
        var frame = Frame(name);
        frame[MessageOffset(frame) + (name.StartsWith("udp", StringComparison.Ordinal) ? 6 : 2)] ^= 0x10;
        Assert.Equal("BadChecksum", Outcome(frame, name));
    }

    [Fact]
    public void Ipv4HeaderChecksum_Corrupted_IsBadChecksum()
    {
        var frame = Frame("igmpv2-report");
        frame[14 + 10] ^= 0x01;
        Assert.Equal("BadChecksum", Outcome(frame, "ip checksum"));
    }

    [Fact]
    public void UdpV6_ZeroChecksum_IsBadChecksum_ButV4ZeroMeansNone()
    {
        var v6 = Frame("udp-v6-vlan5-odd");
        v6[MessageOffset(v6) + 6] = v6[MessageOffset(v6) + 7] = 0;
        Assert.Equal("BadChecksum", Outcome(v6, "udp v6 zero"));
        var v4 = Frame("udp-v4");
        v4[MessageOffset(v4) + 6] = v4[MessageOffset(v4) + 7] = 0;
        Assert.Equal("ok", Outcome(v4, "udp v4 zero"));
    }

    [Theory]
    [InlineData("igmpv2-report", 2)]
    [InlineData("igmpv3-report-six-types", 64)]
    [InlineData("igmpv3-group-source-query", 0)]
    [InlineData("mldv1-report", 2)]
    [InlineData("mldv2-report-six-types-vlan42", 255)]
    [InlineData("na-unsolicited-vlan9", 64)]
    [InlineData("ns-multicast", 1)]
    public void WrongTtlOrHopLimit_IsBadTtl(string name, byte ttl)
    {
        var frame = Frame(name);
        int ip = IpOffset(frame);
        if (frame[ip] >> 4 == 4) frame[ip + 8] = ttl; else frame[ip + 7] = ttl;
        FixChecksums(frame);
        Assert.Equal("BadTtl", Outcome(frame, name));
    }

    [Fact]
    public void IgmpV3_WithoutRouterAlert_IsMissingRouterAlert_V2IsAccepted()
    {
        var v3 = Frame("igmpv3-report-six-types");
        int ip = IpOffset(v3);
        v3.AsSpan(ip + 20, 4).Fill(1); // 94 04 00 00 → NOP NOP NOP NOP
        FixChecksums(v3);
        Assert.Equal("MissingRouterAlert", Outcome(v3, "v3 no RA"));

        var v2 = Frame("igmpv2-report");
        v2.AsSpan(IpOffset(v2) + 20, 4).Fill(1);
        FixChecksums(v2);
        Assert.Equal("ok", Outcome(v2, "v2 no RA"));
    }

    [Theory]
    [InlineData("mldv1-report")]
    [InlineData("mldv2-report-six-types-vlan42")]
    [InlineData("mldv2-group-source-query")]
    public void Mld_WithoutRouterAlert_IsMissingRouterAlert(string name)
    {
        var frame = Frame(name);
        int hbh = IpOffset(frame) + 40;
        frame[hbh + 2] = 1; // RA option (05 02 00 00) → PadN (01 02 00 00)
        Assert.Equal("MissingRouterAlert", Outcome(frame, name));
    }

    [Fact]
    public void Mld_FromGlobalSource_IsBadSourceAddress()
    {
        var b = new byte[200];
        int n = MldFrames.WriteV1Report(b, Catalog.HostMac, 0, Catalog.GlobalV6, Catalog.GroupV6);
        Assert.Equal("BadSourceAddress", Outcome(b[..n], "global source"));
    }

    [Fact]
    public void IgmpLeave_ForUnicastGroup_IsBadAddress()
    {
        var b = new byte[200];
        int n = IgmpFrames.WriteV2Leave(b, Catalog.HostMac, 0, Catalog.HostV4, IpAddress.Parse("10.1.2.3"));
        Assert.Equal("BadAddress", Outcome(b[..n], "unicast group"));
    }

    [Theory]
    [InlineData(0, 0x55, "BadVersion")]   // version 5
    [InlineData(0, 0x44, "BadHeaderLength")] // IHL 4
    [InlineData(3, 0x10, "BadLength")]    // total length 16 < header length 24
    [InlineData(20, 0x94, "BadOption")]   // option 94 with the following length byte 0x94 — too long
    public void Ipv4Header_Malformed_IsRejectedWithReason(int offset, byte value, string reason)
    {
        var frame = Frame("igmpv2-report");
        int ip = IpOffset(frame);
        frame[ip + offset] = value;
        if (offset == 20) frame[ip + 21] = 0x30;
        FixChecksums(frame);
        Assert.Equal(reason, Outcome(frame, $"ip byte {offset}"));
    }

    [Fact]
    public void Ipv4_TotalLengthHuge_NeedsMoreBytes()
    {
        var frame = Frame("igmpv2-report");
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(IpOffset(frame) + 2), 0xFFFF);
        FixChecksums(frame);
        Assert.Equal("short", Outcome(frame, "total length"));
    }

    [Fact]
    public void Ipv6_HopByHopLengthHuge_IsBadExtensionHeader()
    {
        var frame = Frame("mldv2-report-six-types-vlan42");
        frame[IpOffset(frame) + 41] = 0xFF;
        Assert.Equal("BadExtensionHeader", Outcome(frame, "hbh len"));
    }

    [Fact]
    public void Ipv6_PayloadLengthHuge_NeedsMoreBytes()
    {
        var frame = Frame("mldv2-report-six-types-vlan42");
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(IpOffset(frame) + 4), 0xFFFF);
        Assert.Equal("short", Outcome(frame, "payload length"));
    }

    [Fact]
    public void Vlan4095_IsBadVlan()
    {
        var frame = Frame("igmpv2-leave-vlan100");
        frame[14] |= 0x0F;
        frame[15] = 0xFF;
        Assert.Equal("BadVlan", Outcome(frame, "vid 4095"));
    }

    [Fact]
    public void IgmpQuery_OfNineToElevenBytes_IsBadLength()
    {
        var m = new byte[10];
        m[0] = 0x11;
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), InternetChecksum.Finish(InternetChecksum.Sum(m)));
        var e = Assert.Throws<MalformedPacketException>(() => IgmpMessage.TryRead(m, out _));
        Assert.Equal(PacketError.BadLength, e.Reason);
    }

    [Fact]
    public void Arp_OtherHardware_IsUnsupportedFormat()
    {
        var frame = Frame("arp-gratuitous");
        frame[15] = 6;
        Assert.Equal("UnsupportedFormat", Outcome(frame, "arp htype"));
    }

    [Fact]
    public void Ipv6_ExtensionChain_IsWalked_AndBounded()
    {
        // IPv6 + DestOpts(8) + Routing(8) + Fragment(first) + UDP
        var udp = new byte[12];
        var src = IpAddress.Parse("2001:db8::1");
        var dst = IpAddress.Parse("2001:db8::2");
        UdpDatagram.Write(udp, src, dst, 1, 2, "abcd"u8);
        var p = new byte[40 + 24 + udp.Length];
        IpPacket.WriteHeader(p, src, dst, IpProtocols.DestinationOptions, 24 + udp.Length, 64);
        p[40] = IpProtocols.Routing; p[42] = 1; p[43] = 4;             // PadN 4
        p[48] = IpProtocols.Fragment;                                   // routing type 0, segments 0
        p[56] = IpProtocols.Udp;                                        // fragment offset 0, M 0
        udp.CopyTo(p, 64);
        Assert.True(IpPacket.TryRead(p, EtherTypes.Ipv6, out var ip));
        Assert.Equal(IpProtocols.Udp, ip.Protocol);
        Assert.Equal(64, ip.PayloadOffset);
        Assert.True(ip.IsFragment);
        Assert.True(UdpDatagram.TryRead(ip, out var u));
        Assert.Equal("abcd"u8.ToArray(), u.Payload.ToArray());

        // A non-first fragment carries no upper-layer header.
        p[58] = 0x01;
        Assert.True(IpPacket.TryRead(p, EtherTypes.Ipv6, out var frag));
        Assert.Equal(IpProtocols.Fragment, frag.Protocol);

        // Nine destination-options headers exceed the bound.
        var many = new byte[40 + 9 * 8 + 8];
        IpPacket.WriteHeader(many, src, dst, IpProtocols.DestinationOptions, 9 * 8 + 8, 64);
        for (int i = 0; i < 9; i++) many[40 + 8 * i] = i < 8 ? IpProtocols.DestinationOptions : IpProtocols.Udp;
        var e = Assert.Throws<MalformedPacketException>(() => IpPacket.TryRead(many, EtherTypes.Ipv6, out _));
        Assert.Equal(PacketError.TooManyExtensionHeaders, e.Reason);

        // Hop-by-Hop anywhere but first is malformed.
        p[58] = 0;
        p[48] = IpProtocols.HopByHop;
        p[56] = IpProtocols.Udp;
        e = Assert.Throws<MalformedPacketException>(() => IpPacket.TryRead(p, EtherTypes.Ipv6, out _));
        Assert.Equal(PacketError.BadExtensionHeader, e.Reason);
    }

    // ---- helpers ----

    private static int IpOffset(byte[] frame)
    {
        Assert.True(EthernetFrame.TryRead(frame, out var eth));
        return eth.HeaderLength;
    }

    private static int IpEnd(byte[] frame)
    {
        Assert.True(EthernetFrame.TryRead(frame, out var eth));
        if (!IpPacket.IsIp(eth.EtherType)) return eth.HeaderLength + ArpPacket.Length;
        Assert.True(IpPacket.TryRead(eth.Payload, eth.EtherType, out var ip));
        return eth.HeaderLength + ip.TotalLength;
    }

    private static int MessageOffset(byte[] frame)
    {
        Assert.True(EthernetFrame.TryRead(frame, out var eth));
        Assert.True(IpPacket.TryRead(eth.Payload, eth.EtherType, out var ip));
        return eth.HeaderLength + ip.PayloadOffset;
    }

    /// <summary>Recomputes the IPv4 header and upper-layer checksums from the length fields, tolerating nonsense.</summary>
    internal static void FixChecksums(byte[] frame)
    {
        if (frame.Length < 14) return;
        int ip = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)) == EtherTypes.Vlan ? 18 : 14;
        if (frame.Length < ip + 20) return;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(ip - 2));
        if (type == EtherTypes.Ipv4)
        {
            int hl = (frame[ip] & 0x0F) * 4;
            if (hl < 20 || ip + hl > frame.Length) return;
            frame[ip + 10] = frame[ip + 11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(ip + 10), InternetChecksum.Finish(InternetChecksum.Sum(frame.AsSpan(ip, hl))));
            int total = Math.Min(BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(ip + 2)), frame.Length - ip);
            if (total <= hl) return;
            var msg = frame.AsSpan(ip + hl, total - hl);
            if (frame[ip + 9] == IpProtocols.Igmp && msg.Length >= 4)
            {
                msg[2] = msg[3] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(msg[2..], InternetChecksum.Finish(InternetChecksum.Sum(msg)));
            }
            else if (frame[ip + 9] == IpProtocols.Udp && msg.Length >= 8)
                FixUdp(msg, IpAddress.FromV4(frame.AsSpan(ip + 12)), IpAddress.FromV4(frame.AsSpan(ip + 16)));
        }
        else if (type == EtherTypes.Ipv6 && frame.Length >= ip + 40)
        {
            var src = IpAddress.FromV6(frame.AsSpan(ip + 8));
            var dst = IpAddress.FromV6(frame.AsSpan(ip + 24));
            int end = Math.Min(ip + 40 + BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(ip + 4)), frame.Length);
            int o = ip + 40;
            byte next = frame[ip + 6];
            if (next == 0 && o + 2 <= end) { next = frame[o]; o += (frame[o + 1] + 1) * 8; }
            if (o + 8 > end) return;
            var msg = frame.AsSpan(o, end - o);
            if (next == IpProtocols.Icmpv6)
            {
                msg[2] = msg[3] = 0;
                uint sum = InternetChecksum.Sum(msg, InternetChecksum.PseudoHeader(src, dst, IpProtocols.Icmpv6, msg.Length));
                BinaryPrimitives.WriteUInt16BigEndian(msg[2..], InternetChecksum.Finish(sum));
            }
            else if (next == IpProtocols.Udp) FixUdp(msg, src, dst);
        }
    }

    private static void FixUdp(Span<byte> msg, IpAddress src, IpAddress dst)
    {
        int len = BinaryPrimitives.ReadUInt16BigEndian(msg[4..]);
        if (len < 8 || len > msg.Length) return;
        msg[6] = msg[7] = 0;
        ushort c = InternetChecksum.Finish(InternetChecksum.Sum(msg[..len], InternetChecksum.PseudoHeader(src, dst, IpProtocols.Udp, len)));
        BinaryPrimitives.WriteUInt16BigEndian(msg[6..], c == 0 ? (ushort)0xFFFF : c);
    }
}
