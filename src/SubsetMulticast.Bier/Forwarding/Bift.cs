using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Bier.Routing;

namespace SubsetMulticast.Bier.Forwarding;

/// <summary>A copy a BFR sends: to which neighbour, over which link and port.</summary>
public readonly record struct BierCopy(int Neighbour, int Link, uint Port);

/// <summary>
/// One Bit Index Forwarding Table (RFC 8279 §6.4): for one (sub-domain, BSL, SI) at one BFR, each bit's
/// F-BM and BFR-neighbour, with several (F-BM, neighbour) alternatives for a bit that has equal-cost next
/// hops (§6.7). Bits of this BFR itself are "local". Read-only once built; forwarding allocates nothing.
/// </summary>
public sealed class Bift
{
    private readonly int _words;
    private readonly int[] _altStart;     // bit k's alternatives are _alt*[_altStart[k-1] .. _altStart[k])
    private readonly BierCopy[] _altTarget;
    private readonly ulong[] _altFbm;     // alternative a's F-BM is _altFbm[a*_words ..]
    private readonly ulong[] _known;      // bits with an entry (local or forwarded)
    private readonly ulong[] _local;

    internal Bift(int subDomain, BitStringLength bsl, int si, List<BierCopy>?[] nextHops, bool[] local)
    {
        SubDomain = subDomain;
        Bsl = bsl;
        Si = si;
        _words = bsl.Words();
        _known = new ulong[_words];
        _local = new ulong[_words];
        int bits = bsl.Bits();
        // F-BM per adjacency (link): the OR of every bit that lists the adjacency among its next hops (§6.7.1).
        var fbmByLink = new Dictionary<int, ulong[]>();
        for (int k = 1; k <= bits; k++)
        {
            if (local[k - 1]) { BitSpan.Set(_local, k); BitSpan.Set(_known, k); continue; }
            if (nextHops[k - 1] is not { Count: > 0 } hops) continue;
            BitSpan.Set(_known, k);
            foreach (var h in hops)
            {
                if (!fbmByLink.TryGetValue(h.Link, out var f)) fbmByLink[h.Link] = f = new ulong[_words];
                BitSpan.Set(f, k);
            }
        }
        _altStart = new int[bits + 1];
        var targets = new List<BierCopy>();
        var fbms = new List<ulong>();
        for (int k = 1; k <= bits; k++)
        {
            if (!local[k - 1] && nextHops[k - 1] is { Count: > 0 } hops)
                foreach (var h in hops)
                {
                    targets.Add(h);
                    fbms.AddRange(fbmByLink[h.Link]);
                }
            _altStart[k] = targets.Count;
        }
        _altTarget = [.. targets];
        _altFbm = [.. fbms];
        MaxCopies = fbmByLink.Count;
    }

    public int SubDomain { get; }
    public BitStringLength Bsl { get; }
    public int Si { get; }
    public int Words => _words;
    /// <summary>At most this many copies leave per packet (one per adjacency with an F-BM).</summary>
    public int MaxCopies { get; }
    public ReadOnlySpan<ulong> LocalBits => _local;
    public ReadOnlySpan<ulong> KnownBits => _known;

    /// <summary>The entry of bit <paramref name="bit"/>: its alternatives' neighbours and F-BMs (empty when local or unknown).</summary>
    public IReadOnlyList<(BierCopy Target, BitString Fbm)> Entry(int bit)
    {
        var list = new List<(BierCopy, BitString)>();
        for (int a = _altStart[bit - 1]; a < _altStart[bit]; a++)
        {
            var f = new BitString(Bsl);
            _altFbm.AsSpan(a * _words, _words).CopyTo(f.Words);
            list.Add((_altTarget[a], f));
        }
        return list;
    }

    public bool IsLocal(int bit) => BitSpan.IsSet(_local, bit);

    /// <summary>
    /// RFC 8279 §6.5 on <paramref name="bits"/> (consumed in place): bits without an entry are cleared (reported
    /// through <paramref name="unknownBits"/>), this BFR's own bits set <paramref name="deliverLocally"/>, then
    /// while bits remain: take the lowest bit k, choose among k's equal-cost alternatives by
    /// <paramref name="entropy"/>, send a copy with bits ∧ F-BM, and clear F-BM from the packet's bits. Copy i's
    /// BitString is <paramref name="copyBits"/>[i·Words ..]. Returns the number of copies; no allocation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Forward(Span<ulong> bits, uint entropy, Span<BierCopy> copies, Span<ulong> copyBits, out bool deliverLocally, out bool unknownBits)
    {
        int w = _words;
        if (w == 4 && Vector256.IsHardwareAccelerated) return Forward256(bits, entropy, copies, copyBits, out deliverLocally, out unknownBits);
        Span<ulong> scratch = stackalloc ulong[w];
        // Bits no entry covers: the packet must not loop looking for them (RFC 8279 §6.9 leaves them undeliverable).
        unknownBits = false;
        for (int i = 0; i < w; i++)
            if ((bits[i] & ~_known[i]) != 0) { unknownBits = true; bits[i] &= _known[i]; }
        deliverLocally = BitSpan.And(bits, _local, scratch);
        if (deliverLocally) BitSpan.AndNot(bits, _local);
        int n = 0;
        while (true)
        {
            int k = BitSpan.Lowest(bits);
            if (k == 0) break;
            int first = _altStart[k - 1], count = _altStart[k] - first;
            int a = count == 1 ? first : first + (int)(entropy % (uint)count);
            var fbm = _altFbm.AsSpan(a * w, w);
            BitSpan.And(bits, fbm, copyBits.Slice(n * w, w));
            copies[n++] = _altTarget[a];
            BitSpan.AndNot(bits, fbm);
        }
        return n;
    }

    /// <summary>
    /// BSL 256, the default: the whole BitString is one 256-bit register, so each copy is one AND and one ANDNOT
    /// and the lowest bit is found from the register's zero-lane mask. Same procedure as the general path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Forward256(Span<ulong> bits, uint entropy, Span<BierCopy> copies, Span<ulong> copyBits, out bool deliverLocally, out bool unknownBits)
    {
        ref ulong b = ref MemoryMarshal.GetReference(bits);
        var v = Vector256.LoadUnsafe(ref b);
        var known = Vector256.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(_known));
        var local = Vector256.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(_local));
        unknownBits = Vector256.AndNot(v, known) != Vector256<ulong>.Zero;
        v &= known;
        deliverLocally = (v & local) != Vector256<ulong>.Zero;
        v = Vector256.AndNot(v, local);
        ref ulong fbms = ref MemoryMarshal.GetArrayDataReference(_altFbm);
        ref ulong output = ref MemoryMarshal.GetReference(copyBits);
        int n = 0;
        while (true)
        {
            uint nonZero = ~Vector256.ExtractMostSignificantBits(Vector256.Equals(v, Vector256<ulong>.Zero)) & 0xF;
            if (nonZero == 0) break;
            int lane = BitOperations.TrailingZeroCount(nonZero);
            int k = (lane << 6) + BitOperations.TrailingZeroCount(v.GetElement(lane)) + 1;
            int first = _altStart[k - 1], count = _altStart[k] - first;
            int a = count == 1 ? first : first + (int)(entropy % (uint)count);
            var fbm = Vector256.LoadUnsafe(ref fbms, (nuint)(a * 4));
            (v & fbm).StoreUnsafe(ref output, (nuint)(n * 4));
            copies[n++] = _altTarget[a];
            v = Vector256.AndNot(v, fbm);
        }
        v.StoreUnsafe(ref b);
        return n;
    }
}
