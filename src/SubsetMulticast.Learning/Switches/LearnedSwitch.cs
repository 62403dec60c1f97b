using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Snooping;

namespace SubsetMulticast.Learning.Switches;

/// <summary>
/// One switch as the learner knows it: its stable index, its ports and its own <see cref="Snooper"/> whose
/// ports are the switch's ports. The port maps are replaced whole (copy on write) so the packet path reads
/// them without a lock; membership state is touched only from the snooper's events, which the snooper
/// raises inside its own lock, so it needs no lock of its own.
/// </summary>
internal sealed class LearnedSwitch
{
    private volatile PortMaps _maps = PortMaps.Empty;
    private readonly Dictionary<(VlanId, IpAddress), SortedSet<uint>> _members = new();
    private readonly Dictionary<VlanId, SortedSet<uint>> _routers = new();

    public LearnedSwitch(int index, string id, ulong bridgeId, Snooper snooper)
    {
        Index = index;
        Id = id;
        BridgeId = bridgeId;
        Snooper = snooper;
    }

    public int Index { get; }
    public string Id { get; }
    public ulong BridgeId { get; set; }
    public bool IsUp { get; set; }
    public Snooper Snooper { get; }

    /// <summary>Port numbers, sorted (the topology's view).</summary>
    public uint[] PortNumbers => _maps.Numbers;

    /// <summary>The ports as the switch last described them.</summary>
    public IReadOnlyList<SwitchPortInfo> Ports => _maps.Described;

    public bool TryGetPort(uint port, out PortId id) => _maps.ByNumber.TryGetValue(port, out id);

    public bool TryGetPortNumber(string name, out uint port) => _maps.ByName.TryGetValue(name, out port);

    public bool HasPort(uint port) => _maps.ByNumber.ContainsKey(port);

    /// <summary>
    /// Installs a new port set (caller holds the learner's topology lock). Ports that went away lose their
    /// snooping state first, while the old maps still name them, so their MemberRemoved events are applied.
    /// </summary>
    public void SetPorts(IEnumerable<SwitchPortInfo> ports)
    {
        var old = _maps;
        var byNumber = new Dictionary<uint, PortId>();
        var byName = new Dictionary<string, uint>(StringComparer.Ordinal);
        var described = new List<SwitchPortInfo>();
        foreach (var p in ports)
        {
            if (byNumber.ContainsKey(p.Port)) continue;
            described.Add(p);
            // The snooper names its ports after the switch's; a missing or repeated name falls back to the number.
            string name = string.IsNullOrWhiteSpace(p.Name) || byName.ContainsKey(p.Name) || IsNumberName(p.Name) ? NumberName(p.Port) : p.Name;
            if (byName.ContainsKey(name)) name = NumberName(p.Port);
            var id = Snooper.AddPort(name);
            byNumber[p.Port] = id;
            byName[name] = p.Port;
        }
        var gone = new List<PortId>();
        foreach (var (number, id) in old.ByNumber)
            if (!byNumber.TryGetValue(number, out var now) || now != id) gone.Add(id);
        foreach (var id in gone) Snooper.RemovePortState(id);
        _maps = new PortMaps(byNumber, byName, [.. byNumber.Keys.Order()], described);
    }

    private static bool IsNumberName(string name) => name.StartsWith('#');
    private static string NumberName(uint port) => "#" + port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Applies a membership change for <paramref name="port"/>; returns the switch's member ports of the group now.</summary>
    public uint[] ApplyMember(VlanId vlan, IpAddress group, uint port, bool added)
    {
        if (!_members.TryGetValue((vlan, group), out var set))
        {
            if (!added) return [];
            _members[(vlan, group)] = set = [];
        }
        if (added) set.Add(port); else set.Remove(port);
        if (set.Count == 0) { _members.Remove((vlan, group)); return []; }
        return [.. set];
    }

    /// <summary>Applies a router-port change; returns the switch's router ports of the VLAN now.</summary>
    public uint[] ApplyRouter(VlanId vlan, uint port, bool added)
    {
        if (!_routers.TryGetValue(vlan, out var set))
        {
            if (!added) return [];
            _routers[vlan] = set = [];
        }
        if (added) set.Add(port); else set.Remove(port);
        if (set.Count == 0) { _routers.Remove(vlan); return []; }
        return [.. set];
    }

    public PortRef Ref(uint port) => new(Index, port);

    private sealed record PortMaps(Dictionary<uint, PortId> ByNumber, Dictionary<string, uint> ByName, uint[] Numbers, List<SwitchPortInfo> Described)
    {
        public static readonly PortMaps Empty = new([], new Dictionary<string, uint>(StringComparer.Ordinal), [], []);
    }
}
