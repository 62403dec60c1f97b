using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Snooping.Membership;

/// <summary>A source and its timer. In EXCLUDE mode an expiry of 0 marks the "excluded" list Y (RFC 3376 §6.2.1).</summary>
internal struct SourceEntry
{
    public IpAddress Address;
    public long Expiry;
    public bool Mark;
}

/// <summary>
/// One port's membership of one group: filter mode, group timer and source timers — the router-side
/// state of RFC 3376 §6.2 / RFC 3810 §7.2 kept per port, as the Linux bridge keeps a port group.
/// Sources live in a small array searched linearly: no allocation once the list has its size.
/// </summary>
internal sealed class PortMembership(int port)
{
    public readonly int Port = port;
    public FilterMode Mode = FilterMode.Include;
    /// <summary>Group timer; meaningful in EXCLUDE mode only.</summary>
    public long GroupExpiry;
    private SourceEntry[] _sources = [];
    public int SourceCount;
    /// <summary>Older version host present timers (RFC 3376 §7.3.2, RFC 3810 §8.3.2): IGMPv1, and IGMPv2 or MLDv1.</summary>
    public long V1HostUntil, V2HostUntil;
    /// <summary>Hosts tracked one by one; only on fast-leave ports, created by the first IGMPv3/MLDv2 record there.</summary>
    public ExplicitHosts? Hosts;

    /// <summary>The group compatibility mode at <paramref name="now"/>: the oldest version whose host-present timer runs.</summary>
    public ReportVersion CompatibilityAt(long now) =>
        V1HostUntil > now ? ReportVersion.V1 : V2HostUntil > now ? ReportVersion.V2 : ReportVersion.V3;

    public Span<SourceEntry> Sources => _sources.AsSpan(0, SourceCount);

    public int IndexOf(IpAddress source)
    {
        var s = _sources;
        for (int i = 0; i < SourceCount; i++) if (s[i].Address == source) return i;
        return -1;
    }

    /// <summary>Adds a source; false when the list is at <paramref name="limit"/>.</summary>
    public bool Add(IpAddress source, long expiry, int limit)
    {
        if (SourceCount >= limit) return false;
        if (SourceCount == _sources.Length) Array.Resize(ref _sources, Math.Max(4, _sources.Length * 2));
        _sources[SourceCount++] = new SourceEntry { Address = source, Expiry = expiry };
        return true;
    }

    public void RemoveAt(int index)
    {
        _sources[index] = _sources[--SourceCount];
        _sources[SourceCount] = default;
    }

    public void ClearMarks()
    {
        foreach (ref var e in Sources) e.Mark = false;
    }
}

/// <summary>All port memberships of one (VLAN, group).</summary>
internal sealed class GroupEntry(VlanId vlan, IpAddress group)
{
    public readonly VlanId Vlan = vlan;
    public readonly IpAddress Group = group;
    private PortMembership[] _ports = new PortMembership[2];
    public int Count;

    public ReadOnlySpan<PortMembership> Ports => _ports.AsSpan(0, Count);

    public PortMembership? Find(int port)
    {
        var p = _ports;
        for (int i = 0; i < Count; i++) if (p[i].Port == port) return p[i];
        return null;
    }

    public PortMembership Add(int port)
    {
        if (Count == _ports.Length) Array.Resize(ref _ports, _ports.Length * 2);
        return _ports[Count++] = new PortMembership(port);
    }

    public void Remove(PortMembership m)
    {
        for (int i = 0; i < Count; i++)
        {
            if (!ReferenceEquals(_ports[i], m)) continue;
            _ports[i] = _ports[--Count];
            _ports[Count] = null!;
            return;
        }
    }
}

internal readonly record struct GroupKey(VlanId Vlan, IpAddress Group);
