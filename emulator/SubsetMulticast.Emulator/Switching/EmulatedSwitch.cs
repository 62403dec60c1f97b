using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Planning;

namespace SubsetMulticast.Emulator.Switching;

/// <summary>
/// One emulated L2 switch: MAC learning, ARP/ND snooping (IP → MAC), IGMP/MLD report snooping into a
/// per-(VLAN, group) member-port table, router ports toward the querier (the tree root), ports blocked
/// by spanning tree, and the transactional-group table that the controller (or this switch's own
/// forwarding control agent) programs. State is only touched by the fabric's single delivery thread
/// or under the fabric's lock.
/// </summary>
public sealed class EmulatedSwitch
{
    private readonly Dictionary<ulong, uint> _fdb = new();                          // (vlan << 48 | mac) → port
    private readonly Dictionary<(ushort, IpAddress), MacAddress> _arp = new();
    private readonly Dictionary<(ushort, IpAddress), SortedSet<uint>> _members = new();
    private readonly Dictionary<(ushort, IpAddress), uint[]> _transactional = new();
    private readonly Dictionary<(ushort, MacAddress), uint[]> _staticMac = new();

    internal EmulatedSwitch(int index, string name, ulong bridgeId, int portCount)
    {
        Index = index;
        Name = name;
        BridgeId = bridgeId;
        PortCount = portCount;
        Neighbours = new PortPeer[portCount + 1];
        Blocked = new bool[portCount + 1];
    }

    public int Index { get; }
    public string Name { get; }
    public ulong BridgeId { get; }
    public int PortCount { get; }

    /// <summary>What is at the other end of each port (index = port number).</summary>
    internal PortPeer[] Neighbours { get; }
    internal bool[] Blocked { get; }
    /// <summary>The port toward the querier (tree root); empty at the root.</summary>
    public uint[] RouterPorts { get; internal set; } = [];

    /// <summary>
    /// Set in OpenFlow mode: forwarding then follows this datapath's flow table (punts, groups, NORMAL) instead
    /// of the switch's own snooping and transactional tables.
    /// </summary>
    internal OpenFlow.OpenFlowDatapath? Datapath { get; set; }

    /// <summary>When set, the next southbound change on this switch fails with this reason (for rollback tests).</summary>
    public string? FailNextChange { get; set; }

    public int FdbCount => _fdb.Count;

    public bool TryLookupMac(VlanId vlan, MacAddress mac, out uint port) => _fdb.TryGetValue(Key(vlan, mac), out port);
    public bool TryLookupIp(VlanId vlan, IpAddress ip, out MacAddress mac) => _arp.TryGetValue((vlan.Value, ip), out mac);

    /// <summary>Member ports snooped for a group (empty when none).</summary>
    public IReadOnlyCollection<uint> MemberPorts(VlanId vlan, IpAddress group) =>
        _members.TryGetValue((vlan.Value, group), out var s) ? s : [];

    public IEnumerable<(VlanId Vlan, IpAddress Group, IReadOnlyCollection<uint> Ports)> SnoopedGroups() =>
        _members.Select(kv => (new VlanId(kv.Key.Item1), kv.Key.Item2, (IReadOnlyCollection<uint>)kv.Value));

    /// <summary>The reference group's forwarding set here: member ports ∪ router ports, or router ports alone if unregistered.</summary>
    public uint[] ForwardingPorts(VlanId vlan, IpAddress group) =>
        _members.TryGetValue((vlan.Value, group), out var s) ? [.. s.Union(RouterPorts).Order()] : RouterPorts;

    public bool TryGetTransactional(VlanId vlan, IpAddress group, out uint[] ports) => _transactional.TryGetValue((vlan.Value, group), out ports!);

    public IEnumerable<(VlanId Vlan, IpAddress Group, uint[] Ports)> TransactionalEntries() =>
        _transactional.Select(kv => (new VlanId(kv.Key.Item1), kv.Key.Item2, kv.Value));

