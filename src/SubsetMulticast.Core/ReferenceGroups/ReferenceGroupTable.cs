using System.Collections.Concurrent;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;

namespace SubsetMulticast.Core.ReferenceGroups;

/// <summary>
/// (VLAN, group) → per-switch member ports, as IGMP/MLD snooping (or static configuration) leaves them,
/// plus each switch's router ports. Writers (snooping events) are serialized; readers get immutable
/// <see cref="ReferenceGroup"/> snapshots without locking.
/// </summary>
public sealed class ReferenceGroupTable
{
    private readonly object _gate = new();
    private readonly Dictionary<(VlanId, IpAddress), SortedDictionary<int, uint[]>> _members = new();
    private readonly Dictionary<(VlanId, int), uint[]> _routerPorts = new();
    private readonly ConcurrentDictionary<(VlanId, IpAddress), ReferenceGroup> _snapshots = new();
    private FabricTopology _topology;

    private volatile Lifecycle.AddressBlock[] _excluded = [];
    private long _refusedTransactional;

    public ReferenceGroupTable(FabricTopology topology) => _topology = topology;

    /// <summary>
    /// Addresses of a transactional block are never a reference group, whatever reports are heard: a host that
    /// joins a rendezvous address (a mistake, or an attack) must not make it one. Existing entries are dropped.
    /// </summary>
    public void ExcludeBlock(Lifecycle.AddressBlock block)
    {
        lock (_gate)
        {
            _excluded = [.. _excluded, block];
            foreach (var key in _members.Keys.Where(k => block.Contains(k.Item2)).ToList())
            {
                _members.Remove(key);
                _snapshots.TryRemove(key, out _);
            }
        }
    }

    /// <summary>Membership updates refused because the group is in a transactional block.</summary>
    public long RefusedTransactional => Interlocked.Read(ref _refusedTransactional);

    private bool Excluded(IpAddress group)
    {
        foreach (var b in _excluded)
            if (b.Contains(group)) { Interlocked.Increment(ref _refusedTransactional); return true; }
        return false;
    }

    public FabricTopology Topology => _topology;

    public bool TryGet(VlanId vlan, IpAddress group, out ReferenceGroup referenceGroup) =>
        _snapshots.TryGetValue((vlan, group), out referenceGroup!);

    public IReadOnlyList<ReferenceGroup> All() => [.. _snapshots.Values.OrderBy(g => g.Vlan.Value).ThenBy(g => g.Group)];

    /// <summary>Sets the member ports of one switch for one group; an empty set removes the switch's entry.</summary>
    public void SetMemberPorts(VlanId vlan, IpAddress group, int sw, IEnumerable<uint> ports)
    {
        if (!group.IsMulticast) throw new ArgumentException($"{group} is not a multicast group.", nameof(group));
        if (Excluded(group)) return;
        var sorted = ports.Distinct().Order().ToArray();
        lock (_gate)
        {
            if (!_members.TryGetValue((vlan, group), out var perSwitch))
            {
                if (sorted.Length == 0) return;
                _members[(vlan, group)] = perSwitch = new SortedDictionary<int, uint[]>();
            }
            if (sorted.Length == 0) perSwitch.Remove(sw); else perSwitch[sw] = sorted;
            Publish(vlan, group, perSwitch);
        }
    }

    /// <summary>Replaces a switch's router ports for a VLAN (learned from queries). Until set, a switch's router port is its tree root port.</summary>
    public void SetRouterPorts(VlanId vlan, int sw, IEnumerable<uint> ports)
    {
        lock (_gate)
        {
            _routerPorts[(vlan, sw)] = ports.Distinct().Order().ToArray();
            foreach (var ((v, g), perSwitch) in _members)
                if (v == vlan && perSwitch.ContainsKey(sw)) Publish(v, g, perSwitch);
        }
    }

    /// <summary>
    /// What snooping converges to when a host joins: its edge port becomes a member port, and so does
    /// the port each switch on the way to the querier (the tree root) receives the forwarded report on.
    /// </summary>
    public void Join(IpAddress group, HostLocation host)
    {
        if (Excluded(group)) return;
        var tree = _topology.Tree;
        lock (_gate)
        {
            int sw = host.Port.Switch;
            uint port = host.Port.Port;
            bool changed = false;
            for (int hops = 0; hops <= _topology.Switches.Count; hops++)
            {
                changed |= AddMemberPort(host.Vlan, group, sw, port);
                if (tree.IsRoot(sw)) break;
                int parent = tree.Parent(sw);
                port = tree.PortToward(parent, new PortRef(sw, SpanningTree.NoPort));
                sw = parent;
            }
            if (changed) Publish(host.Vlan, group, _members[(host.Vlan, group)]);
        }
    }

    /// <summary>Drops every entry of a group (static removal, or the last member timed out everywhere).</summary>
    public bool Remove(VlanId vlan, IpAddress group)
    {
        lock (_gate)
        {
            _members.Remove((vlan, group));
            return _snapshots.TryRemove((vlan, group), out _);
        }
    }

    /// <summary>A new topology: router-port defaults and snapshots are recomputed.</summary>
    public void UpdateTopology(FabricTopology topology)
    {
        lock (_gate)
        {
            _topology = topology;
            foreach (var ((v, g), perSwitch) in _members) Publish(v, g, perSwitch);
        }
    }

    public ReadOnlySpan<uint> RouterPorts(VlanId vlan, int sw)
    {
        if (_routerPorts.TryGetValue((vlan, sw), out var explicitPorts)) return explicitPorts;
        uint root = _topology.Tree.RootPort(sw);
        return root == SpanningTree.NoPort ? [] : new[] { root };
    }

    /// <summary>Adds one member port; the caller publishes. Returns false when it was there already.</summary>
    private bool AddMemberPort(VlanId vlan, IpAddress group, int sw, uint port)
    {
        if (!_members.TryGetValue((vlan, group), out var perSwitch))
            _members[(vlan, group)] = perSwitch = new SortedDictionary<int, uint[]>();
        if (perSwitch.TryGetValue(sw, out var existing))
        {
            if (Array.BinarySearch(existing, port) >= 0) return false;
            perSwitch[sw] = [.. existing.Append(port).Order()];
        }
        else perSwitch[sw] = [port];
        return true;
    }

    private void Publish(VlanId vlan, IpAddress group, SortedDictionary<int, uint[]> perSwitch)
    {
        if (perSwitch.Count == 0)
        {
            _members.Remove((vlan, group));
            _snapshots.TryRemove((vlan, group), out _);
            return;
        }
        var withRouters = new SortedDictionary<int, (uint[], uint[])>();
        foreach (var (sw, ports) in perSwitch) withRouters[sw] = (ports, RouterPorts(vlan, sw).ToArray());
        _snapshots[(vlan, group)] = new ReferenceGroup(vlan, group, withRouters);
    }
}
