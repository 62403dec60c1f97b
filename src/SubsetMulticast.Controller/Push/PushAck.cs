using System.Buffers.Binary;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Push;

namespace SubsetMulticast.Controller.Push;

/// <summary>What the controller did with an instruction that verified.</summary>
public enum PushOutcome : byte
{
    /// <summary>Applied to every switch and committed.</summary>
    Applied = 0,
    /// <summary>Verified but refused (see <see cref="PushAck.Problem"/>); nothing changed.</summary>
    Refused = 1,
    /// <summary>Not verified (see <see cref="PushAck.Verdict"/>); not looked at further, nothing changed.</summary>
    NotProcessed = 2,
}

/// <summary>
/// The acknowledgement datagram the controller's push endpoint returns to the instruction's source
/// (drafts/push-instruction.md, "Acknowledgement"). 24 bytes, big-endian:
/// <code>
///  0      2     3    4        5         6         8      10      12        16          24
/// | 'TA' | ver | op | verdict | outcome | problem | vlan | rsvd  | sender  | sequence  |
/// </code>
/// op, vlan, sender and sequence echo the instruction's when its header could be read, else 0. The ack is
/// not authenticated: it informs, it does not prove. It is never longer than the datagram it answers
/// (no amplification), so datagrams shorter than 24 bytes get none.
/// </summary>
public readonly record struct PushAck(PushOpcode Opcode, PushVerdict Verdict, PushOutcome Outcome, ushort Problem, ushort Vlan, uint SenderId, ulong Sequence)
{
    public const int Length = 24;
    public const ushort Magic = 0x5441; // "TA"
    public const byte Version1 = 1;

    public void WriteTo(Span<byte> destination)
    {
        if (destination.Length < Length) throw new ArgumentException($"An ack needs {Length} bytes.", nameof(destination));
        BinaryPrimitives.WriteUInt16BigEndian(destination, Magic);
        destination[2] = Version1;
        destination[3] = (byte)Opcode;
        destination[4] = (byte)Verdict;
        destination[5] = (byte)Outcome;
        BinaryPrimitives.WriteUInt16BigEndian(destination[6..], Problem);
        BinaryPrimitives.WriteUInt16BigEndian(destination[8..], Vlan);
        BinaryPrimitives.WriteUInt16BigEndian(destination[10..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], SenderId);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], Sequence);
    }

    /// <summary>Reads an ack; false if <paramref name="source"/> is not one.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out PushAck ack)
    {
        ack = default;
        if (source.Length != Length || BinaryPrimitives.ReadUInt16BigEndian(source) != Magic || source[2] != Version1) return false;
        ack = new PushAck((PushOpcode)source[3], (PushVerdict)source[4], (PushOutcome)source[5],
            BinaryPrimitives.ReadUInt16BigEndian(source[6..]), BinaryPrimitives.ReadUInt16BigEndian(source[8..]),
            BinaryPrimitives.ReadUInt32BigEndian(source[12..]), BinaryPrimitives.ReadUInt64BigEndian(source[16..]));
        return true;
    }

    /// <summary>Refused: the group at the address was created by another client (another key, or over REST).</summary>
    public const ushort NotOwner = 14;

    /// <summary>Refused: the key's live-group quota, or the reference group's, is full.</summary>
    public const ushort QuotaExceeded = 15;

    /// <summary>Wire codes for refusals; fixed here so that reordering <see cref="ProblemKind"/> cannot change the wire.</summary>
    public static ushort ProblemCode(ProblemKind kind) => kind switch
    {
        ProblemKind.InvalidRequest => 1,
        ProblemKind.VlanNotAllowed => 2,
        ProblemKind.UnknownReferenceGroup => 3,
        ProblemKind.EmptyMemberList => 4,
        ProblemKind.TooManyMembers => 5,
        ProblemKind.NoMemberInReferenceGroup => 6,
        ProblemKind.AddressFamilyMismatch => 7,
        ProblemKind.AddressOutsideBlock => 8,
        ProblemKind.BlockExhausted => 9,
        ProblemKind.GroupNotFound => 10,
        ProblemKind.GroupBusy => 11,
        ProblemKind.SouthboundFailed => 12,
        ProblemKind.StoreUnavailable => 13,
        _ => 0xFFFF,
    };
}
