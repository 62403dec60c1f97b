using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Core.Southbound;

/// <summary>
/// One switch's forwarding rule for one rendezvous group: frames on <see cref="Vlan"/> addressed to
/// <see cref="Group"/> leave by <see cref="Ports"/> (never by the port they came in on).
/// Ports are the switch's own port numbers (OpenFlow port numbers, SNMP bridge ports, emulator ports).
/// </summary>
public sealed record GroupRule(VlanId Vlan, IpAddress Group, IReadOnlyList<uint> Ports)
{
    /// <summary>The Ethernet group MAC that carries <see cref="Group"/>.</summary>
    public MacAddress Mac => MulticastMac.For(Group);

    public bool SamePorts(GroupRule? other) => other is not null && Ports.Count == other.Ports.Count && Ports.SequenceEqual(other.Ports);
}
