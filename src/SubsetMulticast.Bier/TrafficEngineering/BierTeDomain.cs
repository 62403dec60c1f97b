using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Bier.Routing;

namespace SubsetMulticast.Bier.TrafficEngineering;

/// <summary>
/// The controller side of BIER-TE (RFC 9262 §5): it gives every link direction of the graph a
/// forward_connected bit (in the BIFT of the BFR it leaves) and every BFER a local_decap bit, installs the
/// BIFTs, and writes a tree as the BitString of its edges and leaves. Trees are BFS trees from the BFIR (lowest
/// link first), so on a loop-free graph the tree is the one path there is, as with L2 forwarding.
/// </summary>
public sealed class BierTeDomain
{
    private readonly Dictionary<(int From, int Link), int> _edgeBit = [];
    private readonly Dictionary<int, int> _decapBit = [];

    public BierTeDomain(BierGraph graph, IEnumerable<int> bfers)
    {
        Graph = graph;
        int next = 1;
        for (int u = 0; u < graph.NodeCount; u++)
            foreach (var a in graph.Neighbours(u).OrderBy(a => a.Link))
                _edgeBit[(u, a.Link)] = next++;
        foreach (var b in bfers.Distinct().Order()) _decapBit[b] = next++;
        if (!BitStringLengths.TryFit(next - 1, out var bsl))
            throw new ArgumentException($"{next - 1} adjacencies do not fit one 4096-bit BitString.", nameof(graph));
        Bsl = bsl;
        var bifts = new BierTeBift[graph.NodeCount];
        for (int u = 0; u < graph.NodeCount; u++)
        {
            bifts[u] = new BierTeBift(bsl);
            foreach (var a in graph.Neighbours(u))
                bifts[u].Set(_edgeBit[(u, a.Link)], BierTeAdjacency.Connected(a.Neighbour, a.Link, a.Port));
            if (_decapBit.TryGetValue(u, out var d)) bifts[u].Set(d, BierTeAdjacency.Decap);
        }
        Bifts = bifts;
    }

    public BierGraph Graph { get; }
    public BitStringLength Bsl { get; }
    public IReadOnlyList<BierTeBift> Bifts { get; }
    public int BitsUsed => _edgeBit.Count + _decapBit.Count;

    public int EdgeBit(int from, int link) => _edgeBit[(from, link)];
    public int DecapBit(int bfer) => _decapBit[bfer];

    /// <summary>
    /// The BitString of the tree from <paramref name="bfir"/> to <paramref name="bfers"/>: each tree edge's bit in
    /// its downstream direction and each BFER's decap bit. BFERs the BFIR cannot reach, or that have no decap
    /// bit, are returned in <paramref name="unreachable"/> and left out.
    /// </summary>
    public BitString WriteTree(int bfir, IEnumerable<int> bfers, out IReadOnlyList<int> unreachable)
    {
        int n = Graph.NodeCount;
        var parentLink = new int[n];
        var parent = new int[n];
        Array.Fill(parent, -2);
        parent[bfir] = -1;
        var queue = new Queue<int>();
        queue.Enqueue(bfir);
        while (queue.Count > 0)
        {
            int u = queue.Dequeue();
            foreach (var a in Graph.Neighbours(u).OrderBy(a => a.Link))
                if (parent[a.Neighbour] == -2) { parent[a.Neighbour] = u; parentLink[a.Neighbour] = a.Link; queue.Enqueue(a.Neighbour); }
        }
        var bits = new BitString(Bsl);
        var missed = new List<int>();
        foreach (var b in bfers.Distinct())
        {
            if (parent[b] == -2 || !_decapBit.TryGetValue(b, out var decap)) { missed.Add(b); continue; }
            bits.Set(decap);
            for (int v = b; parent[v] >= 0 && !bits.IsSet(_edgeBit[(parent[v], parentLink[v])]); v = parent[v])
                bits.Set(_edgeBit[(parent[v], parentLink[v])]);
        }
        unreachable = missed;
        return bits;
    }
}
