using System.Buffers.Binary;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Packets.Ip;
using SubsetMulticast.Packets.Mld;

namespace SubsetMulticast.Packets.Ndp;

public enum NeighborDiscoveryType : byte
{
    NeighborSolicitation = 135,
    NeighborAdvertisement = 136,
}

/// <summary>
/// A Neighbor Solicitation or Advertisement (RFC 4861 §4.3, §4.4), ICMPv6:
/// <code>
/// type | code | cksum(2) | R S O rsv(29) | target(16) | options: type | len(8-byte units) | data
/// </code>
/// Options 1 (source link-layer address) and 2 (target link-layer address) are decoded.
/// </summary>
public readonly ref struct NeighborMessage
{
    public const int FixedLength = 24;
    private const int MaxOptions = 64;

    private readonly ReadOnlySpan<byte> _message;

    private NeighborMessage(ReadOnlySpan<byte> message, MacAddress? sll, MacAddress? tll)
    {
        _message = message;
        SourceLinkLayerAddress = sll;
        TargetLinkLayerAddress = tll;
    }

    public NeighborDiscoveryType Type => (NeighborDiscoveryType)_message[0];
    public bool IsRouter => Type == NeighborDiscoveryType.NeighborAdvertisement && (_message[4] & 0x80) != 0;
    public bool IsSolicited => Type == NeighborDiscoveryType.NeighborAdvertisement && (_message[4] & 0x40) != 0;
    public bool IsOverride => Type == NeighborDiscoveryType.NeighborAdvertisement && (_message[4] & 0x20) != 0;
    public IpAddress Target => IpAddress.FromV6(_message[8..]);
    public MacAddress? SourceLinkLayerAddress { get; }
    public MacAddress? TargetLinkLayerAddress { get; }

    /// <summary>
    /// Reads an NS/NA filling <paramref name="message"/>, verifying the ICMPv6 checksum and RFC 4861 §7.1
    /// structure (code 0, target not multicast, no zero-length option). False only under 24 bytes.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> message, IpAddress source, IpAddress destination, out NeighborMessage m) => Read(message, source, destination, out m, out var fault).Succeeded(fault);

    /// <summary>As <see cref="TryRead"/>, without throwing: malformed input is <see cref="ReadStatus.Malformed"/> and a <paramref name="fault"/>.</summary>
    public static ReadStatus Read(ReadOnlySpan<byte> message, IpAddress source, IpAddress destination, out NeighborMessage m, out PacketFault fault)
    {
        fault = default;
        m = default;
        if (message.Length < 1) return ReadStatus.NeedMoreBytes;
        if (message[0] is not ((byte)NeighborDiscoveryType.NeighborSolicitation or (byte)NeighborDiscoveryType.NeighborAdvertisement))
            return PacketFault.Fail(out fault, PacketError.BadType, 0);
        if (message.Length < FixedLength) return ReadStatus.NeedMoreBytes;
        uint sum = InternetChecksum.Sum(message, InternetChecksum.PseudoHeader(source, destination, IpProtocols.Icmpv6, message.Length));
        if (!InternetChecksum.IsValid(sum)) return PacketFault.Fail(out fault, PacketError.BadChecksum, 2);
        if (message[1] != 0) return PacketFault.Fail(out fault, PacketError.BadCode, 1);
        if (message[8] == 0xFF) return PacketFault.Fail(out fault, PacketError.BadAddress, 8);

        MacAddress? sll = null, tll = null;
        int o = FixedLength;
        for (int i = 0; o < message.Length; i++)
        {
            if (i >= MaxOptions || message.Length - o < 2) return PacketFault.Fail(out fault, PacketError.BadOption, o);
            int len = message[o + 1] * 8;
            if (len == 0 || len > message.Length - o) return PacketFault.Fail(out fault, PacketError.BadOption, o + 1);
            byte type = message[o];
            if (type is 1 or 2 && len >= 8)
            {
                var mac = MacAddress.Read(message[(o + 2)..]);
                if (type == 1) sll = mac; else tll = mac;
            }
            o += len;
        }
        m = new NeighborMessage(message, sll, tll);
        return ReadStatus.Ok;
    }

    /// <summary>
    /// Reads the NS/NA of <paramref name="ip"/> with RFC 4861 §7.1 IP-level rules: hop limit 255 →
    /// <see cref="PacketError.BadTtl"/>; NS from :: must go to a solicited-node address and carry no
    /// source link-layer option → <see cref="PacketError.BadOption"/>; NA to a multicast address must not be
    /// solicited → <see cref="PacketError.BadAddress"/>.
    /// </summary>
    public static bool TryReadPacket(scoped in IpPacket ip, out NeighborMessage m) => ReadPacket(in ip, out m, out var fault).Succeeded(fault);

    /// <summary>As <see cref="TryReadPacket"/>, without throwing: malformed input is <see cref="ReadStatus.Malformed"/> and a <paramref name="fault"/>.</summary>
    public static ReadStatus ReadPacket(scoped in IpPacket ip, out NeighborMessage m, out PacketFault fault)
    {
        fault = default;
        m = default;
        if (ip.Version != 6 || ip.Protocol != IpProtocols.Icmpv6) throw new ArgumentException("The packet does not carry ICMPv6.", nameof(ip));
        if (ip.HopLimit != 255) return PacketFault.Fail(out fault, PacketError.BadTtl, 7);
        var status = Read(ip.Payload, ip.Source, ip.Destination, out m, out fault);
        if (status == ReadStatus.Malformed) fault = fault.Shift(ip.PayloadOffset);
        if (status != ReadStatus.Ok) return status;
        if (m.Type == NeighborDiscoveryType.NeighborSolicitation && ip.Source.IsUnspecified)
        {
            if (m.SourceLinkLayerAddress.HasValue) return PacketFault.Fail(out fault, PacketError.BadOption, ip.PayloadOffset + FixedLength);
            if (ip.Destination != NeighborDiscovery.SolicitedNodeAddress(m.Target)) return PacketFault.Fail(out fault, PacketError.BadAddress, 24);
        }
        if (m.Type == NeighborDiscoveryType.NeighborAdvertisement && ip.Destination.IsMulticast && m.IsSolicited)
            return PacketFault.Fail(out fault, PacketError.BadAddress, 24);
        return ReadStatus.Ok;
    }

    public static int GetLength(bool withLinkLayerOption) => FixedLength + (withLinkLayerOption ? 8 : 0);

    /// <summary>Writes a Neighbor Solicitation with a source link-layer option unless <paramref name="source"/> is ::.</summary>
    public static int WriteSolicitation(Span<byte> destination, IpAddress source, IpAddress dst, IpAddress target, MacAddress sourceMac)
    {
        bool sll = !source.IsUnspecified;
        return Write(destination, source, dst, NeighborDiscoveryType.NeighborSolicitation, 0, target, sll ? (byte)1 : (byte)0, sourceMac);
    }

    /// <summary>Writes a Neighbor Advertisement with a target link-layer option.</summary>
    public static int WriteAdvertisement(Span<byte> destination, IpAddress source, IpAddress dst, IpAddress target, MacAddress targetMac,
        bool router, bool solicited, bool @override)
    {
        byte flags = (byte)((router ? 0x80 : 0) | (solicited ? 0x40 : 0) | (@override ? 0x20 : 0));
        return Write(destination, source, dst, NeighborDiscoveryType.NeighborAdvertisement, flags, target, 2, targetMac);
    }

    private static int Write(Span<byte> destination, IpAddress source, IpAddress dst, NeighborDiscoveryType type, byte flags, IpAddress target, byte option, MacAddress mac)
    {
        GroupRecord.CheckFamily(target, 16, "target");
        int len = GetLength(option != 0);
        Guard.Room(destination, len);
        var b = destination[..len];
        b.Clear();
        b[0] = (byte)type;
        b[4] = flags;
        target.WriteTo(b[8..]);
        if (option != 0)
        {
            b[24] = option;
            b[25] = 1;
            mac.WriteTo(b[26..]);
        }
        MldMessage.SetChecksum(b, source, dst);
        return len;
    }
}

