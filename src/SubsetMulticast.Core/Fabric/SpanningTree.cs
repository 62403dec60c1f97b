namespace SubsetMulticast.Core.Fabric;

/// <summary>
/// The loop-free tree that L2 forwarding follows, chosen as IEEE 802.1D spanning tree converges with
/// equal link costs: the root is the lowest bridge id; each other switch's root port goes to the
/// neighbour nearest the root, ties broken by lower designated bridge id, then lower designated port,
/// then lower own port. Links not on the tree are blocked. With 2+ spines this is what keeps the
/// union-of-ports rule from duplicating packets: every "port toward X" is taken on this one tree.
/// A disconnected fabric gets one tree per component.
/// </summary>
public sealed class SpanningTree
{
    public const uint NoPort = 0;

    private readonly int[] _parent;
    private readonly uint[] _rootPort;     // port on the switch toward its parent (the router port)
    private readonly uint[] _downPort;     // port on the parent toward the switch
    private readonly int[] _tin, _tout;    // Euler interval: v is in u's subtree iff tin[u] <= tin[v] < tout[u]
    private readonly int[] _childStart;    // children of u are _children[_childStart[u] .. _childStart[u+1]), ordered by tin
    private readonly int[] _children;
    private readonly int[] _component;

    private SpanningTree(int n)
    {
        _parent = new int[n];
        _rootPort = new uint[n];
        _downPort = new uint[n];
        _tin = new int[n];
        _tout = new int[n];
        _childStart = new int[n + 1];
        _children = new int[Math.Max(0, n - 1)];
        _component = new int[n];
    }

    public int Parent(int sw) => _parent[sw];
    /// <summary>The switch's port toward the root (0 at a root).</summary>
    public uint RootPort(int sw) => _rootPort[sw];
    public bool IsRoot(int sw) => _parent[sw] < 0;
    public bool SameComponent(int a, int b) => _component[a] == _component[b];

    /// <summary>True when the inter-switch port is on the tree (forwarding); false when STP would block it.</summary>
    public bool IsTreePort(int sw, uint port)
    {
        if (_rootPort[sw] == port && port != NoPort) return true;
        for (int i = _childStart[sw]; i < _childStart[sw + 1]; i++)
            if (_downPort[_children[i]] == port) return true;
        return false;
    }

    public bool InSubtree(int ancestor, int sw) => _tin[ancestor] <= _tin[sw] && _tin[sw] < _tout[ancestor];

    /// <summary>
    /// The port by which <paramref name="sw"/> reaches a host attached at <paramref name="host"/>, along the
    /// tree; <see cref="NoPort"/> when the host is in another component. O(log degree), no allocation.
    /// </summary>
    public uint PortToward(int sw, PortRef host)
    {
        if (sw == host.Switch) return host.Port;
        if (!InSubtree(sw, host.Switch)) return _component[sw] == _component[host.Switch] ? _rootPort[sw] : NoPort;
        // The child whose interval holds host.Switch: the last child with tin <= tin[host].
        int lo = _childStart[sw], hi = _childStart[sw + 1] - 1, t = _tin[host.Switch];
        while (lo < hi)
        {
            int mid = (lo + hi + 1) >> 1;
            if (_tin[_children[mid]] <= t) lo = mid; else hi = mid - 1;
        }
        return _downPort[_children[lo]];
    }

    internal static SpanningTree Build(FabricTopology fabric)
    {
        int n = fabric.Switches.Count;
        var tree = new SpanningTree(n);
        var adjacency = new List<(int Neighbour, uint MyPort, uint TheirPort)>[n];
        for (int i = 0; i < n; i++) adjacency[i] = [];
        foreach (var l in fabric.Links)
        {
            adjacency[l.A.Switch].Add((l.B.Switch, l.A.Port, l.B.Port));
            adjacency[l.B.Switch].Add((l.A.Switch, l.B.Port, l.A.Port));
        }
        var dist = new int[n];
        Array.Fill(dist, -1);
        Array.Fill(tree._parent, -1);
        // Roots in bridge-id order: each unreached switch with the lowest id roots its component.
        var order = Enumerable.Range(0, n).OrderBy(i => fabric.Switches[i].BridgeId).ThenBy(i => i).ToArray();
        var queue = new Queue<int>();
        int component = 0;
        foreach (int root in order)
        {
            if (dist[root] >= 0) continue;
            dist[root] = 0;
            tree._component[root] = component;
            queue.Enqueue(root);
            var layer = new List<int>();
            while (queue.Count > 0)
            {
                int u = queue.Dequeue();
                foreach (var (v, _, _) in adjacency[u])
                {
                    if (dist[v] >= 0) continue;
                    dist[v] = dist[u] + 1;
                    tree._component[v] = component;
                    queue.Enqueue(v);
                }
            }
            component++;
        }
        // Root port: among neighbours one hop nearer the root, the best by (bridge id, their port, my port).
        for (int v = 0; v < n; v++)
        {
            if (dist[v] <= 0) continue;
            (int U, uint MyPort, uint TheirPort)? best = null;
            foreach (var (u, myPort, theirPort) in adjacency[v])
            {
                if (dist[u] != dist[v] - 1) continue;
                if (best is null || Better(fabric, (u, myPort, theirPort), best.Value)) best = (u, myPort, theirPort);
            }
            var b = best!.Value;
            tree._parent[v] = b.U;
            tree._rootPort[v] = b.MyPort;
            tree._downPort[v] = b.TheirPort;
        }
        // Children lists, then an iterative DFS for Euler intervals (children visited in list order).
        var count = new int[n + 1];
        for (int v = 0; v < n; v++) if (tree._parent[v] >= 0) count[tree._parent[v] + 1]++;
        for (int i = 0; i < n; i++) count[i + 1] += count[i];
        Array.Copy(count, tree._childStart, n + 1);
        var fill = (int[])count.Clone();
        for (int v = 0; v < n; v++) if (tree._parent[v] >= 0) tree._children[fill[tree._parent[v]]++] = v;
        int clock = 0;
        var stack = new Stack<(int Node, int NextChild)>();
        foreach (int root in order)
        {
            if (tree._parent[root] >= 0 || dist[root] != 0) continue;
            tree._tin[root] = clock++;
            stack.Push((root, tree._childStart[root]));
            while (stack.Count > 0)
            {
                var (u, next) = stack.Pop();
                if (next < tree._childStart[u + 1])
                {
                    stack.Push((u, next + 1));
                    int c = tree._children[next];
                    tree._tin[c] = clock++;
                    stack.Push((c, tree._childStart[c]));
                }
                else tree._tout[u] = clock;
            }
        }
        return tree;
    }

    private static bool Better(FabricTopology f, (int U, uint MyPort, uint TheirPort) a, (int U, uint MyPort, uint TheirPort) b)
    {
        ulong ia = f.Switches[a.U].BridgeId, ib = f.Switches[b.U].BridgeId;
        if (ia != ib) return ia < ib;
        if (a.U != b.U) return a.U < b.U;
        if (a.TheirPort != b.TheirPort) return a.TheirPort < b.TheirPort;
        return a.MyPort < b.MyPort;
    }
}
