using System.Buffers.Binary;
using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Packets.Ethernet;

/// <summary>EtherType values we dispatch on.</summary>
public static class EtherTypes
{
    public const ushort Ipv4 = 0x0800;
    public const ushort Arp = 0x0806;
    public const ushort Vlan = 0x8100;
    public const ushort Ipv6 = 0x86DD;
}

/// <summary>
/// An Ethernet II header with at most one IEEE 802.1Q tag.
/// <code>
/// dst(6) src(6) [0x8100 PCP(3)|DEI(1)|VID(12)] type(2)
/// </code>
/// </summary>
public readonly ref struct EthernetFrame
{
    public const int UntaggedHeaderLength = 14;
    public const int TaggedHeaderLength = 18;

    private readonly ReadOnlySpan<byte> _frame;

    private EthernetFrame(ReadOnlySpan<byte> frame, bool tagged, VlanId vlan, byte priority, ushort etherType)
    {
        _frame = frame;
        Tagged = tagged;
        Vlan = vlan;
        Priority = priority;
        EtherType = etherType;
    }

    public MacAddress Destination => MacAddress.Read(_frame);
    public MacAddress Source => MacAddress.Read(_frame[6..]);
    /// <summary>The 802.1Q VID; 0 when untagged or priority-tagged.</summary>
    public VlanId Vlan { get; }
    /// <summary>The 802.1Q PCP; 0 when untagged.</summary>
    public byte Priority { get; }
    public bool Tagged { get; }
    /// <summary>The EtherType after any 802.1Q tag.</summary>
    public ushort EtherType { get; }
    public int HeaderLength => Tagged ? TaggedHeaderLength : UntaggedHeaderLength;
    /// <summary>Everything after the header (may include Ethernet padding; the IP length bounds it).</summary>
    public ReadOnlySpan<byte> Payload => _frame[HeaderLength..];

    /// <summary>False only when the header is incomplete. VID 4095 throws <see cref="PacketError.BadVlan"/>.</summary>
    public static bool TryRead(ReadOnlySpan<byte> frame, out EthernetFrame f) => Read(frame, out f, out var fault).Succeeded(fault);

    /// <summary>As <see cref="TryRead"/>, without throwing: malformed input is <see cref="ReadStatus.Malformed"/> and a <paramref name="fault"/>.</summary>
    public static ReadStatus Read(ReadOnlySpan<byte> frame, out EthernetFrame f, out PacketFault fault)
    {
        fault = default;
        f = default;
        if (frame.Length < UntaggedHeaderLength) return ReadStatus.NeedMoreBytes;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        if (type != EtherTypes.Vlan)
        {
            f = new EthernetFrame(frame, false, default, 0, type);
            return ReadStatus.Ok;
        }
        if (frame.Length < TaggedHeaderLength) return ReadStatus.NeedMoreBytes;
        ushort tci = BinaryPrimitives.ReadUInt16BigEndian(frame[14..]);
        int vid = tci & 0x0FFF;
        if (vid == 0x0FFF) return PacketFault.Fail(out fault, PacketError.BadVlan, 14);
        f = new EthernetFrame(frame, true, new VlanId((ushort)vid), (byte)(tci >> 13), BinaryPrimitives.ReadUInt16BigEndian(frame[16..]));
        return ReadStatus.Ok;
    }

    /// <summary>Header length for <paramref name="vlan"/>: 18 when tagged, else 14.</summary>
    public static int GetHeaderLength(VlanId vlan) => vlan.Value != 0 ? TaggedHeaderLength : UntaggedHeaderLength;

    /// <summary>Writes the header (a tag only when <paramref name="vlan"/> ≠ 0) and returns its length.</summary>
    public static int Write(Span<byte> destination, MacAddress dst, MacAddress src, VlanId vlan, ushort etherType, byte priority = 0)
    {
        if (priority > 7) throw new ArgumentOutOfRangeException(nameof(priority));
        int len = GetHeaderLength(vlan);
        Guard.Room(destination, len);
        dst.WriteTo(destination);
        src.WriteTo(destination[6..]);
        if (vlan.Value != 0)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination[12..], EtherTypes.Vlan);
            BinaryPrimitives.WriteUInt16BigEndian(destination[14..], (ushort)((priority << 13) | vlan.Value));
        }
        BinaryPrimitives.WriteUInt16BigEndian(destination[(len - 2)..], etherType);
        return len;
    }
}
