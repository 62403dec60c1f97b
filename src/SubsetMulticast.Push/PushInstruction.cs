using System.Buffers.Binary;
using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Push;

/// <summary>Operations of the push instruction (drafts/push-instruction.md §3).</summary>
public enum PushOpcode : byte
{
    /// <summary>draft §10 PushTransactionalMulticastMembership: set the group's members (creates or supersedes).</summary>
    PushMembership = 1,
    /// <summary>draft §10 ReleaseTransactionalMulticast.</summary>
    Release = 2,
    /// <summary>draft §10 RefreshMulticastMembership: re-resolve IP → MAC → port for the same members.</summary>
    Refresh = 3,
}

/// <summary>Malformed push instruction bytes; <see cref="Offset"/> is where the reader gave up.</summary>
public sealed class PushFormatException(string message, int offset) : Exception($"{message} (at byte {offset})")
{
    public int Offset { get; } = offset;
}

/// <summary>
/// A decoded push instruction viewing the datagram it came from; nothing is copied.
/// Layout (big-endian), drafts/push-instruction.md §2:
/// <code>
///  0      2    3      4     5       6         8       10      12        16          24        28
/// | 'TS' | ver | op | flags | count | vlan    | keyid | rsvd  | sender  | sequence  | leaseMs | reference | group | members… | mac(16) |
/// </code>
/// Addresses are 4 bytes, or 16 when flags bit 0 (IPv6) is set.
/// </summary>
public readonly ref struct PushInstruction
{
    public const int HeaderLength = 28;
    public const int MacLength = 16;
    public const byte Version1 = 1;
    public const ushort Magic = 0x5453; // "TS"
    public const byte FlagIpv6 = 0x01;

    private readonly ReadOnlySpan<byte> _bytes;

    private PushInstruction(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    public PushOpcode Opcode => (PushOpcode)_bytes[3];
    public bool IsV6 => (_bytes[4] & FlagIpv6) != 0;
    public int MemberCount => _bytes[5];
    public VlanId Vlan => new(BinaryPrimitives.ReadUInt16BigEndian(_bytes[6..]));
    public ushort KeyId => BinaryPrimitives.ReadUInt16BigEndian(_bytes[8..]);
    public uint SenderId => BinaryPrimitives.ReadUInt32BigEndian(_bytes[12..]);
    public ulong Sequence => BinaryPrimitives.ReadUInt64BigEndian(_bytes[16..]);
    public uint LeaseMs => BinaryPrimitives.ReadUInt32BigEndian(_bytes[24..]);
    private int AddressLength => IsV6 ? 16 : 4;
    public IpAddress Reference => ReadAddress(HeaderLength);
    public IpAddress Group => ReadAddress(HeaderLength + AddressLength);
    public IpAddress MemberAt(int i) => ReadAddress(HeaderLength + (2 + i) * AddressLength);

    /// <summary>The bytes the MAC covers: everything before it.</summary>
    public ReadOnlySpan<byte> SignedBytes => _bytes[..^MacLength];
    public ReadOnlySpan<byte> Mac => _bytes[^MacLength..];
    public int Length => _bytes.Length;

    private IpAddress ReadAddress(int at) => IsV6 ? IpAddress.FromV6(_bytes.Slice(at, 16)) : IpAddress.FromV4(_bytes.Slice(at, 4));

    public static int LengthFor(bool v6, int members) => HeaderLength + (2 + members) * (v6 ? 16 : 4) + MacLength;

    /// <summary>
    /// Reads one instruction from the start of <paramref name="source"/>. False when more bytes are needed;
    /// <see cref="PushFormatException"/> when the bytes cannot be an instruction.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out PushInstruction instruction, out int bytesConsumed)
    {
        instruction = default;
        bytesConsumed = 0;
        if (source.Length < 6) return false;
        if (BinaryPrimitives.ReadUInt16BigEndian(source) != Magic) throw new PushFormatException("Not a push instruction: bad magic", 0);
        if (source[2] != Version1) throw new PushFormatException($"Unsupported version {source[2]}", 2);
        if (source[3] is < 1 or > 3) throw new PushFormatException($"Unknown opcode {source[3]}", 3);
        if ((source[4] & ~FlagIpv6) != 0) throw new PushFormatException($"Reserved flag bits set (0x{source[4]:x2})", 4);
        bool v6 = (source[4] & FlagIpv6) != 0;
        int count = source[5];
        if ((PushOpcode)source[3] != PushOpcode.PushMembership && count != 0) throw new PushFormatException("Only a membership push carries members", 5);
        if ((PushOpcode)source[3] == PushOpcode.PushMembership && count == 0) throw new PushFormatException("A membership push needs at least one member", 5);
        int length = LengthFor(v6, count);
        if (source.Length < length) return false;
        ushort vlan = BinaryPrimitives.ReadUInt16BigEndian(source[6..]);
        if (vlan > VlanId.MaxValue) throw new PushFormatException($"VLAN {vlan} out of range", 6);
        if (BinaryPrimitives.ReadUInt16BigEndian(source[10..]) != 0) throw new PushFormatException("Reserved field not zero", 10);
        instruction = new PushInstruction(source[..length]);
        if (!instruction.Reference.IsMulticast) throw new PushFormatException("Reference group is not a multicast address", HeaderLength);
        if (!instruction.Group.IsMulticast) throw new PushFormatException("Transactional group is not a multicast address", HeaderLength + instruction.AddressLength);
        if (v6)
        {
            // IpAddress holds IPv4 as ::ffff:a.b.c.d, so such an address in the IPv6 form would read as IPv4 inside an
            // IPv6 instruction, one the writer cannot produce (RFC 4291 §2.5.5.2: never on the wire).
            for (int at = HeaderLength; at < length - MacLength; at += 16)
                if (IpAddress.FromV6(source.Slice(at, 16)).IsV4) throw new PushFormatException("IPv4-mapped address in an IPv6 instruction", at);
        }
        bytesConsumed = length;
        return true;
    }
}

/// <summary>Builds instructions; the symmetric twin of <see cref="PushInstruction.TryRead"/>.</summary>
public static class PushInstructionWriter
{
    /// <summary>Writes header, addresses and members, then the MAC from <paramref name="keys"/>. Returns the length, or 0 if <paramref name="destination"/> is too small.</summary>
    public static int Write(Span<byte> destination, PushOpcode opcode, VlanId vlan, ushort keyId, uint senderId, ulong sequence, uint leaseMs,
        IpAddress reference, IpAddress group, ReadOnlySpan<IpAddress> members, PushKeyRing keys)
    {
        if (members.Length > byte.MaxValue) throw new ArgumentOutOfRangeException(nameof(members), "At most 255 members.");
        if (reference.IsV4 != group.IsV4) throw new ArgumentException("Reference and group must be one family.");
        bool v6 = reference.IsV6;
        int length = PushInstruction.LengthFor(v6, members.Length);
        if (destination.Length < length) return 0;
        BinaryPrimitives.WriteUInt16BigEndian(destination, PushInstruction.Magic);
        destination[2] = PushInstruction.Version1;
        destination[3] = (byte)opcode;
        destination[4] = v6 ? PushInstruction.FlagIpv6 : (byte)0;
        destination[5] = (byte)members.Length;
        BinaryPrimitives.WriteUInt16BigEndian(destination[6..], vlan.Value);
        BinaryPrimitives.WriteUInt16BigEndian(destination[8..], keyId);
        BinaryPrimitives.WriteUInt16BigEndian(destination[10..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], senderId);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], sequence);
        BinaryPrimitives.WriteUInt32BigEndian(destination[24..], leaseMs);
        int a = v6 ? 16 : 4, at = PushInstruction.HeaderLength;
        reference.WriteTo(destination[at..]); at += a;
        group.WriteTo(destination[at..]); at += a;
        foreach (var m in members)
        {
            if (m.IsV6 != v6) throw new ArgumentException($"Member {m} is not of the group's family.", nameof(members));
            m.WriteTo(destination[at..]);
            at += a;
        }
        if (!keys.TrySign(vlan, keyId, destination[..at], destination.Slice(at, PushInstruction.MacLength)))
            throw new ArgumentException($"No key {keyId} for VLAN {vlan}.", nameof(keys));
        return length;
    }
}
