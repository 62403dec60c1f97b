using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Bier.Encapsulation;
using SubsetMulticast.Bier.TrafficEngineering;

namespace SubsetMulticast.Bier.Forwarding;

/// <summary>One copy on one hop: who sent it to whom, over which link (−1 when routed), with which BitString.</summary>
public sealed record BierHop(int From, int To, int Link, BitString Bits);

/// <summary>Where one packet went: the BFRs that delivered it (with how often), the copies on each link, every hop.</summary>
public sealed class BierWalkResult(int linkCount)
{
    public Dictionary<int, int> Deliveries { get; } = [];
    public int[] CopiesPerLink { get; } = new int[linkCount];
    public List<BierHop> Hops { get; } = [];
    public int MaxCopiesPerLink => CopiesPerLink.Length == 0 ? 0 : CopiesPerLink.Max();
    public IReadOnlySet<int> Delivered => Deliveries.Keys.ToHashSet();
}

/// <summary>
/// Follows one packet hop by hop through a domain's BFRs (the model the emulator and the tests check
/// against, and the examples' "packets on each hop"). Bounded: a loop ends it with an exception after
/// more hops than the graph could ever need.
/// </summary>
public static class BierWalk
{
    public static BierWalkResult Bier(IReadOnlyList<BierRouter> routers, int linkCount, int start, ReadOnlySpan<byte> packet)
    {
        var result = new BierWalkResult(linkCount);
        var queue = new Queue<(int Node, byte[] Packet)>();
        queue.Enqueue((start, packet.ToArray()));
        var copies = new BierCopyList();
        int budget = 4 * (routers.Count + linkCount) + 16;
        while (queue.Count > 0)
        {
            if (--budget < 0) throw new InvalidOperationException("BIER forwarding loop.");
            var (node, p) = queue.Dequeue();
            var verdict = routers[node].Process(p, copies);
            if (verdict.DeliveredLocally) result.Deliveries[node] = result.Deliveries.GetValueOrDefault(node) + 1;
            for (int i = 0; i < copies.Count; i++)
            {
                var to = copies.Target(i);
                var bytes = copies.Packet(i).ToArray();
                BierHeader.Read(bytes, out var h);
                result.Hops.Add(new BierHop(node, to.Neighbour, to.Link, BitString.FromWire(h.BitString)));
                if (to.Link >= 0) result.CopiesPerLink[to.Link]++;
                queue.Enqueue((to.Neighbour, bytes));
            }
        }
        return result;
    }

    public static BierWalkResult BierTe(IReadOnlyList<BierTeBift> bifts, int linkCount, int start, BitString bits, uint entropy = 0)
    {
        var result = new BierWalkResult(linkCount);
        var queue = new Queue<(int Node, BitString Bits)>();
        queue.Enqueue((start, bits.Copy()));
        var copies = new BierTeCopy[64];
        int budget = 4 * (bifts.Count + linkCount) + 16;
        while (queue.Count > 0)
        {
            if (--budget < 0) throw new InvalidOperationException("BIER-TE forwarding loop.");
            var (node, b) = queue.Dequeue();
            var bift = bifts[node];
            var copyBits = new ulong[copies.Length * bift.Words];
            int n = bift.Forward(b.Words, entropy, copies, copyBits, out bool decap);
            if (n < 0) throw new InvalidOperationException($"BFR {node} makes more than {copies.Length} copies.");
            if (decap) result.Deliveries[node] = result.Deliveries.GetValueOrDefault(node) + 1;
            for (int i = 0; i < n; i++)
            {
                var c = new BitString(bift.Bsl);
                copyBits.AsSpan(i * bift.Words, bift.Words).CopyTo(c.Words);
                var to = copies[i];
                result.Hops.Add(new BierHop(node, to.Neighbour, to.Routed ? -1 : to.Link, c.Copy())); // c itself is consumed at the next BFR
                if (!to.Routed && to.Link >= 0) result.CopiesPerLink[to.Link]++;
                queue.Enqueue((to.Neighbour, c));
            }
        }
        return result;
    }
}
