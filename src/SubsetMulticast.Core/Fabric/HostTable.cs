using System.Collections.Concurrent;
using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Core.Fabric;

/// <summary>Where a unicast address lives: its MAC and the edge switch port it is attached to.</summary>
public readonly record struct HostLocation(IpAddress Ip, MacAddress Mac, VlanId Vlan, PortRef Port);

/// <summary>
/// The controller's two-step lookup, IP → MAC → edge port, per VLAN (the same IP may live in two VLANs).
/// Fed by the topology export, ARP/ND snooping or host tracking. Reads are lock-free.
/// </summary>
public sealed class HostTable
{
    private readonly ConcurrentDictionary<(VlanId, IpAddress), MacAddress> _macByIp = new();
    private readonly ConcurrentDictionary<(VlanId, MacAddress), PortRef> _portByMac = new();

    public int Count => _macByIp.Count;

    public void Learn(HostLocation host)
    {
        _macByIp[(host.Vlan, host.Ip)] = host.Mac;
        _portByMac[(host.Vlan, host.Mac)] = host.Port;
    }

    public void LearnMac(VlanId vlan, MacAddress mac, PortRef port) => _portByMac[(vlan, mac)] = port;
    public void LearnIp(VlanId vlan, IpAddress ip, MacAddress mac) => _macByIp[(vlan, ip)] = mac;

    public bool Forget(VlanId vlan, IpAddress ip) => _macByIp.TryRemove((vlan, ip), out _);

    public bool TryResolve(VlanId vlan, IpAddress ip, out HostLocation location)
    {
        if (_macByIp.TryGetValue((vlan, ip), out var mac) && _portByMac.TryGetValue((vlan, mac), out var port))
        {
            location = new HostLocation(ip, mac, vlan, port);
            return true;
        }
        location = default;
        return false;
    }

    public IEnumerable<HostLocation> All()
    {
        foreach (var ((vlan, ip), mac) in _macByIp)
            if (_portByMac.TryGetValue((vlan, mac), out var port)) yield return new HostLocation(ip, mac, vlan, port);
    }
}
