using SubsetMulticast.Bier.BitStrings;

namespace SubsetMulticast.Bier.TrafficEngineering;

public enum BierTeAdjacencyKind
{
    /// <summary>To a directly connected BFR over a link (RFC 9262 §3.2.1); with DNC the bit stays set in the copy.</summary>
    ForwardConnected,
    /// <summary>To a BFR further away, by unicast routing underneath (§3.2.2).</summary>
    ForwardRouted,
    /// <summary>Hand the payload up at this BFR (§3.2.4).</summary>
    LocalDecap,
    /// <summary>One of several adjacencies, picked by (entropy XOR seed) mod N (§3.2.3).</summary>
    Ecmp,
}

/// <summary>A BIER-TE adjacency: what a bit of this BFR's BIFT makes it do.</summary>
public sealed record BierTeAdjacency(BierTeAdjacencyKind Kind, int Neighbour = -1, int Link = -1, uint Port = 0, bool DoNotClear = false,
    IReadOnlyList<BierTeAdjacency>? Members = null, uint Seed = 0)
{
    public static BierTeAdjacency Connected(int neighbour, int link = -1, uint port = 0, bool doNotClear = false) =>
        new(BierTeAdjacencyKind.ForwardConnected, neighbour, link, port, doNotClear);
    public static BierTeAdjacency Routed(int target) => new(BierTeAdjacencyKind.ForwardRouted, target);
    public static readonly BierTeAdjacency Decap = new(BierTeAdjacencyKind.LocalDecap);
    public static BierTeAdjacency Ecmp(uint seed, params BierTeAdjacency[] members) =>
        members.Length == 0 || members.Any(m => m.Kind is BierTeAdjacencyKind.Ecmp or BierTeAdjacencyKind.LocalDecap)
            ? throw new ArgumentException("ECMP members are forward_connected or forward_routed adjacencies.", nameof(members))
            : new(BierTeAdjacencyKind.Ecmp, Members: members, Seed: seed);
}

/// <summary>A copy a BIER-TE BFR sends: the adjacency it took (connected or routed) and where it goes.</summary>
public readonly record struct BierTeCopy(int Neighbour, int Link, uint Port, bool Routed);

/// <summary>
/// One BFR's BIER-TE BIFT (RFC 9262 §4): bit → adjacencies. Forwarding follows §4.3's rule: all of this BFR's
/// adjacent bits are cleared from the packet before any copy is made, so no copy can come back through them.
/// </summary>
public sealed class BierTeBift
{
    private readonly BierTeAdjacency[]?[] _byBit;
    private readonly ulong[] _adjacent;

    public BierTeBift(BitStringLength bsl)
    {
        Bsl = bsl;
        _byBit = new BierTeAdjacency[]?[bsl.Bits()];
        _adjacent = new ulong[bsl.Words()];
    }

    public BitStringLength Bsl { get; }
    public int Words => _adjacent.Length;
    public ReadOnlySpan<ulong> AdjacentBits => _adjacent;
    public IReadOnlyList<BierTeAdjacency> Entry(int bit) => _byBit[bit - 1] ?? [];

    public BierTeBift Set(int bit, params BierTeAdjacency[] adjacencies)
    {
        if (bit < 1 || bit > Bsl.Bits()) throw new ArgumentOutOfRangeException(nameof(bit), bit, $"Bits are 1..{Bsl.Bits()}.");
        _byBit[bit - 1] = adjacencies;
        BitSpan.Set(_adjacent, bit);
        return this;
    }

    /// <summary>
    /// RFC 9262 §4.3: AdjBits = BS ∧ AdjacentBits; BS ∧= ¬AdjacentBits; then each adjacency of each bit in
    /// AdjBits: decapsulate, or send a copy of BS (with the bit put back for DNC). Copies go to
    /// <paramref name="copies"/> (BitStrings in <paramref name="copyBits"/>, Words each). Returns the count,
    /// or −1 when <paramref name="copies"/> is too small.
    /// </summary>
    public int Forward(Span<ulong> bits, uint entropy, Span<BierTeCopy> copies, Span<ulong> copyBits, out bool decapsulate)
    {
        int w = Words;
        decapsulate = false;
        Span<ulong> adj = stackalloc ulong[w];
        if (!BitSpan.And(bits, _adjacent, adj)) return 0;
        BitSpan.AndNot(bits, _adjacent);
        int n = 0;
        for (int k = BitSpan.Lowest(adj); k != 0; BitSpan.Clear(adj, k), k = BitSpan.Lowest(adj))
            foreach (var entry in _byBit[k - 1]!)
            {
                var a = entry.Kind == BierTeAdjacencyKind.Ecmp ? entry.Members![(int)((entropy ^ entry.Seed) % (uint)entry.Members!.Count)] : entry;
                if (a.Kind == BierTeAdjacencyKind.LocalDecap) { decapsulate = true; continue; }
                if (n >= copies.Length) return -1;
                var copy = copyBits.Slice(n * w, w);
                bits.CopyTo(copy);
                if (a.DoNotClear) BitSpan.Set(copy, k);
                copies[n++] = new BierTeCopy(a.Neighbour, a.Link, a.Port, a.Kind == BierTeAdjacencyKind.ForwardRouted);
            }
        return n;
    }
}
