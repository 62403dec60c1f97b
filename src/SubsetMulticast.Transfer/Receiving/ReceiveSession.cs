using System.Buffers;
using System.Security.Cryptography;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Transfer.Fec;
using SubsetMulticast.Transfer.Wire;

namespace SubsetMulticast.Transfer.Receiving;

internal enum SessionState { Receiving, Writing, Done }

/// <summary>
/// One transfer a server takes part in (drafts/rendezvous-transfer.md §4.2): the chunk buffer, which datagrams
/// are held, the parity held per FEC layer, and the outcome once finished. Guarded by the server's lock.
/// </summary>
internal sealed class ReceiveSession : IDisposable
{
    private readonly bool[] _held;
    private readonly bool[][] _parityHeld;
    private readonly byte[][] _parity;
    private readonly AesGcm? _aes;

    public ReceiveSession(ulong transaction, in RendezvousMessage r, IpAddress client, ushort clientPort, long now)
    {
        Transaction = transaction;
        ChunkId = r.ChunkId.ToArray();
        Size = r.Size;
        Group = r.Group;
        Payload = r.DatagramPayload;
        Count = r.DatagramCount;
        Client = client;
        ClientPort = clientPort;
        LastActivity = now;
        Buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(1, Size));
        _held = new bool[Count];
        if (r.FecRate > 0 && Count > 0)
        {
            Fec = new LayeredXorParity(r.FecRate, r.FecLayers, Count);
            _parityHeld = new bool[r.FecLayers][];
            _parity = new byte[r.FecLayers][];
            for (int l = 0; l < r.FecLayers; l++)
            {
                int groups = Fec.Value.GroupCount(l);
                _parityHeld[l] = new bool[groups];
                _parity[l] = ArrayPool<byte>.Shared.Rent(groups * Payload);
            }
        }
        else
        {
            _parityHeld = [];
            _parity = [];
        }
        if (r.Key.Length > 0) _aes = new AesGcm(r.Key, 16);
        if (Count == 0) State = SessionState.Writing;
    }

    public ulong Transaction { get; }
    public byte[] ChunkId { get; }
    public long Size { get; }
    public IpAddress Group { get; }
    public int Payload { get; }
    public int Count { get; }
    public IpAddress Client { get; }
    public ushort ClientPort { get; }
    public long LastActivity { get; set; }
    public byte[] Buffer { get; private set; }
    public int Received { get; private set; }
    public LayeredXorParity? Fec { get; }
    public SessionState State { get; set; }
    public TargetOutcome Outcome { get; set; }
    public bool Encrypted => _aes is not null;

    public int LengthOf(int index) => (int)Math.Min(Payload, Size - (long)index * Payload);

    /// <summary>Takes one data or parity datagram; returns the drop reason or null. Recovers what parity allows.</summary>
    public DropReason? Accept(in DataMessage m, ReceiverCounters counters)
    {
        if (State != SessionState.Receiving) return DropReason.Late;
        if (m.IsParity)
        {
            if (Fec is not { } fec || m.ParityLayer >= fec.Layers || m.ParityGroup >= fec.GroupCount(m.ParityLayer)) return DropReason.OutOfRange;
            int layer = m.ParityLayer, group = m.ParityGroup;
            if (_parityHeld[layer][group]) return DropReason.Duplicate;
            if (Open(in m, _parity[layer].AsSpan(group * Payload, Payload)) is { } bad) return bad;
            _parityHeld[layer][group] = true;
            TryRecover(layer, group, counters);
            return null;
        }
        if (m.Index >= (uint)Count) return DropReason.OutOfRange;
        int index = (int)m.Index;
        if (_held[index]) return DropReason.Duplicate;
        if (Open(in m, Buffer.AsSpan(index * Payload, LengthOf(index))) is { } reason) return reason;
        Mark(index, counters);
        return null;
    }

    /// <summary>Copies (or decrypts and authenticates) the payload into place; a wrong length is out of range.</summary>
    private DropReason? Open(in DataMessage m, Span<byte> destination)
    {
        if (_aes is null)
        {
            if (m.Payload.Length != destination.Length) return DropReason.OutOfRange;
            m.Payload.CopyTo(destination);
            return null;
        }
        if (m.Payload.Length != destination.Length + 16) return DropReason.OutOfRange;
        Span<byte> nonce = stackalloc byte[12];
        Nonce(nonce, Transaction, m.Index);
        try
        {
            _aes.Decrypt(nonce, m.Payload[..destination.Length], m.Payload[destination.Length..], destination, m.Header);
            return null;
        }
        catch (AuthenticationTagMismatchException)
        {
            destination.Clear();
            return DropReason.AuthenticationFailed;
        }
    }

    public static void Nonce(Span<byte> nonce, ulong transaction, uint index)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(nonce, transaction);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(nonce[8..], index);
    }

    private void Mark(int index, ReceiverCounters counters)
    {
        _held[index] = true;
        Received++;
        if (Fec is not { } fec) return;
        for (int l = 0; l < fec.Layers; l++) TryRecover(l, fec.GroupOf(l, index), counters);
    }

    /// <summary>With the group's parity and all but one member held, rebuilds the missing one (then its other groups).</summary>
    private void TryRecover(int layer, int group, ReceiverCounters counters)
    {
        var fec = Fec!.Value;
        if (!_parityHeld[layer][group]) return;
        int missing = -1;
        for (int p = 0; p < fec.Rate; p++)
        {
            int i = fec.Member(layer, group, p);
            if (i < 0) break;
            if (_held[i]) continue;
            if (missing >= 0) return;
            missing = i;
        }
        if (missing < 0) return;
        Span<byte> rebuilt = stackalloc byte[TransferHeader.MaxDatagramPayload];
        rebuilt = rebuilt[..Payload];
        _parity[layer].AsSpan(group * Payload, Payload).CopyTo(rebuilt);
        for (int p = 0; p < fec.Rate; p++)
        {
            int i = fec.Member(layer, group, p);
            if (i < 0) break;
            if (i != missing) LayeredXorParity.XorInto(rebuilt, Buffer.AsSpan(i * Payload, LengthOf(i)));
        }
        rebuilt[..LengthOf(missing)].CopyTo(Buffer.AsSpan(missing * Payload));
        counters.Recovered();
        Mark(missing, counters);
    }

    public bool Complete => Received == Count;

    /// <summary>Times the whole chunk was thrown away after a hash mismatch and received again.</summary>
    public int Resets { get; private set; }

    /// <summary>
    /// Forgets every datagram after a hash mismatch: one of them was corrupted past the UDP checksum and there is
    /// no telling which, so the next ack lists nothing and the client sends the chunk again.
    /// </summary>
    public void Reset()
    {
        Resets++;
        Array.Clear(_held);
        foreach (var p in _parityHeld) Array.Clear(p);
        Received = 0;
        State = SessionState.Receiving;
    }

    /// <summary>Writes the held datagrams as ascending ranges into an Ack (at most <paramref name="maxRanges"/>).</summary>
    public int WriteRanges(Span<byte> ack, int maxRanges, out bool truncated)
    {
        int n = 0;
        truncated = false;
        for (int i = 0; i < Count;)
        {
            if (!_held[i]) { i++; continue; }
            int start = i;
            while (i < Count && _held[i]) i++;
            if (n == maxRanges) { truncated = true; break; }
            AckMessage.WriteRange(ack, n++, (uint)start, (uint)(i - start));
        }
        return n;
    }

    /// <summary>Frees the buffers (after the write, or when abandoned).</summary>
    public void Dispose()
    {
        _aes?.Dispose();
        for (int l = 0; l < _parity.Length; l++)
        {
            if (_parity[l] is { Length: > 0 } p) ArrayPool<byte>.Shared.Return(p);
            _parity[l] = [];
        }
        if (Buffer.Length > 0) ArrayPool<byte>.Shared.Return(Buffer);
        Buffer = [];
    }
}
