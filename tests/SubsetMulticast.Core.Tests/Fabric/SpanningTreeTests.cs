using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.Tests.Support;

namespace SubsetMulticast.Core.Tests.Fabric;

public class SpanningTreeTests
{
    [Fact]
    public void LeafSpine_RootIsLowestBridge_LeavesUseTheirRootSpine()
    {
        var f = new TestFabric(3, 4, 2);
        var tree = f.Topology.Tree;
        Assert.True(tree.IsRoot(0));
        for (int j = 0; j < 4; j++)
        {
            Assert.Equal(0, tree.Parent(f.Leaf(j)));
            Assert.Equal(1u, tree.RootPort(f.Leaf(j)));
            // Uplinks to spines 1 and 2 are blocked, except on leaf0, which spines 1 and 2 hang off.
            Assert.Equal(j == 0, tree.IsTreePort(f.Leaf(j), 2));
            Assert.Equal(j == 0, tree.IsTreePort(f.Leaf(j), 3));
        }
        // Spines 1 and 2 hang off a leaf (nearest the root, lowest bridge id: leaf0 port 2 and 3).
        Assert.Equal(f.Leaf(0), tree.Parent(1));
        Assert.Equal(f.Leaf(0), tree.Parent(2));
    }

    public static TheoryData<int> Seeds => [.. Enumerable.Range(1, 300)];

    /// <summary>
    /// On random connected multigraphs (redundant and parallel links), following PortToward hop by hop from
    /// any switch reaches any host's switch without revisiting a switch, only over tree ports, and the tree
    /// uses exactly n-1 links: so the union rule can never send a copy around a loop.
    /// </summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void PortToward_WalksTheOneTree_OnRandomMeshes(int seed)
    {
        var rng = new Random(seed);
        int n = rng.Next(2, 24);
        var ports = new List<uint>[n];
        for (int i = 0; i < n; i++) ports[i] = [1]; // port 1: a host
        var links = new List<SwitchLink>();
        var peer = new Dictionary<(int, uint), (int, uint)>();
        void Link(int a, int b)
        {
            uint pa = (uint)ports[a].Count + 1, pb = (uint)ports[b].Count + 1;
            ports[a].Add(pa); ports[b].Add(pb);
            links.Add(new SwitchLink(new PortRef(a, pa), new PortRef(b, pb)));
            peer[(a, pa)] = (b, pb); peer[(b, pb)] = (a, pa);
        }
        for (int i = 1; i < n; i++) Link(i, rng.Next(i));              // connected
        for (int e = rng.Next(0, 2 * n); e > 0; e--)                    // redundant, sometimes parallel
        {
            int a = rng.Next(n), b = rng.Next(n);
            if (a != b) Link(a, b);
        }
        var bridgeIds = Enumerable.Range(0, n).Select(_ => (ulong)rng.NextInt64(1, long.MaxValue)).ToArray();
        var topology = new FabricTopology([.. Enumerable.Range(0, n).Select(i => new SwitchInfo(i, $"s{i}", bridgeIds[i], ports[i]))], links);
        var tree = topology.Tree;

        int root = Array.IndexOf(bridgeIds, bridgeIds.Min());
        Assert.True(tree.IsRoot(root));
        int treeLinks = links.Count(l => tree.IsTreePort(l.A.Switch, l.A.Port) && tree.IsTreePort(l.B.Switch, l.B.Port));
        Assert.Equal(n - 1, treeLinks);

        for (int from = 0; from < n; from++)
            for (int to = 0; to < n; to++)
            {
                var host = new PortRef(to, 1);
                int at = from;
                var visited = new HashSet<int> { at };
                for (int hop = 0; at != to; hop++)
                {
                    Assert.True(hop < n, $"seed {seed}: no arrival from {from} to {to}");
                    uint port = tree.PortToward(at, host);
                    Assert.True(tree.IsTreePort(at, port), $"seed {seed}: s{at} port {port} is blocked");
                    at = peer[(at, port)].Item1;
                    Assert.True(visited.Add(at), $"seed {seed}: loop at s{at}");
                }
                Assert.Equal(1u, tree.PortToward(to, host));
            }
    }
}
