using System.Buffers.Binary;
using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Transfer.Wire;

/// <summary>Message types of the rendezvous transfer protocol (drafts/rendezvous-transfer.md §3).</summary>
public enum MessageType : byte
{
    Proposal = 1,
    Bid = 2,
    AlreadyStored = 3,
    NotNow = 4,
    Rendezvous = 5,
    Ready = 6,
    Data = 7,
    Parity = 8,
    Poll = 9,
    Ack = 10,
    Outcome = 11,
    GetRequest = 12,
    GetHave = 13,
    GetFetch = 14,
    GetData = 15,
}

/// <summary>Why a datagram was dropped; every drop is counted under one of these and never throws.</summary>
public enum DropReason
{
    /// <summary>Shorter than its fixed fields, or a length field that overruns the datagram.</summary>
    Truncated,
    /// <summary>Not our magic or version.</summary>
    NotOurs,
    /// <summary>A type this side does not take.</summary>
    UnexpectedType,
    /// <summary>A field out of its range (datagram size 0, member count over the limit, index past the chunk…).</summary>
    OutOfRange,
    /// <summary>No live transaction with this id (forged, or arrived after the transaction ended).</summary>
    UnknownTransaction,
    /// <summary>A rendezvous datagram that arrived on an address other than the transaction's group (or our own unicast address).</summary>
    WrongGroup,
    /// <summary>A datagram we already hold (duplicate or replay).</summary>
    Duplicate,
    /// <summary>AES-GCM authentication failed (forged, corrupted, or not for this group's key).</summary>
    AuthenticationFailed,
    /// <summary>The reassembled chunk's SHA-256 is not its id; nothing was written.</summary>
    HashMismatch,
    /// <summary>A datagram for a transaction that is already complete (replay of a finished transfer).</summary>
    Late,
    /// <summary>Source is not the transaction's client.</summary>
    WrongSource,
}

/// <summary>Per-target result of a put or push (transfer.md §2).</summary>
public enum TargetOutcome : byte
{
    /// <summary>No answer yet (never in a finished result).</summary>
    Pending = 0,
    /// <summary>The target verified the hash and wrote the chunk ("stored" after the write).</summary>
    Stored = 1,
    /// <summary>The target already held the chunk; nothing was sent to it.</summary>
    AlreadyHeld = 2,
    /// <summary>The reassembled chunk did not hash to its id; the target wrote nothing.</summary>
    HashMismatch = 3,
    /// <summary>The target refused (not now, no space, too many transfers).</summary>
    Busy = 4,
    /// <summary>No final answer within the repair rounds and the unicast fallback.</summary>
    TimedOut = 5,
    /// <summary>The controller ignored the member: it is not in the reference group (draft §7.1).</summary>
    NotInReference = 6,
    /// <summary>The target verified the chunk but could not write it.</summary>
    WriteFailed = 7,
}

/// <summary>
/// The common header of every message (drafts/rendezvous-transfer.md §3.1):
/// <code>
///  0      2       3      4                                12
/// +------+-------+------+----------------------------------+
/// | 'TR' | ver 1 | type |  transaction id (64 bits)        |
/// +------+-------+------+----------------------------------+
/// </code>
/// All integers are big-endian.
/// </summary>
public static class TransferHeader
{
    public const ushort Magic = 0x5452;
    public const byte Version = 1;
    public const int Length = 12;
    public const int ChunkIdLength = 32;
    /// <summary>Largest datagram payload the protocol uses (a 9000-byte MTU minus IPv6/UDP and our headers).</summary>
    public const int MaxDatagramPayload = 8800;
    public const int MaxMembers = 64;
    public const int AddressLength = 16;

    /// <summary>Reads the header. Returns a status: only <see cref="ReadStatus.Ok"/> leaves the outputs meaningful.</summary>
    public static ReadStatus TryRead(ReadOnlySpan<byte> datagram, out MessageType type, out ulong transaction)
    {
        type = 0;
        transaction = 0;
        if (datagram.Length < Length) return ReadStatus.Truncated;
        if (BinaryPrimitives.ReadUInt16BigEndian(datagram) != Magic || datagram[2] != Version) return ReadStatus.NotOurs;
        type = (MessageType)datagram[3];
        transaction = BinaryPrimitives.ReadUInt64BigEndian(datagram[4..]);
        return ReadStatus.Ok;
    }

    public static void Write(Span<byte> destination, MessageType type, ulong transaction)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, Magic);
        destination[2] = Version;
        destination[3] = (byte)type;
        BinaryPrimitives.WriteUInt64BigEndian(destination[4..], transaction);
    }

    internal static void WriteAddress(Span<byte> destination, IpAddress address)
    {
        // IPv4 as the v4-mapped IPv6 form, so every address field is 16 bytes.
        BinaryPrimitives.WriteUInt64BigEndian(destination, address.High);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], address.Low);
    }

    internal static IpAddress ReadAddress(ReadOnlySpan<byte> source) =>
        IpAddress.FromV6(BinaryPrimitives.ReadUInt64BigEndian(source), BinaryPrimitives.ReadUInt64BigEndian(source[8..]));
}

/// <summary>Decode result. Malformed input is a status, never an exception.</summary>
public enum ReadStatus
{
    Ok,
    Truncated,
    NotOurs,
    OutOfRange,
}
