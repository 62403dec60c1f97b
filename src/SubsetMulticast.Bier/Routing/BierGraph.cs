using SubsetMulticast.Core.Fabric;

namespace SubsetMulticast.Bier.Routing;

/// <summary>One end of a link as seen from a node: who is at the other end, by which link and local port.</summary>
public readonly record struct BierAdjacency(int Neighbour, int Link, uint Port);

/// <summary>
/// The BIER domain's graph: BFRs (nodes) and the links between them. Built by hand (the RFC examples) or from
/// the fabric (<see cref="FromFabric"/>): switches are transit BFRs and every attached host is a BFER behind
/// its access link, so a BitString names hosts, as a transactional group's member list does.
/// </summary>
public sealed class BierGraph
{
    private readonly List<string> _names = [];
    private readonly List<List<BierAdjacency>> _adjacency = [];
    private readonly List<(int A, int B)> _links = [];

    public int NodeCount => _names.Count;
    public int LinkCount => _links.Count;
    public string Name(int node) => _names[node];
    public IReadOnlyList<BierAdjacency> Neighbours(int node) => _adjacency[node];
    public (int A, int B) LinkEnds(int link) => _links[link];

    public int AddNode(string name)
    {
        _names.Add(name);
        _adjacency.Add([]);
        return _names.Count - 1;
    }

    /// <summary>Adds a link; returns its index (consecutive from 0).</summary>
    public int AddLink(int a, uint portA, int b, uint portB)
    {
        if ((uint)a >= (uint)NodeCount || (uint)b >= (uint)NodeCount || a == b) throw new ArgumentException($"Link {a}–{b} needs two distinct nodes.");
        int link = _links.Count;
        _links.Add((a, b));
        _adjacency[a].Add(new BierAdjacency(b, link, portA));
        _adjacency[b].Add(new BierAdjacency(a, link, portB));
        return link;
    }

    public int NodeByName(string name)
    {
        int i = _names.IndexOf(name);
        return i >= 0 ? i : throw new KeyNotFoundException($"No BFR '{name}'.");
    }

    /// <summary>
    /// Nodes 0..S−1 are the fabric's switches, S..S+H−1 the hosts at <paramref name="hostPorts"/>. Link h is host
    /// h's access link and link H+i the fabric's inter-switch link i (the emulator numbers links the same way).
    /// With <paramref name="treeOnly"/> links spanning tree blocks are left out, so BIER follows the same
    /// loop-free tree as L2 forwarding and the transactional-group state; without it, every link counts and
    /// equal-cost paths give ECMP. Blocked links keep their index (and are simply absent), so indices still match.
    /// </summary>
    public static BierGraph FromFabric(FabricTopology fabric, IReadOnlyList<PortRef> hostPorts, bool treeOnly)
    {
        var g = new BierGraph();
        foreach (var s in fabric.Switches) g.AddNode(s.Id);
        for (int h = 0; h < hostPorts.Count; h++) g.AddNode($"host{h}");
        for (int h = 0; h < hostPorts.Count; h++) g.AddLink(fabric.Switches.Count + h, 1, hostPorts[h].Switch, hostPorts[h].Port);
        for (int i = 0; i < fabric.Links.Count; i++)
        {
            var l = fabric.Links[i];
            bool blocked = treeOnly && !fabric.Tree.IsTreePort(l.A.Switch, l.A.Port);
            if (blocked) g.ReserveLink(l.A.Switch, l.B.Switch);
            else g.AddLink(l.A.Switch, l.A.Port, l.B.Switch, l.B.Port);
        }
        return g;
    }

    /// <summary>Takes a link index without connecting anything (a blocked link keeps its number).</summary>
    private void ReserveLink(int a, int b) => _links.Add((a, b));
}