    internal void SetTransactional(VlanId vlan, IpAddress group, uint[]? ports)
    {
        if (ports is null) _transactional.Remove((vlan.Value, group));
        else _transactional[(vlan.Value, group)] = ports;
    }

    /// <summary>Static multicast entries by group MAC (Q-BRIDGE dot1qStaticMulticastTable, written over SNMP).</summary>
    public bool TryGetStaticMac(VlanId vlan, MacAddress mac, out uint[] ports) => _staticMac.TryGetValue((vlan.Value, mac), out ports!);

    public IEnumerable<(VlanId Vlan, MacAddress Mac, uint[] Ports)> StaticMacEntries() =>
        _staticMac.Select(kv => (new VlanId(kv.Key.Item1), kv.Key.Item2, kv.Value));

    /// <summary>Sets (or, with null, removes) a static multicast entry. Under the fabric's gate.</summary>
    public void SetStaticMac(VlanId vlan, MacAddress mac, uint[]? ports)
    {
        if (ports is null) _staticMac.Remove((vlan.Value, mac));
        else _staticMac[(vlan.Value, mac)] = ports;
    }

    /// <summary>The learned forwarding database: (VLAN, MAC) → port.</summary>
    public IEnumerable<(VlanId Vlan, MacAddress Mac, uint Port)> FdbEntries() =>
        _fdb.Select(kv => (new VlanId((ushort)(kv.Key >> 48)), new MacAddress(kv.Key & 0xFFFF_FFFF_FFFFUL), kv.Value));

    /// <summary>What is at the far end of a port: (switch index, port) or (-1, 0).</summary>
    public (int Switch, uint Port) Neighbour(uint port) => port >= 1 && port <= PortCount && Neighbours[port].IsSwitch ? (Neighbours[port].Switch, Neighbours[port].Port) : (-1, 0);

    internal void Learn(VlanId vlan, MacAddress mac, uint port) => _fdb[Key(vlan, mac)] = port;
    internal void LearnIp(VlanId vlan, IpAddress ip, MacAddress mac) => _arp[(vlan.Value, ip)] = mac;

    internal void SnoopJoin(VlanId vlan, IpAddress group, uint port)
    {
        if (!_members.TryGetValue((vlan.Value, group), out var s)) _members[(vlan.Value, group)] = s = [];
        s.Add(port);
    }

    internal void SnoopLeave(VlanId vlan, IpAddress group, uint port)
    {
        if (_members.TryGetValue((vlan.Value, group), out var s) && s.Remove(port) && s.Count == 0) _members.Remove((vlan.Value, group));
    }

    /// <summary>
    /// The forwarding control agent's rule (draft §7.1) from this switch's own tables: each member's port
    /// via IP → MAC (ARP/ND snooping) → port (MAC learning), kept only if in the reference group's
    /// forwarding set. Returns null when the result is what the switch does for unregistered groups.
    /// </summary>
    internal uint[]? ComputeLocalPortset(VlanId vlan, IpAddress reference, ReadOnlySpan<IpAddress> members)
    {
        var forwarding = ForwardingPorts(vlan, reference);
        Span<uint> set = stackalloc uint[Math.Min(forwarding.Length, members.Length) + 1];
        int count = 0;
        foreach (var m in members)
            if (TryLookupIp(vlan, m, out var mac) && TryLookupMac(vlan, mac, out var port))
                count = PortsetRule.AddIfReferenced(set, count, port, forwarding);
        return PortsetRule.IsUnregisteredDefault(set[..count], RouterPorts) ? null : set[..count].ToArray();
    }

    private static ulong Key(VlanId vlan, MacAddress mac) => ((ulong)vlan.Value << 48) | mac.Value;
}

/// <summary>The far end of a port: another switch's port, a host, or nothing.</summary>
internal readonly record struct PortPeer(int Switch, uint Port, int Host, int Link)
{
    public bool IsHost => Host >= 0;
    public bool IsSwitch => Switch >= 0;
    public static readonly PortPeer None = new(-1, 0, -1, -1);
}
