using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Emulator.Topology;

namespace SubsetMulticast.Emulator.Tests;

/// <summary>Seeded random fabrics: leaf-spine, fat-tree, and arbitrary meshes with redundant links (multi-path).</summary>
internal static class RandomFabrics
{
    public static FabricSpec Make(Random rng)
    {
        switch (rng.Next(4))
        {
            case 0: return FabricSpec.LeafSpine(rng.Next(1, 4), rng.Next(1, 6), rng.Next(1, 5));
            case 1: return FabricSpec.FatTree(rng.Next(2) == 0 ? 2 : 4);
            default: return Mesh(rng);
        }
    }

    /// <summary>A random spanning tree of 2..9 switches plus 0..5 extra links (loops the tree must break), hosts anywhere.</summary>
    private static FabricSpec Mesh(Random rng)
    {
        int n = rng.Next(2, 10);
        const int ports = 16;
        var used = new int[n];
        var text = new System.Text.StringBuilder();
        // Shuffled bridge ids so the root is not always switch 1.
        var ids = Enumerable.Range(1, n).OrderBy(_ => rng.Next()).ToArray();
        for (int i = 0; i < n; i++) text.AppendLine($"switch s{i} {ports} {ids[i]}");
        var pairs = new HashSet<(int, int)>();
        void Link(int a, int b)
        {
            if (used[a] >= ports - 2 || used[b] >= ports - 2) return;
            text.AppendLine($"link s{a}:{++used[a]} s{b}:{++used[b]}");
            pairs.Add((Math.Min(a, b), Math.Max(a, b)));
        }
        for (int i = 1; i < n; i++) Link(i, rng.Next(i));
        int extra = rng.Next(0, 6);
        for (int e = 0; e < extra; e++)
        {
            int a = rng.Next(n), b = rng.Next(n);
            if (a != b) Link(a, b); // parallel links allowed too: they are loops as well
        }
        int hosts = rng.Next(2, 14);
        for (int h = 1; h <= hosts; h++)
        {
            int sw = rng.Next(n);
            if (used[sw] >= ports) continue;
            text.AppendLine($"host h{h} s{sw}:{++used[sw]} 10.9.{h / 200}.{h % 200 + 1} ipv6=fd09::{h:x}");
        }
        return FabricSpec.ParseFile(text.ToString());
    }

    public static IpAddress Group(Random rng, bool v6) =>
        v6 ? IpAddress.FromV6(0xFF15UL << 48, (ulong)rng.Next(1, 1000)) : IpAddress.FromV4(0xEF01_0000u | (uint)rng.Next(1, 1000));
}
