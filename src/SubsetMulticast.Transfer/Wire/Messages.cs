using System.Buffers.Binary;
using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Transfer.Wire;

// Each message: a readonly ref struct over the datagram (no copy) with TryRead returning a status, and a
// static Write beside it returning the bytes written. Layouts: drafts/rendezvous-transfer.md §3. Offsets
// are from the start of the datagram; every message starts with the 12-byte TransferHeader.

/// <summary>§3.2 Put proposal (client → negotiating group): chunk id(32) size(8) replicas(1) flags(1).</summary>
public readonly ref struct ProposalMessage
{
    public const int Length = TransferHeader.Length + 42;
    public ulong Transaction { get; init; }
    public ReadOnlySpan<byte> ChunkId { get; init; }
    public long Size { get; init; }
    public byte Replicas { get; init; }

    public static ReadStatus TryRead(ReadOnlySpan<byte> d, out ProposalMessage m)
    {
        m = default;
        var s = Expect(d, MessageType.Proposal, Length, out ulong tx);
        if (s != ReadStatus.Ok) return s;
        long size = (long)BinaryPrimitives.ReadUInt64BigEndian(d[44..]);
        if (size < 0 || d[52] == 0) return ReadStatus.OutOfRange;
        m = new ProposalMessage { Transaction = tx, ChunkId = d.Slice(12, 32), Size = size, Replicas = d[52] };
        return ReadStatus.Ok;
    }

    public static int Write(Span<byte> d, ulong tx, ReadOnlySpan<byte> chunkId, long size, byte replicas)
    {
        TransferHeader.Write(d, MessageType.Proposal, tx);
        chunkId[..32].CopyTo(d[12..]);
        BinaryPrimitives.WriteUInt64BigEndian(d[44..], (ulong)size);
        d[52] = replicas;
        d[53] = 0;
        return Length;
    }

    internal static ReadStatus Expect(ReadOnlySpan<byte> d, MessageType type, int length, out ulong tx)
    {
        var s = TransferHeader.TryRead(d, out var t, out tx);
        if (s != ReadStatus.Ok) return s;
        if (t != type) return ReadStatus.NotOurs;
        return d.Length < length ? ReadStatus.Truncated : ReadStatus.Ok;
    }
}

/// <summary>§3.3 Bid (server → client): chunk id(32) start delay µs(4) rate bytes/s(8) free bytes(8).</summary>
public readonly ref struct BidMessage
{
    public const int Length = TransferHeader.Length + 52;
    public ulong Transaction { get; init; }
    public ReadOnlySpan<byte> ChunkId { get; init; }
    public uint StartDelayMicros { get; init; }
    public long RateBytesPerSecond { get; init; }
    public long FreeBytes { get; init; }

    public static ReadStatus TryRead(ReadOnlySpan<byte> d, out BidMessage m)
    {
        m = default;
        var s = ProposalMessage.Expect(d, MessageType.Bid, Length, out ulong tx);
        if (s != ReadStatus.Ok) return s;
        long rate = (long)BinaryPrimitives.ReadUInt64BigEndian(d[48..]);
        long free = (long)BinaryPrimitives.ReadUInt64BigEndian(d[56..]);
        if (rate <= 0 || free < 0) return ReadStatus.OutOfRange;
        m = new BidMessage { Transaction = tx, ChunkId = d.Slice(12, 32), StartDelayMicros = BinaryPrimitives.ReadUInt32BigEndian(d[44..]), RateBytesPerSecond = rate, FreeBytes = free };
        return ReadStatus.Ok;
    }

    public static int Write(Span<byte> d, ulong tx, ReadOnlySpan<byte> chunkId, uint startDelayMicros, long rate, long free)
    {
        TransferHeader.Write(d, MessageType.Bid, tx);
        chunkId[..32].CopyTo(d[12..]);
        BinaryPrimitives.WriteUInt32BigEndian(d[44..], startDelayMicros);
        BinaryPrimitives.WriteUInt64BigEndian(d[48..], (ulong)rate);
        BinaryPrimitives.WriteUInt64BigEndian(d[56..], (ulong)free);
        return Length;
    }
}

