using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.ReferenceGroups;

namespace SubsetMulticast.Controller.Tests.Support;

/// <summary>
/// Two switches joined s1:4 — s2:4, three hosts each on VLAN 1: 10.0.1.1-3 on s1 ports 1-3, 10.0.2.1-3 on s2.
/// Reference group 239.1.0.1 has 10.0.1.1, 10.0.1.2, 10.0.2.1 and 10.0.2.2; 10.0.1.3 and 10.0.2.3 never joined.
/// </summary>
public sealed class TestFabric
{
    public const string Reference = "239.1.0.1";

    public TestFabric()
    {
        Topology = new FabricTopology(
            [new SwitchInfo(0, "s1", 1, [1, 2, 3, 4]), new SwitchInfo(1, "s2", 2, [1, 2, 3, 4])],
            [new SwitchLink(new PortRef(0, 4), new PortRef(1, 4))]);
        Hosts = new HostTable();
        References = new ReferenceGroupTable(Topology);
        for (int sw = 0; sw < 2; sw++)
            for (uint port = 1; port <= 3; port++)
            {
                var host = new HostLocation(IpAddress.Parse($"10.0.{sw + 1}.{port}"), new MacAddress(0x02_00_00_00_00_00UL | ((ulong)(sw + 1) << 8) | port),
                    new VlanId(1), new PortRef(sw, port));
                Hosts.Learn(host);
                if (port <= 2) References.Join(IpAddress.Parse(Reference), host);
            }
    }

    public FabricTopology Topology { get; }
    public HostTable Hosts { get; }
    public ReferenceGroupTable References { get; }
}
