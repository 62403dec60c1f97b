using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.ReferenceGroups;

namespace SubsetMulticast.Core.Tests.Support;

/// <summary>A leaf-spine built by hand: spine i is switch i (bridge 0x1000+i, so spine 0 is the STP root),
/// leaf j is switch spines+j with uplinks on ports 1..spines and hosts on ports spines+1.. .</summary>
internal sealed class TestFabric
{
    public FabricTopology Topology { get; }
    public HostTable Hosts { get; } = new();
    public List<HostLocation> HostList { get; } = [];
    public int Spines { get; }

    public TestFabric(int spines, int leaves, int hostsPerLeaf, ushort vlan = 1)
    {
        Spines = spines;
        var switches = new List<SwitchInfo>();
        for (int i = 0; i < spines; i++)
            switches.Add(new SwitchInfo(i, $"spine{i}", 0x1000UL + (ulong)i, [.. Enumerable.Range(1, leaves).Select(p => (uint)p)]));
        for (int j = 0; j < leaves; j++)
            switches.Add(new SwitchInfo(spines + j, $"leaf{j}", 0x2000UL + (ulong)j, [.. Enumerable.Range(1, spines + hostsPerLeaf).Select(p => (uint)p)]));
        var links = new List<SwitchLink>();
        for (int i = 0; i < spines; i++)
            for (int j = 0; j < leaves; j++)
                links.Add(new SwitchLink(new PortRef(i, (uint)(j + 1)), new PortRef(spines + j, (uint)(i + 1))));
        Topology = new FabricTopology(switches, links);
        for (int j = 0; j < leaves; j++)
            for (int h = 0; h < hostsPerLeaf; h++)
            {
                var ip = IpAddress.FromV4((10u << 24) | ((uint)j << 8) | (uint)h + 1u);
                var mac = new MacAddress(0x02_00_00_00_00_00UL + ((ulong)(uint)j << 8) + (ulong)(uint)(h + 1));
                var host = new HostLocation(ip, mac, vlan, new PortRef(spines + j, (uint)(spines + h + 1)));
                Hosts.Learn(host);
                HostList.Add(host);
            }
    }

    public int Leaf(int j) => Spines + j;

    /// <summary>A reference group learned as snooping converges: every given host joined.</summary>
    public ReferenceGroupTable Reference(IpAddress group, IEnumerable<HostLocation> joined)
    {
        var table = new ReferenceGroupTable(Topology);
        foreach (var h in joined) table.Join(group, h);
        return table;
    }
}
