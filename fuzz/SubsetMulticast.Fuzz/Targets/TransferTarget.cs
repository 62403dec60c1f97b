using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Transfer.Wire;

namespace SubsetMulticast.Fuzz.Targets;

/// <summary>
/// A rendezvous-transfer datagram (drafts/rendezvous-transfer.md §3), given to every message reader as the
/// receive loops do. Readers return a status and never throw; an Ok message re-encodes through its writer and
/// reads back to the same fields.
/// </summary>
public sealed class TransferTarget : FuzzTarget
{
    public override string Name => "transfer";
    public override string Description => "transfer datagram: every Wire reader, round trip through the writers";

    protected override void Run(ReadOnlySpan<byte> d)
    {
        if (TransferHeader.TryRead(d, out var type, out ulong tx) != ReadStatus.Ok) return;
        var buffer = new byte[d.Length + 64];

        if (ProposalMessage.TryRead(d, out var proposal) == ReadStatus.Ok)
        {
            int n = ProposalMessage.Write(buffer, proposal.Transaction, proposal.ChunkId, proposal.Size, proposal.Replicas);
            ContractViolation.Check(ProposalMessage.TryRead(buffer.AsSpan(0, n), out var back) == ReadStatus.Ok && back.Transaction == tx
                && back.ChunkId.SequenceEqual(proposal.ChunkId) && back.Size == proposal.Size && back.Replicas == proposal.Replicas, "proposal round trip");
        }
        if (BidMessage.TryRead(d, out var bid) == ReadStatus.Ok)
        {
            int n = BidMessage.Write(buffer, bid.Transaction, bid.ChunkId, bid.StartDelayMicros, bid.RateBytesPerSecond, bid.FreeBytes);
            ContractViolation.Check(BidMessage.TryRead(buffer.AsSpan(0, n), out var back) == ReadStatus.Ok && back.StartDelayMicros == bid.StartDelayMicros
                && back.RateBytesPerSecond == bid.RateBytesPerSecond && back.FreeBytes == bid.FreeBytes && back.ChunkId.SequenceEqual(bid.ChunkId), "bid round trip");
        }
        if (ChunkMessage.TryRead(d, out var chunk) == ReadStatus.Ok)
        {
            int n = ChunkMessage.Write(buffer, chunk.Type, chunk.Transaction, chunk.ChunkId, chunk.Value, chunk.Code, chunk.Size);
            ContractViolation.Check(ChunkMessage.TryRead(buffer.AsSpan(0, n), out var back) == ReadStatus.Ok && back.Type == type && back.Value == chunk.Value
                && back.Code == chunk.Code && back.Size == chunk.Size && back.ChunkId.SequenceEqual(chunk.ChunkId), "chunk message round trip");
        }
        if (RendezvousMessage.TryRead(d, out var r) == ReadStatus.Ok)
        {
            ContractViolation.Check(r.DatagramCount >= 0, "negative datagram count");
            var members = new IpAddress[r.MemberCount];
            for (int i = 0; i < members.Length; i++) members[i] = r.Member(i);
            int n = RendezvousMessage.Write(buffer, r.Transaction, r.ChunkId, r.Size, r.Group, r.DatagramPayload, r.FecRate, r.FecLayers, r.Key, members);
            ContractViolation.Check(n == RendezvousMessage.GetLength(r.Key.Length, members.Length), "rendezvous length");
            ContractViolation.Check(RendezvousMessage.TryRead(buffer.AsSpan(0, n), out var back) == ReadStatus.Ok && back.Size == r.Size && back.Group == r.Group
                && back.DatagramPayload == r.DatagramPayload && back.FecRate == r.FecRate && back.FecLayers == r.FecLayers
                && back.Key.SequenceEqual(r.Key) && back.Members.SequenceEqual(r.Members), "rendezvous round trip");
        }
        if (DataMessage.TryRead(d, out var data) == ReadStatus.Ok)
        {
            ContractViolation.Check(data.Header.Length + data.Payload.Length == d.Length, "data header + payload ≠ datagram");
            _ = data.IsParity ? (data.ParityLayer, data.ParityGroup) : (0, 0);
        }
        if (PollMessage.TryRead(d, out _, out int round) == ReadStatus.Ok)
        {
            int n = PollMessage.Write(buffer, tx, round);
            ContractViolation.Check(PollMessage.TryRead(buffer.AsSpan(0, n), out _, out int back) == ReadStatus.Ok && back == round, "poll round trip");
        }
        if (AckMessage.TryRead(d, out var ack) == ReadStatus.Ok)
        {
            AckMessage.WriteFixed(buffer, ack.Type, ack.Transaction, ack.Round, ack.State & ~AckState.Truncated, ack.Received);
            for (int i = 0; i < ack.RangeCount; i++) { var (start, count) = ack.Range(i); AckMessage.WriteRange(buffer, i, start, count); }
            int n = AckMessage.Finish(buffer, ack.RangeCount, ack.Truncated);
            ContractViolation.Check(AckMessage.TryRead(buffer.AsSpan(0, n), out var back) == ReadStatus.Ok && back.Round == ack.Round && back.State == ack.State
                && back.Received == ack.Received && back.RangeBytes.SequenceEqual(ack.RangeBytes), "ack round trip");
        }
    }

    public override IEnumerable<(string, byte[])> Seeds()
    {
        var chunkId = Enumerable.Range(0, 32).Select(i => (byte)(i * 7)).ToArray();
        var b = new byte[2048];
        yield return ("proposal", b[..ProposalMessage.Write(b, 1, chunkId, 1 << 20, 3)]);
        yield return ("bid", b[..BidMessage.Write(b, 1, chunkId, 250, 1_000_000_000, 1L << 40)]);
        yield return ("notnow", b[..ChunkMessage.Write(b, MessageType.NotNow, 1, chunkId, 500, 2)]);
        yield return ("gethave", b[..ChunkMessage.Write(b, MessageType.GetHave, 1, chunkId, 8800, 0, 1 << 20)]);
        yield return ("rendezvous-v4-key", b[..RendezvousMessage.Write(b, 1, chunkId, 1 << 20, IpAddress.Parse("239.255.0.1"), 8800, 8, 2,
            Enumerable.Range(0, 16).Select(i => (byte)i).ToArray(), [IpAddress.Parse("10.0.1.2"), IpAddress.Parse("10.0.2.3"), IpAddress.Parse("fd00::4:5")])]);
        yield return ("rendezvous-unicast", b[..RendezvousMessage.Write(b, 2, chunkId, 5, IpAddress.Parse("::"), 1400, 0, 0, [], [IpAddress.Parse("10.0.1.2")])]);
        DataMessage.WriteHeader(b, MessageType.Data, 1, 7);
        "chunk bytes"u8.CopyTo(b.AsSpan(DataMessage.HeaderLength));
        yield return ("data", b[..(DataMessage.HeaderLength + 11)]);
        DataMessage.WriteHeader(b, MessageType.Parity, 1, DataMessage.ParityIndex(1, 3));
        yield return ("parity", b[..(DataMessage.HeaderLength + 11)]);
        yield return ("poll", b[..PollMessage.Write(b, 1, 2)]);
        AckMessage.WriteFixed(b, MessageType.Ack, 1, 2, AckState.Receiving, 10);
        AckMessage.WriteRange(b, 0, 0, 4);
        AckMessage.WriteRange(b, 1, 6, 4);
        yield return ("ack-two-ranges", b[..AckMessage.Finish(b, 2, truncated: true)]);
    }
}
