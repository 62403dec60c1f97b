using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Core.ReferenceGroups;

/// <summary>
/// An immutable snapshot of one reference (parent) group: for each switch that has an entry for it,
/// the member ports (learned from reports) and the forwarding set the switch uses for the group
/// (member ports ∪ router ports). A switch without an entry forwards the group as unregistered
/// multicast: to its router ports only (RFC 4541 §2.1.2). Flat sorted arrays: the planner's hot path
/// reads them without allocating.
/// </summary>
public sealed class ReferenceGroup
{
    private readonly int[] _switches;        // sorted switch indices with an entry
    private readonly int[] _memberStart;     // members of _switches[i]: _members[_memberStart[i].._memberStart[i+1])
    private readonly uint[] _members;
    private readonly int[] _forwardStart;
    private readonly uint[] _forward;
    private readonly int[] _routerStart;
    private readonly uint[] _router;

    internal ReferenceGroup(VlanId vlan, IpAddress group, SortedDictionary<int, (uint[] Members, uint[] Router)> perSwitch)
    {
        Vlan = vlan;
        Group = group;
        int n = perSwitch.Count;
        _switches = new int[n];
        _memberStart = new int[n + 1];
        _forwardStart = new int[n + 1];
        _routerStart = new int[n + 1];
        var members = new List<uint>();
        var forward = new List<uint>();
        var router = new List<uint>();
        int i = 0;
        foreach (var (sw, (m, r)) in perSwitch)
        {
            _switches[i] = sw;
            members.AddRange(m);
            router.AddRange(r);
            forward.AddRange(m.Union(r).Order());
            i++;
            _memberStart[i] = members.Count;
            _routerStart[i] = router.Count;
            _forwardStart[i] = forward.Count;
        }
        _members = [.. members];
        _forward = [.. forward];
        _router = [.. router];
    }

    public VlanId Vlan { get; }
    public IpAddress Group { get; }

    /// <summary>Number of switches with an entry.</summary>
    public int SwitchCount => _switches.Length;
    public int SwitchAt(int i) => _switches[i];
    public ReadOnlySpan<uint> MemberPortsAt(int i) => _members.AsSpan(_memberStart[i], _memberStart[i + 1] - _memberStart[i]);
    public ReadOnlySpan<uint> ForwardingPortsAt(int i) => _forward.AsSpan(_forwardStart[i], _forwardStart[i + 1] - _forwardStart[i]);
    public ReadOnlySpan<uint> RouterPortsAt(int i) => _router.AsSpan(_routerStart[i], _routerStart[i + 1] - _routerStart[i]);

    /// <summary>Position of <paramref name="sw"/> among the switches with an entry, or -1.</summary>
    public int Find(int sw) => Array.BinarySearch(_switches, sw) is var i and >= 0 ? i : -1;

    /// <summary>True when a host on <paramref name="port"/> of <paramref name="sw"/> is a member.</summary>
    public bool HasMemberPort(int sw, uint port)
    {
        int i = Find(sw);
        return i >= 0 && MemberPortsAt(i).BinarySearch(port) >= 0;
    }
}
