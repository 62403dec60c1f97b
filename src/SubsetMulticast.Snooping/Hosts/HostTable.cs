using SubsetMulticast.Core.Addressing;

using SubsetMulticast.Snooping.Membership;

namespace SubsetMulticast.Snooping.Hosts;

/// <summary>Where a host is: MAC → port and VLAN, plus the IP addresses it has claimed (ARP, ND, IGMP/MLD sources).</summary>
internal sealed class HostEntry(MacAddress mac)
{
    public const int MaxAddresses = 8;
    public readonly MacAddress Mac = mac;
    public int Port;
    public VlanId Vlan;
    public long LastSeen;
    public readonly IpAddress[] Addresses = new IpAddress[MaxAddresses];
    public int AddressCount;
    private int _nextReplace;

    /// <summary>Adds <paramref name="ip"/>; true when it was new. Past <see cref="MaxAddresses"/> the oldest is replaced.</summary>
    public bool AddAddress(IpAddress ip)
    {
        for (int i = 0; i < AddressCount; i++) if (Addresses[i] == ip) return false;
        if (AddressCount < MaxAddresses) Addresses[AddressCount++] = ip;
        else { Addresses[_nextReplace] = ip; _nextReplace = (_nextReplace + 1) % MaxAddresses; }
        return true;
    }
}

/// <summary>Host locations learned from source MACs (any frame), ARP senders and ND source/target link-layer options.</summary>
internal sealed class HostTable(ISnoopingSink sink)
{
    private readonly Dictionary<MacAddress, HostEntry> _hosts = new();

    public Dictionary<MacAddress, HostEntry> Hosts => _hosts;

    /// <summary>Records that <paramref name="mac"/> was seen on <paramref name="port"/>; group MACs and zero are ignored.</summary>
    public HostEntry? See(MacAddress mac, int port, VlanId vlan, long now)
    {
        if (mac.IsGroup || mac.Value == 0) return null;
        if (!_hosts.TryGetValue(mac, out var h))
        {
            h = new HostEntry(mac) { Port = port, Vlan = vlan, LastSeen = now };
            _hosts.Add(mac, h);
            sink.HostChanged(SnoopingChangeKind.HostLearned, h, default);
            return h;
        }
        h.LastSeen = now;
        if (h.Port != port || h.Vlan != vlan)
        {
            h.Port = port;
            h.Vlan = vlan;
            sink.HostChanged(SnoopingChangeKind.HostMoved, h, default);
        }
        return h;
    }

    /// <summary>Adds an address claimed by <paramref name="mac"/> (seen on <paramref name="port"/>).</summary>
    public void Claim(MacAddress mac, IpAddress ip, int port, VlanId vlan, long now)
    {
        if (ip.IsUnspecified || ip.IsMulticast) return;
        var h = See(mac, port, vlan, now);
        if (h is not null && h.AddAddress(ip)) sink.HostChanged(SnoopingChangeKind.HostAddressAdded, h, ip);
    }
}
