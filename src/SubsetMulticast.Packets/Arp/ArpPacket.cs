using System.Buffers.Binary;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Packets.Ethernet;

namespace SubsetMulticast.Packets.Arp;

public enum ArpOperation : ushort
{
    Request = 1,
    Reply = 2,
}

/// <summary>
/// Ethernet/IPv4 ARP (RFC 826): htype(2)=1 ptype(2)=0x0800 hlen=6 plen=4 op(2) sha(6) spa(4) tha(6) tpa(4).
/// </summary>
public readonly ref struct ArpPacket
{
    public const int Length = 28;

    private readonly ReadOnlySpan<byte> _packet;

    private ArpPacket(ReadOnlySpan<byte> packet) => _packet = packet;

    public ArpOperation Operation => (ArpOperation)BinaryPrimitives.ReadUInt16BigEndian(_packet[6..]);
    public MacAddress SenderMac => MacAddress.Read(_packet[8..]);
    public IpAddress SenderIp => IpAddress.FromV4(_packet[14..]);
    public MacAddress TargetMac => MacAddress.Read(_packet[18..]);
    public IpAddress TargetIp => IpAddress.FromV4(_packet[24..]);
    /// <summary>Sender and target protocol addresses are equal (RFC 5227 announcement / gratuitous ARP).</summary>
    public bool IsGratuitous => _packet.Slice(14, 4).SequenceEqual(_packet.Slice(24, 4));

    /// <summary>False only on fewer than 28 bytes. Other hardware/protocol types throw
    /// <see cref="PacketError.UnsupportedFormat"/>.</summary>
    public static bool TryRead(ReadOnlySpan<byte> packet, out ArpPacket a) => Read(packet, out a, out var fault).Succeeded(fault);

    /// <summary>As <see cref="TryRead"/>, without throwing: malformed input is <see cref="ReadStatus.Malformed"/> and a <paramref name="fault"/>.</summary>
    public static ReadStatus Read(ReadOnlySpan<byte> packet, out ArpPacket a, out PacketFault fault)
    {
        fault = default;
        a = default;
        if (packet.Length < 6) return ReadStatus.NeedMoreBytes;
        if (BinaryPrimitives.ReadUInt16BigEndian(packet) != 1) return PacketFault.Fail(out fault, PacketError.UnsupportedFormat, 0);
        if (BinaryPrimitives.ReadUInt16BigEndian(packet[2..]) != EtherTypes.Ipv4) return PacketFault.Fail(out fault, PacketError.UnsupportedFormat, 2);
        if (packet[4] != 6) return PacketFault.Fail(out fault, PacketError.UnsupportedFormat, 4);
        if (packet[5] != 4) return PacketFault.Fail(out fault, PacketError.UnsupportedFormat, 5);
        if (packet.Length < Length) return ReadStatus.NeedMoreBytes;
        ushort op = BinaryPrimitives.ReadUInt16BigEndian(packet[6..]);
        if (op is not (1 or 2)) return PacketFault.Fail(out fault, PacketError.BadType, 6);
        a = new ArpPacket(packet[..Length]);
        return ReadStatus.Ok;
    }

    public static int Write(Span<byte> destination, ArpOperation operation, MacAddress senderMac, IpAddress senderIp, MacAddress targetMac, IpAddress targetIp)
    {
        if (!senderIp.IsV4 || !targetIp.IsV4) throw new ArgumentException("ARP carries IPv4 addresses only.");
        Guard.Room(destination, Length);
        BinaryPrimitives.WriteUInt16BigEndian(destination, 1);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], EtherTypes.Ipv4);
        destination[4] = 6;
        destination[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(destination[6..], (ushort)operation);
        senderMac.WriteTo(destination[8..]);
        senderIp.WriteTo(destination[14..]);
        targetMac.WriteTo(destination[18..]);
        targetIp.WriteTo(destination[24..]);
        return Length;
    }

    /// <summary>Ethernet header + ARP.</summary>
    public static int WriteFrame(Span<byte> destination, MacAddress ethDst, VlanId vlan, ArpOperation operation,
        MacAddress senderMac, IpAddress senderIp, MacAddress targetMac, IpAddress targetIp)
    {
        Guard.Room(destination, EthernetFrame.GetHeaderLength(vlan) + Length);
        int h = EthernetFrame.Write(destination, ethDst, senderMac, vlan, EtherTypes.Arp);
        return h + Write(destination[h..], operation, senderMac, senderIp, targetMac, targetIp);
    }

    /// <summary>
    /// A gratuitous ARP (RFC 5227 §2.3 announcement): broadcast request with sender = target = <paramref name="ip"/>,
    /// target MAC zero. Returns the frame length (42, or 46 tagged).
    /// </summary>
    public static int WriteGratuitousFrame(Span<byte> destination, MacAddress mac, IpAddress ip, VlanId vlan) =>
        WriteFrame(destination, MacAddress.Broadcast, vlan, ArpOperation.Request, mac, ip, default, ip);
}
