using System.Buffers.Binary;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Packets.Ip;

namespace SubsetMulticast.Packets.Udp;

/// <summary>
/// A UDP datagram (RFC 768): srcport(2) dstport(2) length(2) checksum(2) payload.
/// </summary>
public readonly ref struct UdpDatagram
{
    public const int HeaderLength = 8;

    private UdpDatagram(ushort sp, ushort dp, int length, ushort checksum, ReadOnlySpan<byte> payload)
    {
        SourcePort = sp;
        DestinationPort = dp;
        Length = length;
        Checksum = checksum;
        Payload = payload;
    }

    public ushort SourcePort { get; }
    public ushort DestinationPort { get; }
    /// <summary>The UDP length field: header plus payload.</summary>
    public int Length { get; }
    public ushort Checksum { get; }
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>
    /// Reads a datagram from an IP payload and verifies its checksum with the pseudo-header of
    /// <paramref name="source"/>/<paramref name="destination"/> (IPv4 checksum 0 = none; IPv6 requires one,
    /// RFC 8200 §8.1). False only when fewer than 8 bytes are present.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> segment, IpAddress source, IpAddress destination, out UdpDatagram d)
    {
        d = default;
        if (segment.Length < HeaderLength) return false;
        int length = BinaryPrimitives.ReadUInt16BigEndian(segment[4..]);
        if (length < HeaderLength || length > segment.Length) Malformed.Throw(PacketError.BadLength, 4);
        ushort checksum = BinaryPrimitives.ReadUInt16BigEndian(segment[6..]);
        if (checksum != 0 || source.IsV6)
        {
            uint sum = InternetChecksum.Sum(segment[..length], InternetChecksum.PseudoHeader(source, destination, IpProtocols.Udp, length));
            if (checksum == 0 || !InternetChecksum.IsValid(sum)) Malformed.Throw(PacketError.BadChecksum, 6);
        }
        d = new UdpDatagram(BinaryPrimitives.ReadUInt16BigEndian(segment), BinaryPrimitives.ReadUInt16BigEndian(segment[2..]),
            length, checksum, segment[HeaderLength..length]);
        return true;
    }

    /// <summary>Reads the datagram carried by <paramref name="ip"/> (which must carry UDP).</summary>
    public static bool TryRead(scoped in IpPacket ip, out UdpDatagram d)
    {
        if (ip.Protocol != IpProtocols.Udp) throw new ArgumentException("The packet does not carry UDP.", nameof(ip));
        return TryRead(ip.Payload, ip.Source, ip.Destination, out d);
    }

    /// <summary>Writes header and payload with the checksum computed; returns 8 + payload length.</summary>
    public static int Write(Span<byte> destination, IpAddress source, IpAddress dst, ushort srcPort, ushort dstPort, ReadOnlySpan<byte> payload)
    {
        int length = HeaderLength + payload.Length;
        if (length > ushort.MaxValue) throw new ArgumentException("UDP payload too large.", nameof(payload));
        Guard.Room(destination, length);
        BinaryPrimitives.WriteUInt16BigEndian(destination, srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], dstPort);
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], (ushort)length);
        BinaryPrimitives.WriteUInt16BigEndian(destination[6..], 0);
        payload.CopyTo(destination[HeaderLength..]);
        ushort c = InternetChecksum.Finish(InternetChecksum.Sum(destination[..length], InternetChecksum.PseudoHeader(source, dst, IpProtocols.Udp, length)));
        // RFC 768: a computed zero is sent as all ones.
        BinaryPrimitives.WriteUInt16BigEndian(destination[6..], c == 0 ? (ushort)0xFFFF : c);
        return length;
    }

    /// <summary>Frame length <see cref="WriteFrame"/> produces.</summary>
    public static int GetFrameLength(VlanId vlan, IpAddress source, int payloadLength) =>
        FrameLayout.HeaderLength(vlan, source, false) + HeaderLength + payloadLength;

    /// <summary>
    /// Writes Ethernet (+802.1Q when vlan ≠ 0) + IPv4 or IPv6 (by address family) + UDP, all checksums correct.
    /// Returns the frame length (no Ethernet padding is added).
    /// </summary>
    public static int WriteFrame(Span<byte> destination, MacAddress srcMac, MacAddress dstMac, VlanId vlan, IpAddress src, IpAddress dst,
        ushort srcPort, ushort dstPort, ReadOnlySpan<byte> payload, byte ttl = 64)
    {
        int hl = FrameLayout.HeaderLength(vlan, src, false);
        Guard.Room(destination, hl + HeaderLength + payload.Length);
        if (src.IsV4 != dst.IsV4) throw new ArgumentException("Source and destination families differ.", nameof(dst));
        int n = Write(destination[hl..], src, dst, srcPort, dstPort, payload);
        return FrameLayout.WriteHeaders(destination, srcMac, dstMac, vlan, src, dst, IpProtocols.Udp, ttl, false, 0, n);
    }
}