/// <summary>
/// §3.4 Short answers keyed by chunk id: AlreadyStored, NotNow (retry after ms(4), reason(1)), GetRequest,
/// GetHave (size(8), datagram payload(2)), Outcome (outcome(1)), Ready (status(1)). One layout: chunk id(32) then
/// up to 14 bytes of fields, so one reader serves them.
/// </summary>
public readonly ref struct ChunkMessage
{
    public const int Length = TransferHeader.Length + 32 + 14;
    public MessageType Type { get; init; }
    public ulong Transaction { get; init; }
    public ReadOnlySpan<byte> ChunkId { get; init; }
    /// <summary>NotNow: retry after (ms). GetHave: datagram payload.</summary>
    public uint Value { get; init; }
    /// <summary>NotNow: reason; Outcome: a <see cref="TargetOutcome"/>; Ready: 0 = ready, else a <see cref="TargetOutcome"/>.</summary>
    public byte Code { get; init; }
    /// <summary>GetHave: chunk size.</summary>
    public long Size { get; init; }

    public static bool IsChunkMessage(MessageType t) => t is MessageType.AlreadyStored or MessageType.NotNow or MessageType.GetRequest
        or MessageType.GetHave or MessageType.Outcome or MessageType.Ready;

    public static ReadStatus TryRead(ReadOnlySpan<byte> d, out ChunkMessage m)
    {
        m = default;
        var s = TransferHeader.TryRead(d, out var type, out ulong tx);
        if (s != ReadStatus.Ok) return s;
        if (!IsChunkMessage(type)) return ReadStatus.NotOurs;
        if (d.Length < Length) return ReadStatus.Truncated;
        long size = (long)BinaryPrimitives.ReadUInt64BigEndian(d[49..]);
        if (size < 0) return ReadStatus.OutOfRange;
        m = new ChunkMessage { Type = type, Transaction = tx, ChunkId = d.Slice(12, 32), Value = BinaryPrimitives.ReadUInt32BigEndian(d[44..]), Code = d[48], Size = size };
        return ReadStatus.Ok;
    }

    public static int Write(Span<byte> d, MessageType type, ulong tx, ReadOnlySpan<byte> chunkId, uint value = 0, byte code = 0, long size = 0)
    {
        if (!IsChunkMessage(type)) throw new ArgumentOutOfRangeException(nameof(type));
        TransferHeader.Write(d, type, tx);
        chunkId[..32].CopyTo(d[12..]);
        BinaryPrimitives.WriteUInt32BigEndian(d[44..], value);
        d[48] = code;
        BinaryPrimitives.WriteUInt64BigEndian(d[49..], (ulong)size);
        d[57] = 0;
        return Length;
    }
}

/// <summary>
/// §3.5 Rendezvous (client → each target, unicast): chunk id(32) size(8) group(16) datagram payload(2)
/// FEC rate k(1) FEC layers(1) key length(1) key(0|16|32) member count(1) members(16 each).
/// </summary>
public readonly ref struct RendezvousMessage
{
    public const int FixedLength = TransferHeader.Length + 62;
    public ulong Transaction { get; init; }
    public ReadOnlySpan<byte> ChunkId { get; init; }
    public long Size { get; init; }
    public IpAddress Group { get; init; }
    public int DatagramPayload { get; init; }
    public int FecRate { get; init; }
    public int FecLayers { get; init; }
    public ReadOnlySpan<byte> Key { get; init; }
    public ReadOnlySpan<byte> Members { get; init; }
    public int MemberCount => Members.Length / TransferHeader.AddressLength;
    public IpAddress Member(int i) => TransferHeader.ReadAddress(Members.Slice(i * TransferHeader.AddressLength, TransferHeader.AddressLength));

    public int DatagramCount => (int)((Size + DatagramPayload - 1) / DatagramPayload);

    /// <summary>Largest chunk the protocol moves in one transaction (a u32 datagram index with the top bit kept for parity).</summary>
    public const long MaxSize = 1L << 32;

    public static ReadStatus TryRead(ReadOnlySpan<byte> d, out RendezvousMessage m)
    {
        m = default;
        var s = ProposalMessage.Expect(d, MessageType.Rendezvous, FixedLength, out ulong tx);
        if (s != ReadStatus.Ok) return s;
        long size = (long)BinaryPrimitives.ReadUInt64BigEndian(d[44..]);
        int payload = BinaryPrimitives.ReadUInt16BigEndian(d[68..]);
        int k = d[70], layers = d[71], keyLength = d[72];
        if (size < 0 || size > MaxSize || payload == 0 || payload > TransferHeader.MaxDatagramPayload) return ReadStatus.OutOfRange;
        // DatagramCount is an int: a 4 GiB chunk in 1-byte datagrams would overflow it (found by fuzzing).
        if ((size + payload - 1) / payload > int.MaxValue) return ReadStatus.OutOfRange;
        if ((k == 0) != (layers == 0) || k == 1 || k > 64 || layers > 3 || keyLength is not (0 or 16 or 32)) return ReadStatus.OutOfRange;
        if (d.Length < FixedLength + keyLength + 1) return ReadStatus.Truncated;
        int members = d[FixedLength + keyLength];
        if (members == 0 || members > TransferHeader.MaxMembers) return ReadStatus.OutOfRange;
        int start = FixedLength + keyLength + 1;
        if (d.Length < start + members * TransferHeader.AddressLength) return ReadStatus.Truncated;
        var group = TransferHeader.ReadAddress(d[52..]);
        if (!group.IsMulticast && !group.IsUnspecified) return ReadStatus.OutOfRange;
        m = new RendezvousMessage
        {
            Transaction = tx, ChunkId = d.Slice(12, 32), Size = size, Group = group, DatagramPayload = payload,
            FecRate = k, FecLayers = layers, Key = d.Slice(FixedLength, keyLength),
            Members = d.Slice(start, members * TransferHeader.AddressLength),
        };
        return ReadStatus.Ok;
    }

    public static int GetLength(int keyLength, int members) => FixedLength + keyLength + 1 + members * TransferHeader.AddressLength;

    /// <summary><paramref name="group"/> unspecified = no group: the data comes by unicast (fallback).</summary>
    public static int Write(Span<byte> d, ulong tx, ReadOnlySpan<byte> chunkId, long size, IpAddress group, int datagramPayload,
        int fecRate, int fecLayers, ReadOnlySpan<byte> key, IReadOnlyList<IpAddress> members)
    {
        if (members.Count is 0 or > TransferHeader.MaxMembers) throw new ArgumentOutOfRangeException(nameof(members));
        TransferHeader.Write(d, MessageType.Rendezvous, tx);
        chunkId[..32].CopyTo(d[12..]);
        BinaryPrimitives.WriteUInt64BigEndian(d[44..], (ulong)size);
        TransferHeader.WriteAddress(d[52..], group);
        BinaryPrimitives.WriteUInt16BigEndian(d[68..], (ushort)datagramPayload);
        d[70] = (byte)fecRate;
        d[71] = (byte)fecLayers;
        d[72] = (byte)key.Length;
        key.CopyTo(d[FixedLength..]);
        int at = FixedLength + key.Length;
        d[at++] = (byte)members.Count;
        foreach (var member in members)
        {
            TransferHeader.WriteAddress(d[at..], member);
            at += TransferHeader.AddressLength;
        }
        return at;
    }
}

