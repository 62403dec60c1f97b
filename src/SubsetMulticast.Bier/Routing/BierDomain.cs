using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Bier.Encapsulation;
using SubsetMulticast.Bier.Forwarding;

namespace SubsetMulticast.Bier.Routing;

/// <summary>A BIER sub-domain (RFC 8279 §1): its BSL and the BFR-id of each node that has one (BFIRs, BFERs).</summary>
public sealed record BierSubDomain(int Id, BitStringLength Bsl, IReadOnlyDictionary<int, int> BfrIdByNode)
{
    public int MaxSi => BfrIdByNode.Count == 0 ? 0 : BfrIds.ToSetBit(BfrIdByNode.Values.Max(), Bsl).Si;
}

/// <summary>
/// The BFRs of one graph with their BIRTs and BIFTs (RFC 8279 §6.4), computed as the IGP would: hop-count
/// shortest paths to every BFER. With <c>ecmp</c> every equal-cost next hop is kept (§6.7) and a packet's
/// entropy picks one; without it, the one over the lowest-numbered link.
/// </summary>
public sealed class BierDomain
{
    private BierDomain(BierGraph graph, IReadOnlyList<BierSubDomain> subDomains, BierRouter[] routers)
    {
        Graph = graph;
        SubDomains = subDomains;
        Routers = routers;
    }

    public BierGraph Graph { get; }
    public IReadOnlyList<BierSubDomain> SubDomains { get; }
    public IReadOnlyList<BierRouter> Routers { get; }

    public static BierDomain Build(BierGraph graph, IReadOnlyList<BierSubDomain> subDomains, bool ecmp)
    {
        int n = graph.NodeCount;
        var routers = new BierRouter[n];
        for (int i = 0; i < n; i++) routers[i] = new BierRouter(i, graph.Name(i));
        var dist = new int[n];
        var queue = new Queue<int>();
        foreach (var sd in subDomains)
        {
            if (sd.Id is < 0 or > 255) throw new ArgumentOutOfRangeException(nameof(subDomains), "Sub-domain ids are 0..255.");
            int bits = sd.Bsl.Bits(), sis = sd.MaxSi + 1;
            // nextHops[node][si][bit-1], local[node][si][bit-1]
            var nextHops = new List<BierCopy>?[n][][];
            var local = new bool[n][][];
            for (int u = 0; u < n; u++)
            {
                nextHops[u] = new List<BierCopy>?[sis][];
                local[u] = new bool[sis][];
                for (int s = 0; s < sis; s++) { nextHops[u][s] = new List<BierCopy>?[bits]; local[u][s] = new bool[bits]; }
                routers[u].Birt[sd.Id] = [];
            }
            foreach (var (bfer, id) in sd.BfrIdByNode)
            {
                if (!BfrIds.IsValid(id)) throw new ArgumentOutOfRangeException(nameof(subDomains), id, "BFR-ids are 1..65535.");
                var at = BfrIds.ToSetBit(id, sd.Bsl);
                routers[bfer].BfrIds[sd.Id] = id;
                // Hop counts from the BFER: a neighbour one hop nearer is a shortest-path next hop.
                Array.Fill(dist, -1);
                dist[bfer] = 0;
                queue.Enqueue(bfer);
                while (queue.Count > 0)
                {
                    int u = queue.Dequeue();
                    foreach (var a in graph.Neighbours(u))
                        if (dist[a.Neighbour] < 0) { dist[a.Neighbour] = dist[u] + 1; queue.Enqueue(a.Neighbour); }
                }
                local[bfer][at.Si][at.Bit - 1] = true;
                for (int u = 0; u < n; u++)
                {
                    if (u == bfer || dist[u] < 0) continue;
                    var hops = new List<BierCopy>();
                    foreach (var a in graph.Neighbours(u).OrderBy(a => a.Link))
                        if (dist[a.Neighbour] == dist[u] - 1)
                        {
                            hops.Add(new BierCopy(a.Neighbour, a.Link, a.Port));
                            if (!ecmp) break;
                        }
                    nextHops[u][at.Si][at.Bit - 1] = hops;
                    routers[u].Birt[sd.Id][id] = [.. hops.Select(h => h.Neighbour)];
                }
            }
            for (int u = 0; u < n; u++)
                for (int s = 0; s < sis; s++)
                    routers[u].Add(BierFrame.CanonicalBiftId(sd.Bsl, sd.Id, s), new Bift(sd.Id, sd.Bsl, s, nextHops[u][s], local[u][s]));
        }
        return new BierDomain(graph, subDomains, routers);
    }
}
