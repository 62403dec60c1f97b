using Xunit.Abstractions;
using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Bier.Forwarding;
using SubsetMulticast.Bier.Routing;
using SubsetMulticast.Bier.Tests.Support;
using SubsetMulticast.Bier.TrafficEngineering;

namespace SubsetMulticast.Bier.Tests.Forwarding;

/// <summary>
/// Over seeded random fabrics (hosts are BFERs, switches transit BFRs): BIER delivers to exactly the BitString's
/// BFERs, once each; along the spanning tree it puts at most one copy on a link and exactly one on each link of
/// the tree spanning sender and receivers; BIER-TE trees written by the controller deliver the same set with the
/// same per-link copies. (Equality with transactional-group state is checked on the emulator, where TSM runs.)
/// </summary>
public sealed class DeliveryPropertyTests(ITestOutputHelper output)
{
    public static TheoryData<int> Seeds() => [0, 1000, 2000, 3000];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void TreeRouted_BierAndBierTe_DeliverExactlyTheBfersWithTheTreesCopies(int firstSeed)
    {
        for (int seed = firstSeed; seed < firstSeed + 150; seed++)
        {
            var rng = new Random(seed);
            var (fabric, hostPorts) = RandomFabrics.Make(rng);
            var graph = BierGraph.FromFabric(fabric, hostPorts, treeOnly: true);
            int s = fabric.Switches.Count, hosts = hostPorts.Count;
            var ids = Enumerable.Range(0, hosts).ToDictionary(h => s + h, h => h + 1);
            var domain = BierDomain.Build(graph, [new BierSubDomain(0, BitStringLength.Bits256, ids)], ecmp: false);
            var te = new BierTeDomain(graph, ids.Keys);
            int sender = s + rng.Next(hosts);
            var receivers = Enumerable.Range(s, hosts).Where(n => n != sender && rng.Next(2) == 0).ToHashSet();
            string ctx = $"seed {seed}: {s} switches, {fabric.Links.Count} links, {hosts} hosts, sender {sender}, receivers {string.Join(",", receivers.Order())}";

            var bits = BitString.Of(BitStringLength.Bits256, [.. receivers.Select(n => ids[n])]);
            var bier = BierWalk.Bier(domain.Routers, graph.LinkCount, sender, Packets.Make(bits, entropy: (uint)rng.Next(1 << 20)));
            var teBits = te.WriteTree(sender, receivers, out var unreachable);
            var bierTe = BierWalk.BierTe(te.Bifts, graph.LinkCount, sender, teBits);
            var expectedLinks = TreeLinks(graph, sender, receivers, out var reachable);

            Assert.True(reachable.SetEquals(bier.Deliveries.Keys), $"{ctx}: BIER delivered {string.Join(",", bier.Deliveries.Keys.Order())}");
            Assert.All(bier.Deliveries.Values, n => Assert.Equal(1, n));
            Assert.True(reachable.SetEquals(bierTe.Deliveries.Keys), $"{ctx}: BIER-TE delivered {string.Join(",", bierTe.Deliveries.Keys.Order())}");
            Assert.All(bierTe.Deliveries.Values, n => Assert.Equal(1, n));
            Assert.Equal(receivers.Except(reachable).Order(), unreachable.Order());
            for (int l = 0; l < graph.LinkCount; l++)
            {
                int expected = expectedLinks.Contains(l) ? 1 : 0;
                Assert.True(expected == bier.CopiesPerLink[l], $"{ctx}: link {l} carried {bier.CopiesPerLink[l]} BIER copies, tree says {expected}");
                Assert.True(expected == bierTe.CopiesPerLink[l], $"{ctx}: link {l} carried {bierTe.CopiesPerLink[l]} BIER-TE copies, tree says {expected}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void ShortestPathsWithEcmp_DeliverEachBferOnceOverEverySiAndEntropy(int firstSeed)
    {
        int sharedLinks = 0;
        for (int seed = firstSeed; seed < firstSeed + 150; seed++)
        {
            var rng = new Random(seed);
            var (fabric, hostPorts) = RandomFabrics.Make(rng);
            var graph = BierGraph.FromFabric(fabric, hostPorts, treeOnly: false);
            int s = fabric.Switches.Count, hosts = hostPorts.Count;
            // BSL 64 and BFR-ids scattered over three SIs: one packet per SI.
            var idPool = Enumerable.Range(1, 192).OrderBy(_ => rng.Next()).ToArray();
            var ids = Enumerable.Range(0, hosts).ToDictionary(h => s + h, h => idPool[h]);
            var domain = BierDomain.Build(graph, [new BierSubDomain(3, BitStringLength.Bits64, ids)], ecmp: true);
            int sender = s + rng.Next(hosts);
            var receivers = Enumerable.Range(s, hosts).Where(n => n != sender && rng.Next(2) == 0).ToHashSet();
            var reachable = Reachable(graph, sender, receivers);
            for (uint entropy = 0; entropy < 3; entropy++)
            {
                var delivered = new Dictionary<int, int>();
                foreach (var set in BfrIds.Encode(BitStringLength.Bits64, receivers.Select(n => ids[n])))
                {
                    var walk = BierWalk.Bier(domain.Routers, graph.LinkCount, sender, Packets.Make(set.Bits, subDomain: 3, si: set.Si, entropy: entropy * 7919));
                    foreach (var (n, c) in walk.Deliveries) delivered[n] = delivered.GetValueOrDefault(n) + c;
                    if (walk.MaxCopiesPerLink > 1) sharedLinks++;
                }
                Assert.True(reachable.SetEquals(delivered.Keys), $"seed {seed} entropy {entropy}: delivered {string.Join(",", delivered.Keys.Order())}, expected {string.Join(",", reachable.Order())}");
                Assert.All(delivered.Values, n => Assert.Equal(1, n));
            }
        }
        // Shortest paths are per BFER, not a tree: two copies may share a link in a mesh (RFC 8279 promises no
        // duplicate delivery, not one copy per link). Reported, not asserted; the tree-routed test asserts ≤ 1.
        output.WriteLine($"packets with two copies on one link: {sharedLinks}");
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void BierTeOverTheFullMesh_TreeDeliversOnceWithOneCopyPerLink(int firstSeed)
    {
        for (int seed = firstSeed; seed < firstSeed + 150; seed++)
        {
            var rng = new Random(seed);
            var (fabric, hostPorts) = RandomFabrics.Make(rng);
            var graph = BierGraph.FromFabric(fabric, hostPorts, treeOnly: false);
            int s = fabric.Switches.Count, hosts = hostPorts.Count;
            var te = new BierTeDomain(graph, Enumerable.Range(s, hosts));
            int sender = s + rng.Next(hosts);
            var receivers = Enumerable.Range(s, hosts).Where(n => n != sender && rng.Next(2) == 0).ToHashSet();
            var bits = te.WriteTree(sender, receivers, out _);
            var walk = BierWalk.BierTe(te.Bifts, graph.LinkCount, sender, bits, (uint)seed);
            Assert.True(Reachable(graph, sender, receivers).SetEquals(walk.Deliveries.Keys), $"seed {seed}");
            Assert.All(walk.Deliveries.Values, n => Assert.Equal(1, n));
            Assert.True(walk.MaxCopiesPerLink <= 1, $"seed {seed}: {walk.MaxCopiesPerLink} copies on a link");
        }
    }

    /// <summary>The links of the (unique, on a tree graph) paths from the sender to each reachable receiver.</summary>
    private static HashSet<int> TreeLinks(BierGraph g, int from, IEnumerable<int> to, out HashSet<int> reachable)
    {
        var parent = new Dictionary<int, (int Node, int Link)> { [from] = (-1, -1) };
        var queue = new Queue<int>([from]);
        while (queue.Count > 0)
        {
            int u = queue.Dequeue();
            foreach (var a in g.Neighbours(u))
                if (parent.TryAdd(a.Neighbour, (u, a.Link))) queue.Enqueue(a.Neighbour);
        }
        var links = new HashSet<int>();
        reachable = [];
        foreach (var t in to)
        {
            if (!parent.ContainsKey(t)) continue;
            reachable.Add(t);
            for (int v = t; parent[v].Node >= 0; v = parent[v].Node) links.Add(parent[v].Link);
        }
        return links;
    }

    private static HashSet<int> Reachable(BierGraph g, int from, IEnumerable<int> to)
    {
        TreeLinks(g, from, to, out var r);
        return r;
    }
}
