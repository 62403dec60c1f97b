using System.Buffers.Binary;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Packets.Ethernet;

namespace SubsetMulticast.Packets.Ip;

/// <summary>IP protocol / IPv6 next-header numbers we use.</summary>
public static class IpProtocols
{
    public const byte HopByHop = 0;
    public const byte Igmp = 2;
    public const byte Udp = 17;
    public const byte Routing = 43;
    public const byte Fragment = 44;
    public const byte Esp = 50;
    public const byte Ah = 51;
    public const byte Icmpv6 = 58;
    public const byte NoNextHeader = 59;
    public const byte DestinationOptions = 60;
    public const byte Mobility = 135;
}

/// <summary>
/// An IPv4 or IPv6 header, with IPv4 options and the IPv6 extension-header chain walked to the upper layer.
/// <code>
/// IPv4 (RFC 791): ver|ihl tos totlen(2) id(2) flags|frag(2) ttl proto cksum(2) src(4) dst(4) options
/// IPv6 (RFC 8200): ver|tc|flow(4) paylen(2) next hop src(16) dst(16) [ext headers]
/// </code>
/// </summary>
public readonly ref struct IpPacket
{
    public const int Ipv4MinHeaderLength = 20;
    public const int Ipv6HeaderLength = 40;
    /// <summary>Bound on the IPv6 extension-header walk.</summary>
    public const int MaxExtensionHeaders = 8;

    private readonly ReadOnlySpan<byte> _packet;

    private IpPacket(ReadOnlySpan<byte> packet, int version, IpAddress src, IpAddress dst, byte protocol, byte hop,
        bool ra, ushort raValue, int payloadOffset, int payloadLength, bool fragment, byte trafficClass)
    {
        _packet = packet;
        Version = version;
        Source = src;
        Destination = dst;
        Protocol = protocol;
        HopLimit = hop;
        HasRouterAlert = ra;
        RouterAlertValue = raValue;
        PayloadOffset = payloadOffset;
        PayloadLength = payloadLength;
        IsFragment = fragment;
        TrafficClass = trafficClass;
    }

    /// <summary>4 or 6.</summary>
    public int Version { get; }
    public IpAddress Source { get; }
    public IpAddress Destination { get; }
    /// <summary>
    /// The upper-layer protocol: IPv4 protocol, or the IPv6 next header after the extension chain. A non-first
    /// fragment carries no upper-layer header and reports <see cref="IpProtocols.Fragment"/>.
    /// </summary>
    public byte Protocol { get; }
    public byte HopLimit { get; }
    public byte Ttl => HopLimit;
    /// <summary>IPv4 option 148 (RFC 2113) or an IPv6 Hop-by-Hop option 5 (RFC 2711).</summary>
    public bool HasRouterAlert { get; }
    /// <summary>0 for IGMP (IPv4) and MLD (IPv6, RFC 2711).</summary>
    public ushort RouterAlertValue { get; }
    /// <summary>Offset of the upper-layer payload from the start of the IP header.</summary>
    public int PayloadOffset { get; }
    public int PayloadLength { get; }
    /// <summary>Header plus extension headers plus payload: excludes Ethernet padding.</summary>
    public int TotalLength => PayloadOffset + PayloadLength;
    public bool IsFragment { get; }
    /// <summary>IPv4 TOS / IPv6 traffic class.</summary>
    public byte TrafficClass { get; }
    public ReadOnlySpan<byte> Payload => _packet.Slice(PayloadOffset, PayloadLength);
    /// <summary>The whole packet, without Ethernet padding.</summary>
    public ReadOnlySpan<byte> Packet => _packet[..TotalLength];

    public static bool IsIp(ushort etherType) => etherType is EtherTypes.Ipv4 or EtherTypes.Ipv6;

    /// <summary>
    /// Reads an IP packet. False only when <paramref name="l3"/> is shorter than the header or the length the
    /// header declares; trailing bytes (Ethernet padding) are ignored. The IPv4 header checksum is verified.
    /// </summary>
    /// <exception cref="ArgumentException">EtherType is neither IPv4 nor IPv6.</exception>
    public static bool TryRead(ReadOnlySpan<byte> l3, ushort etherType, out IpPacket p) => etherType switch
    {
        EtherTypes.Ipv4 => TryReadV4(l3, out p),
        EtherTypes.Ipv6 => TryReadV6(l3, out p),
        _ => throw new ArgumentException($"EtherType 0x{etherType:x4} is not IP.", nameof(etherType)),
    };

    public static bool TryReadV4(ReadOnlySpan<byte> l3, out IpPacket p) => ReadV4(l3, out p, out var fault).Succeeded(fault);

    /// <summary>As <see cref="TryReadV4"/>, without throwing: malformed input is <see cref="ReadStatus.Malformed"/> and a <paramref name="fault"/>.</summary>
    public static ReadStatus ReadV4(ReadOnlySpan<byte> l3, out IpPacket p, out PacketFault fault)
    {
        fault = default;
        p = default;
        if (l3.Length < Ipv4MinHeaderLength) return ReadStatus.NeedMoreBytes;
        if (l3[0] >> 4 != 4) return PacketFault.Fail(out fault, PacketError.BadVersion, 0);
        int hl = (l3[0] & 0x0F) * 4;
        if (hl < Ipv4MinHeaderLength) return PacketFault.Fail(out fault, PacketError.BadHeaderLength, 0);
        if (l3.Length < hl) return ReadStatus.NeedMoreBytes;
        int total = BinaryPrimitives.ReadUInt16BigEndian(l3[2..]);
        if (total < hl) return PacketFault.Fail(out fault, PacketError.BadLength, 2);
        if (l3.Length < total) return ReadStatus.NeedMoreBytes;
        // RFC 1071: the sum over the header including its checksum is all ones.
        if (!InternetChecksum.IsValid(InternetChecksum.Sum(l3[..hl]))) return PacketFault.Fail(out fault, PacketError.BadChecksum, 10);

        bool ra = false;
        ushort raValue = 0;
        // RFC 791 options: EOL 0, NOP 1, else type|length|data; at most 40 bytes, so the walk is bounded by hl.
        for (int o = Ipv4MinHeaderLength; o < hl;)
        {
            byte type = l3[o];
            if (type == 0) break;
            if (type == 1) { o++; continue; }
            if (o + 1 >= hl) return PacketFault.Fail(out fault, PacketError.BadOption, o);
            int olen = l3[o + 1];
            if (olen < 2 || o + olen > hl) return PacketFault.Fail(out fault, PacketError.BadOption, o + 1);
            if (type == 0x94)
            {
                // RFC 2113: 94 04 value(2).
                if (olen != 4) return PacketFault.Fail(out fault, PacketError.BadOption, o + 1);
                ra = true;
                raValue = BinaryPrimitives.ReadUInt16BigEndian(l3[(o + 2)..]);
            }
            o += olen;
        }

        ushort frag = BinaryPrimitives.ReadUInt16BigEndian(l3[6..]);
        bool isFragment = (frag & 0x3FFF) != 0;
        p = new IpPacket(l3, 4, IpAddress.FromV4(l3[12..]), IpAddress.FromV4(l3[16..]), l3[9], l3[8], ra, raValue,
            hl, total - hl, isFragment, l3[1]);
        return ReadStatus.Ok;
    }

    public static bool TryReadV6(ReadOnlySpan<byte> l3, out IpPacket p) => ReadV6(l3, out p, out var fault).Succeeded(fault);

    /// <summary>As <see cref="TryReadV6"/>, without throwing: malformed input is <see cref="ReadStatus.Malformed"/> and a <paramref name="fault"/>.</summary>
    public static ReadStatus ReadV6(ReadOnlySpan<byte> l3, out IpPacket p, out PacketFault fault)
    {
        fault = default;
        p = default;
        if (l3.Length < Ipv6HeaderLength) return ReadStatus.NeedMoreBytes;
        if (l3[0] >> 4 != 6) return PacketFault.Fail(out fault, PacketError.BadVersion, 0);
        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(l3[4..]);
        int end = Ipv6HeaderLength + payloadLength;
        if (l3.Length < end) return ReadStatus.NeedMoreBytes;

        byte next = l3[6];
        int o = Ipv6HeaderLength;
        bool ra = false, fragment = false;
        ushort raValue = 0;
        for (int count = 0; ; count++)
        {
            if (!IsExtensionHeader(next)) break;
            if (count >= MaxExtensionHeaders) return PacketFault.Fail(out fault, PacketError.TooManyExtensionHeaders, o);
            if (end - o < 8) return PacketFault.Fail(out fault, PacketError.BadExtensionHeader, o);
            int len;
            byte following = l3[o];
            if (next == IpProtocols.Fragment)
            {
                // RFC 8200 §4.5: next(1) reserved(1) offset(13)|res(2)|M(1) id(4).
                len = 8;
                fragment = true;
                if ((BinaryPrimitives.ReadUInt16BigEndian(l3[(o + 2)..]) >> 3) != 0)
                {
                    // A non-first fragment: no upper-layer header here.
                    o += len;
                    next = IpProtocols.Fragment;
                    break;
                }
            }
            else
            {
                len = next == IpProtocols.Ah ? (l3[o + 1] + 2) * 4 : (l3[o + 1] + 1) * 8;
                if (len > end - o) return PacketFault.Fail(out fault, PacketError.BadExtensionHeader, o + 1);
                if (next == IpProtocols.HopByHop)
                {
                    // RFC 8200 §4.3: Hop-by-Hop only immediately after the IPv6 header.
                    if (count != 0) return PacketFault.Fail(out fault, PacketError.BadExtensionHeader, o);
                    if (ReadHopByHopOptions(l3.Slice(o, len), o, ref ra, ref raValue, out fault) != ReadStatus.Ok) return ReadStatus.Malformed;
                }
            }
            o += len;
            next = following;
        }

        // IPv4-mapped addresses (::ffff:0:0/96) never belong on the wire (RFC 4291 §2.5.5.2, RFC 4942 §2.2): our
        // IpAddress holds IPv4 in exactly that form, so such a packet would read as IPv6 with IPv4 addresses and
        // the ICMPv6/UDP checksum could not even be computed.
        var source = IpAddress.FromV6(l3[8..]);
        var destination = IpAddress.FromV6(l3[24..]);
        if (source.IsV4) return PacketFault.Fail(out fault, PacketError.BadSourceAddress, 8);
        if (destination.IsV4) return PacketFault.Fail(out fault, PacketError.BadAddress, 24);
        p = new IpPacket(l3, 6, source, destination, next, l3[7], ra, raValue,
            o, end - o, fragment, (byte)(BinaryPrimitives.ReadUInt16BigEndian(l3) >> 4));
        return ReadStatus.Ok;
    }

    private static bool IsExtensionHeader(byte next) => next is IpProtocols.HopByHop or IpProtocols.Routing
        or IpProtocols.Fragment or IpProtocols.DestinationOptions or IpProtocols.Ah or IpProtocols.Mobility;

    private static ReadStatus ReadHopByHopOptions(ReadOnlySpan<byte> header, int baseOffset, ref bool ra, ref ushort raValue, out PacketFault fault)
    {
        fault = default;
        // TLV options (RFC 8200 §4.2): Pad1 is a lone zero byte; others are type|len|data. Bounded by header length.
        for (int o = 2; o < header.Length;)
        {
            byte type = header[o];
            if (type == 0) { o++; continue; }
            if (o + 2 > header.Length) return PacketFault.Fail(out fault, PacketError.BadOption, baseOffset + o);
            int olen = header[o + 1];
            if (o + 2 + olen > header.Length) return PacketFault.Fail(out fault, PacketError.BadOption, baseOffset + o + 1);
            if (type == 5)
            {
                // RFC 2711: Router Alert, length 2, value 0 = MLD.
                if (olen != 2) return PacketFault.Fail(out fault, PacketError.BadOption, baseOffset + o + 1);
                ra = true;
                raValue = BinaryPrimitives.ReadUInt16BigEndian(header[(o + 2)..]);
            }
            o += 2 + olen;
        }
        return ReadStatus.Ok;
    }

    /// <summary>Header length <see cref="WriteHeader"/> produces for this family.</summary>
    public static int GetHeaderLength(IpAddress source, bool routerAlert) =>
        source.IsV4 ? (routerAlert ? 24 : 20) : (routerAlert ? 48 : 40);

    /// <summary>
    /// Writes an IPv4 header (with checksum; option 94 04 00 00 when <paramref name="routerAlert"/>) or an IPv6
    /// header (with a Hop-by-Hop header holding Router Alert 0 and PadN) for <paramref name="payloadLength"/>
    /// upper-layer bytes. The family follows the addresses. Returns the header length.
    /// </summary>
    public static int WriteHeader(Span<byte> destination, IpAddress source, IpAddress dst, byte protocol, int payloadLength,
        byte ttl, bool routerAlert = false, byte trafficClass = 0)
    {
        if (source.IsV4 != dst.IsV4) throw new ArgumentException("Source and destination families differ.", nameof(dst));
        int hl = GetHeaderLength(source, routerAlert);
        Guard.Room(destination, hl);
        if (source.IsV4)
        {
            if (payloadLength < 0 || payloadLength + hl > ushort.MaxValue) throw new ArgumentOutOfRangeException(nameof(payloadLength));
            var h = destination[..hl];
            h.Clear();
            h[0] = (byte)(0x40 | (hl / 4));
            h[1] = trafficClass;
            BinaryPrimitives.WriteUInt16BigEndian(h[2..], (ushort)(hl + payloadLength));
            h[8] = ttl;
            h[9] = protocol;
            source.WriteTo(h[12..]);
            dst.WriteTo(h[16..]);
            if (routerAlert) { h[20] = 0x94; h[21] = 0x04; }
            BinaryPrimitives.WriteUInt16BigEndian(h[10..], InternetChecksum.Finish(InternetChecksum.Sum(h)));
            return hl;
        }

        int extLength = routerAlert ? 8 : 0;
        if (payloadLength < 0 || payloadLength + extLength > ushort.MaxValue) throw new ArgumentOutOfRangeException(nameof(payloadLength));
        var v6 = destination[..hl];
        v6.Clear();
        BinaryPrimitives.WriteUInt32BigEndian(v6, 0x6000_0000u | ((uint)trafficClass << 20));
        BinaryPrimitives.WriteUInt16BigEndian(v6[4..], (ushort)(payloadLength + extLength));
        v6[6] = routerAlert ? IpProtocols.HopByHop : protocol;
        v6[7] = ttl;
        source.WriteTo(v6[8..]);
        dst.WriteTo(v6[24..]);
        if (routerAlert)
        {
            // next | len 0 | RA: 05 02 00 00 | PadN: 01 00
            v6[40] = protocol;
            v6[42] = 5;
            v6[43] = 2;
            v6[46] = 1;
        }
        return hl;
    }
}
