using SubsetMulticast.Core.Fabric;

namespace SubsetMulticast.Bier.Tests.Support;

/// <summary>Seeded random fabrics: leaf-spine (ECMP everywhere) and meshes (a random tree plus redundant links), hosts anywhere.</summary>
internal static class RandomFabrics
{
    public static (FabricTopology Fabric, List<PortRef> Hosts) Make(Random rng)
    {
        return rng.Next(3) == 0 ? LeafSpine(rng.Next(1, 4), rng.Next(2, 7), rng.Next(1, 5)) : Mesh(rng);
    }

    public static (FabricTopology, List<PortRef>) LeafSpine(int spines, int leaves, int hostsPerLeaf)
    {
        var switches = new List<SwitchInfo>();
        for (int i = 0; i < spines; i++) switches.Add(new SwitchInfo(i, $"spine{i}", 0x10UL + (ulong)i, Ports(leaves)));
        for (int j = 0; j < leaves; j++) switches.Add(new SwitchInfo(spines + j, $"leaf{j}", 0x1000UL + (ulong)j, Ports(spines + hostsPerLeaf)));
        var links = new List<SwitchLink>();
        for (int i = 0; i < spines; i++)
            for (int j = 0; j < leaves; j++)
                links.Add(new SwitchLink(new PortRef(i, (uint)(j + 1)), new PortRef(spines + j, (uint)(i + 1))));
        var hosts = new List<PortRef>();
        for (int j = 0; j < leaves; j++)
            for (int h = 0; h < hostsPerLeaf; h++) hosts.Add(new PortRef(spines + j, (uint)(spines + h + 1)));
        return (new FabricTopology(switches, links), hosts);
    }

    private static (FabricTopology, List<PortRef>) Mesh(Random rng)
    {
        int n = rng.Next(2, 10);
        const int ports = 16;
        var used = new int[n];
        var ids = Enumerable.Range(1, n).OrderBy(_ => rng.Next()).ToArray();
        var switches = Enumerable.Range(0, n).Select(i => new SwitchInfo(i, $"s{i}", (ulong)ids[i], Ports(ports))).ToList();
        var links = new List<SwitchLink>();
        void Link(int a, int b)
        {
            if (used[a] >= ports - 2 || used[b] >= ports - 2) return;
            links.Add(new SwitchLink(new PortRef(a, (uint)++used[a]), new PortRef(b, (uint)++used[b])));
        }
        for (int i = 1; i < n; i++) Link(i, rng.Next(i));
        for (int e = rng.Next(0, 6); e > 0; e--)
        {
            int a = rng.Next(n), b = rng.Next(n);
            if (a != b) Link(a, b);
        }
        var hosts = new List<PortRef>();
        for (int h = rng.Next(2, 14); h > 0; h--)
        {
            int sw = rng.Next(n);
            if (used[sw] < ports) hosts.Add(new PortRef(sw, (uint)++used[sw]));
        }
        return (new FabricTopology(switches, links), hosts);
    }

    private static List<uint> Ports(int count) => [.. Enumerable.Range(1, count).Select(p => (uint)p)];
}
