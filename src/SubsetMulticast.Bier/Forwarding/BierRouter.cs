using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Bier.Encapsulation;

namespace SubsetMulticast.Bier.Forwarding;

/// <summary>What a BFR did with one packet.</summary>
public readonly record struct BierVerdict(bool DeliveredLocally, int Copies, BierDropReason? Dropped)
{
    public static BierVerdict Drop(BierDropReason reason) => new(false, 0, reason);
}

/// <summary>
/// The copies a BFR produced for one packet, each a whole BIER packet (header with the copy's BitString and
/// TTL − 1, then the payload), in one reusable buffer: a BFR that reuses the list allocates nothing per packet.
/// </summary>
public sealed class BierCopyList
{
    private byte[] _buffer = new byte[4096];
    private readonly List<(BierCopy To, int Offset, int Length)> _copies = [];

    public int Count => _copies.Count;
    public BierCopy Target(int i) => _copies[i].To;
    public ReadOnlySpan<byte> Packet(int i) => _buffer.AsSpan(_copies[i].Offset, _copies[i].Length);
    /// <summary>The payload handed up at this BFR when it delivered locally (a slice of the received packet's copy).</summary>
    public ReadOnlySpan<byte> LocalPayload => _buffer.AsSpan(_localOffset, _localLength);
    private int _localOffset, _localLength, _used;

    internal void Reset() { _copies.Clear(); _used = 0; _localLength = 0; }

    internal Span<byte> Append(BierCopy to, int length)
    {
        if (_used + length > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _used + length));
        _copies.Add((to, _used, length));
        var span = _buffer.AsSpan(_used, length);
        _used += length;
        return span;
    }

    internal void SetLocal(ReadOnlySpan<byte> payload)
    {
        if (_used + payload.Length > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _used + payload.Length));
        payload.CopyTo(_buffer.AsSpan(_used));
        _localOffset = _used;
        _localLength = payload.Length;
        _used += payload.Length;
    }
}

/// <summary>
/// One BFR: its BIFTs by BIFT-id and the RFC 8279 §6.5 / RFC 8296 procedure over whole packets, with every
/// drop counted by reason. Hostile bytes never throw. One forwarding thread per router.
/// </summary>
public sealed class BierRouter
{
    private readonly Dictionary<uint, Bift> _bifts = [];
    private ulong[] _bits = new ulong[64];
    private ulong[] _copyBits = new ulong[64];
    private BierCopy[] _copyTargets = new BierCopy[16];

    public BierRouter(int node, string name)
    {
        Node = node;
        Name = name;
    }

    public int Node { get; }
    public string Name { get; }
    public BierDropCounters Drops { get; } = new();
    /// <summary>BIRT per sub-domain: BFR-id → the BFR-neighbours it is reached through (several with ECMP).</summary>
    public Dictionary<int, SortedDictionary<int, int[]>> Birt { get; } = [];
    public IReadOnlyDictionary<uint, Bift> Bifts => _bifts;
    /// <summary>This BFR's own BFR-id per sub-domain (absent where it has none, as a transit BFR).</summary>
    public Dictionary<int, int> BfrIds { get; } = [];

    public void Add(uint biftId, Bift bift)
    {
        _bifts.Add(biftId, bift);
        int w = bift.Words;
        if (_bits.Length < w) _bits = new ulong[w];
        int copies = Math.Max(1, bift.MaxCopies);
        if (_copyTargets.Length < copies) _copyTargets = new BierCopy[copies];
        if (_copyBits.Length < copies * w) _copyBits = new ulong[copies * w];
    }

    public bool TryGetBift(int subDomain, BitStringLength bsl, int si, out Bift bift) =>
        _bifts.TryGetValue(BierFrame.CanonicalBiftId(bsl, subDomain, si), out bift!);

    /// <summary>
    /// Receives one BIER packet (header and payload, no Ethernet): checks it, delivers locally and/or fills
    /// <paramref name="output"/> with the copies to send. Drops are counted in <see cref="Drops"/>.
    /// </summary>
    public BierVerdict Process(ReadOnlySpan<byte> packet, BierCopyList output)
    {
        output.Reset();
        var status = BierHeader.Read(packet, out var h);
        if (status != BierHeaderStatus.Ok) return Dropped(BierDropCounters.From(status));
        if (!_bifts.TryGetValue(h.Fields.BiftId, out var bift)) return Dropped(BierDropReason.UnknownBift);
        if (h.Fields.Bsl != bift.Bsl) return Dropped(BierDropReason.BslMismatch);
        // RFC 8296 §2.1.1.2: a packet that arrives with TTL 0 is not processed at all.
        if (h.Fields.Ttl == 0) return Dropped(BierDropReason.TtlExpired);
        int w = bift.Words;
        var bits = _bits.AsSpan(0, w);
        BitSpan.ReadWire(h.BitString, bits);
        if (BitSpan.IsZero(bits)) return Dropped(BierDropReason.EmptyBitString);

        // Forward on a copy so that the TTL-1 rule can look before any copy is committed.
        int n = bift.Forward(bits, h.Fields.Entropy, _copyTargets, _copyBits, out bool local, out bool unknown);
        if (unknown) Drops.Count(BierDropReason.UnknownBfrId);
        if (local) output.SetLocal(h.Payload);
        if (n > 0 && h.Fields.Ttl == 1)
        {
            // The copies would leave with TTL 0: expired (RFC 8296 §2.1.1.2); local delivery stands.
            Drops.Count(BierDropReason.TtlExpired);
            return new BierVerdict(local, 0, local ? null : BierDropReason.TtlExpired);
        }
        if (n == 0 && !local) return new BierVerdict(false, 0, unknown ? BierDropReason.UnknownBfrId : BierDropReason.EmptyBitString);
        int length = h.Length + h.Payload.Length;
        for (int i = 0; i < n; i++)
        {
            var copy = output.Append(_copyTargets[i], length);
            packet[..BierHeader.FixedLength].CopyTo(copy);
            BierHeader.SetTtl(copy, (byte)(h.Fields.Ttl - 1));
            BitSpan.WriteWire(_copyBits.AsSpan(i * w, w), copy[BierHeader.FixedLength..h.Length]);
            h.Payload.CopyTo(copy[h.Length..]);
        }
        return new BierVerdict(local, n, null);
    }

    private BierVerdict Dropped(BierDropReason reason)
    {
        Drops.Count(reason);
        return BierVerdict.Drop(reason);
    }
}
