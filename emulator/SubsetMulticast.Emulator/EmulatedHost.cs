using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Emulator;

/// <summary>A host on an access port. It counts every frame that reaches its NIC.</summary>
public sealed class EmulatedHost
{
    internal EmulatedHost(int index, string name, int sw, uint port, IpAddress ipv4, IpAddress? ipv6, MacAddress mac, VlanId vlan, int link)
    {
        Index = index; Name = name; Switch = sw; Port = port; Ipv4 = ipv4; Ipv6 = ipv6; Mac = mac; Vlan = vlan; Link = link;
    }

    public int Index { get; }
    public string Name { get; }
    public int Switch { get; }
    public uint Port { get; }
    public IpAddress Ipv4 { get; }
    public IpAddress? Ipv6 { get; }
    public MacAddress Mac { get; }
    public VlanId Vlan { get; }
    /// <summary>Index of the host's access link in the fabric's link counters.</summary>
    internal int Link { get; }

    public bool Has(IpAddress ip) => Ipv4 == ip || Ipv6 == ip;

    /// <summary>Groups the host's IGMP/MLD stack is in (joined, not left): it answers queries for them. Under the fabric's lock.</summary>
    internal HashSet<IpAddress> Groups { get; } = [];
}
