using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Core.Planning;

/// <summary>Why a requested member gets no copy.</summary>
public enum IgnoreReason
{
    /// <summary>No known MAC or edge port for the address in this VLAN.</summary>
    UnknownHost,
    /// <summary>Its edge port is not a member port of the reference group: it never subscribed, so it is never flooded.</summary>
    NotInReferenceGroup,
}

/// <summary>
/// Reusable output of <see cref="SubsetPlanner"/>: per-switch portsets in flat arrays, the effective and
/// the ignored members. One per thread; planning into it allocates nothing once it has grown.
/// </summary>
public sealed class PlanBuffer
{
    private int[] _switches = new int[16];
    private int[] _portStart = new int[17];
    private uint[] _ports = new uint[64];
    private IpAddress[] _effective = new IpAddress[8];
    private (IpAddress, IgnoreReason)[] _ignored = new (IpAddress, IgnoreReason)[8];
    internal Fabric.PortRef[] EffectiveLocations = new Fabric.PortRef[8];

    public int SwitchCount { get; private set; }
    public int EffectiveCount { get; private set; }
    public int IgnoredCount { get; private set; }

    public int SwitchAt(int i) => _switches[i];
    public ReadOnlySpan<uint> PortsAt(int i) => _ports.AsSpan(_portStart[i], _portStart[i + 1] - _portStart[i]);
    public ReadOnlySpan<IpAddress> Effective => _effective.AsSpan(0, EffectiveCount);
    public ReadOnlySpan<(IpAddress Member, IgnoreReason Reason)> Ignored => _ignored.AsSpan(0, IgnoredCount);

    internal void Reset(int members)
    {
        SwitchCount = EffectiveCount = IgnoredCount = 0;
        _portStart[0] = 0;
        if (_effective.Length < members)
        {
            _effective = new IpAddress[members];
            _ignored = new (IpAddress, IgnoreReason)[members];
            EffectiveLocations = new Fabric.PortRef[members];
        }
    }

    internal void AddEffective(IpAddress ip, Fabric.PortRef at)
    {
        EffectiveLocations[EffectiveCount] = at;
        _effective[EffectiveCount++] = ip;
    }

    internal void AddIgnored(IpAddress ip, IgnoreReason reason) => _ignored[IgnoredCount++] = (ip, reason);

    /// <summary>Scratch space for the next switch's ports, big enough for <paramref name="maxPorts"/>.</summary>
    internal Span<uint> BeginSwitch(int maxPorts)
    {
        int start = _portStart[SwitchCount];
        if (_ports.Length < start + maxPorts) Array.Resize(ref _ports, Math.Max(_ports.Length * 2, start + maxPorts));
        return _ports.AsSpan(start, maxPorts);
    }

    internal void CommitSwitch(int sw, int portCount)
    {
        if (_switches.Length == SwitchCount)
        {
            Array.Resize(ref _switches, SwitchCount * 2);
            Array.Resize(ref _portStart, SwitchCount * 2 + 1);
        }
        _switches[SwitchCount] = sw;
        _portStart[SwitchCount + 1] = _portStart[SwitchCount] + portCount;
        SwitchCount++;
    }
}