/// <summary>Neighbor Discovery frame builders (hop limit 255, RFC 4861).</summary>
public static class NeighborDiscovery
{
    /// <summary>ff02::1:ffXX:XXXX from the low 24 bits of <paramref name="target"/> (RFC 4291 §2.7.1).</summary>
    public static IpAddress SolicitedNodeAddress(IpAddress target) =>
        IpAddress.FromV6(0xFF02UL << 48, 0x0000_0001_FF00_0000UL | (target.Low & 0xFF_FFFF));

    /// <summary>
    /// An unsolicited Neighbor Advertisement (RFC 4861 §7.2.6): from <paramref name="ip"/> to ff02::1, Override set,
    /// Solicited clear, target = <paramref name="ip"/> with a target link-layer option carrying <paramref name="mac"/>.
    /// </summary>
    public static int WriteUnsolicitedAdvertisementFrame(Span<byte> destination, MacAddress mac, IpAddress ip, VlanId vlan) =>
        WriteAdvertisementFrame(destination, mac, MulticastMac.For(MldFrames.AllNodes), vlan, ip, MldFrames.AllNodes, ip, false, false, true);

    /// <summary>A Neighbor Advertisement frame (target MAC = <paramref name="srcMac"/>).</summary>
    public static int WriteAdvertisementFrame(Span<byte> destination, MacAddress srcMac, MacAddress dstMac, VlanId vlan, IpAddress srcIp, IpAddress dstIp,
        IpAddress target, bool router, bool solicited, bool @override)
    {
        if (!srcIp.IsV6) throw new ArgumentException("Neighbor Discovery needs IPv6.", nameof(srcIp));
        int h = FrameLayout.HeaderLength(vlan, srcIp, false);
        Guard.Room(destination, h + NeighborMessage.GetLength(true));
        int n = NeighborMessage.WriteAdvertisement(destination[h..], srcIp, dstIp, target, srcMac, router, solicited, @override);
        return FrameLayout.WriteHeaders(destination, srcMac, dstMac, vlan, srcIp, dstIp, IpProtocols.Icmpv6, 255, false, 0, n);
    }

    /// <summary>A multicast Neighbor Solicitation to the target's solicited-node address (DAD when <paramref name="srcIp"/> is ::).</summary>
    public static int WriteSolicitationFrame(Span<byte> destination, MacAddress srcMac, VlanId vlan, IpAddress srcIp, IpAddress target)
    {
        if (!srcIp.IsV6) throw new ArgumentException("Neighbor Discovery needs IPv6.", nameof(srcIp));
        var dst = SolicitedNodeAddress(target);
        int h = FrameLayout.HeaderLength(vlan, srcIp, false);
        Guard.Room(destination, h + NeighborMessage.GetLength(!srcIp.IsUnspecified));
        int n = NeighborMessage.WriteSolicitation(destination[h..], srcIp, dst, target, srcMac);
        return FrameLayout.WriteHeaders(destination, srcMac, MulticastMac.For(dst), vlan, srcIp, dst, IpProtocols.Icmpv6, 255, false, 0, n);
    }
}