/// <summary>
/// §3.6 Data / GetData (index(4) payload) and Parity (index(4) = 0x8000_0000 | layer &lt;&lt; 24 | group, payload).
/// The payload runs to the end of the datagram; with AES-GCM it is ciphertext followed by the 16-byte tag.
/// </summary>
public readonly ref struct DataMessage
{
    public const int HeaderLength = TransferHeader.Length + 4;
    public const uint ParityBit = 0x8000_0000;
    public MessageType Type { get; init; }
    public ulong Transaction { get; init; }
    public uint Index { get; init; }
    public ReadOnlySpan<byte> Payload { get; init; }
    /// <summary>The bytes authenticated with the payload under AES-GCM (header and index).</summary>
    public ReadOnlySpan<byte> Header { get; init; }

    public bool IsParity => (Index & ParityBit) != 0;
    public int ParityLayer => (int)((Index >> 24) & 0x7F);
    public int ParityGroup => (int)(Index & 0x00FF_FFFF);

    public static uint ParityIndex(int layer, int group) => ParityBit | ((uint)layer << 24) | (uint)group;

    public static ReadStatus TryRead(ReadOnlySpan<byte> d, out DataMessage m)
    {
        m = default;
        var s = TransferHeader.TryRead(d, out var type, out ulong tx);
        if (s != ReadStatus.Ok) return s;
        if (type is not (MessageType.Data or MessageType.Parity or MessageType.GetData)) return ReadStatus.NotOurs;
        if (d.Length < HeaderLength) return ReadStatus.Truncated;
        uint index = BinaryPrimitives.ReadUInt32BigEndian(d[12..]);
        if ((type == MessageType.Parity) != ((index & ParityBit) != 0)) return ReadStatus.OutOfRange;
        m = new DataMessage { Type = type, Transaction = tx, Index = index, Payload = d[HeaderLength..], Header = d[..HeaderLength] };
        return ReadStatus.Ok;
    }

    /// <summary>Writes the header only; the caller puts the payload (or ciphertext and tag) at <see cref="HeaderLength"/>.</summary>
    public static void WriteHeader(Span<byte> d, MessageType type, ulong tx, uint index)
    {
        TransferHeader.Write(d, type, tx);
        BinaryPrimitives.WriteUInt32BigEndian(d[12..], index);
    }
}

/// <summary>§3.7 Poll (client → group or one target): round(2).</summary>
public static class PollMessage
{
    public const int Length = TransferHeader.Length + 2;

    public static ReadStatus TryRead(ReadOnlySpan<byte> d, out ulong tx, out int round)
    {
        round = 0;
        var s = ProposalMessage.Expect(d, MessageType.Poll, Length, out tx);
        if (s == ReadStatus.Ok) round = BinaryPrimitives.ReadUInt16BigEndian(d[12..]);
        return s;
    }

    public static int Write(Span<byte> d, ulong tx, int round)
    {
        TransferHeader.Write(d, MessageType.Poll, tx);
        BinaryPrimitives.WriteUInt16BigEndian(d[12..], (ushort)round);
        return Length;
    }
}

/// <summary>
/// §3.8 Ack (target → client, one per poll: the deferred aggregate acknowledgement): round(2) state(1)
/// received count(4) range count(2) ranges (start(4) count(4) each) of datagrams held, ascending. A target
/// that holds more disjoint ranges than fit lists the first ones and sets <see cref="Truncated"/>: the client
/// then repairs only below the end of the last range listed.
/// GetFetch (client → server) uses the same layout for the ranges it wants.
/// </summary>
public readonly ref struct AckMessage
{
    public const int FixedLength = TransferHeader.Length + 9;
    public const int MaxRanges = 512;
    public MessageType Type { get; init; }
    public ulong Transaction { get; init; }
    public int Round { get; init; }
    public AckState State { get; init; }
    public int Received { get; init; }
    public ReadOnlySpan<byte> RangeBytes { get; init; }
    public int RangeCount => RangeBytes.Length / 8;
    public bool Truncated => (State & AckState.Truncated) != 0;

    public (uint Start, uint Count) Range(int i) =>
        (BinaryPrimitives.ReadUInt32BigEndian(RangeBytes[(i * 8)..]), BinaryPrimitives.ReadUInt32BigEndian(RangeBytes[(i * 8 + 4)..]));

    public static ReadStatus TryRead(ReadOnlySpan<byte> d, out AckMessage m)
    {
        m = default;
        var s = TransferHeader.TryRead(d, out var type, out ulong tx);
        if (s != ReadStatus.Ok) return s;
        if (type is not (MessageType.Ack or MessageType.GetFetch)) return ReadStatus.NotOurs;
        if (d.Length < FixedLength) return ReadStatus.Truncated;
        int ranges = BinaryPrimitives.ReadUInt16BigEndian(d[19..]);
        if (ranges > MaxRanges) return ReadStatus.OutOfRange;
        if (d.Length < FixedLength + ranges * 8) return ReadStatus.Truncated;
        var bytes = d.Slice(FixedLength, ranges * 8);
        // Ranges ascend and do not overlap; a count of 0 is meaningless.
        long end = -1;
        for (int i = 0; i < ranges; i++)
        {
            long start = BinaryPrimitives.ReadUInt32BigEndian(bytes[(i * 8)..]);
            long count = BinaryPrimitives.ReadUInt32BigEndian(bytes[(i * 8 + 4)..]);
            if (count == 0 || start <= end) return ReadStatus.OutOfRange;
            end = start + count - 1;
        }
        m = new AckMessage
        {
            Type = type, Transaction = tx, Round = BinaryPrimitives.ReadUInt16BigEndian(d[12..]), State = (AckState)d[14],
            Received = (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32BigEndian(d[15..])), RangeBytes = bytes,
        };
        return ReadStatus.Ok;
    }

    /// <summary>Writes the fixed part; append ranges with <see cref="WriteRange"/> and finish with <see cref="Finish"/>.</summary>
    public static void WriteFixed(Span<byte> d, MessageType type, ulong tx, int round, AckState state, int received)
    {
        TransferHeader.Write(d, type, tx);
        BinaryPrimitives.WriteUInt16BigEndian(d[12..], (ushort)round);
        d[14] = (byte)state;
        BinaryPrimitives.WriteUInt32BigEndian(d[15..], (uint)received);
    }

    public static void WriteRange(Span<byte> d, int i, uint start, uint count)
    {
        BinaryPrimitives.WriteUInt32BigEndian(d[(FixedLength + i * 8)..], start);
        BinaryPrimitives.WriteUInt32BigEndian(d[(FixedLength + i * 8 + 4)..], count);
    }

    public static int Finish(Span<byte> d, int ranges, bool truncated)
    {
        BinaryPrimitives.WriteUInt16BigEndian(d[19..], (ushort)ranges);
        if (truncated) d[14] |= (byte)AckState.Truncated;
        return FixedLength + ranges * 8;
    }
}

[Flags]
public enum AckState : byte
{
    Receiving = 0,
    /// <summary>Every datagram is held; the hash is being checked and the chunk written (the client re-arms its timer).</summary>
    Writing = 1,
    Truncated = 0x80,
}
