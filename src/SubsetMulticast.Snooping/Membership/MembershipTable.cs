using System.Runtime.InteropServices;
using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Snooping.Membership;

/// <summary>
/// Member ports per (VLAN, group) with INCLUDE/EXCLUDE source state. Each port is run as the
/// router side of RFC 3376 §6.4 (IGMPv3) / RFC 3810 §7.4 (MLDv2); IGMPv1/v2 reports and MLDv1
/// reports are IS_EX({}), leaves and dones TO_IN({}). Timers are absolute ticks on the caller's clock.
/// </summary>
internal sealed class MembershipTable
{
    private readonly Dictionary<GroupKey, GroupEntry> _groups = new();
    private readonly SnoopingOptions _options;
    private readonly ISnoopingSink _sink;
    private int[] _groupsPerPort = new int[8];
    private long _nextSweep = long.MaxValue;

    public MembershipTable(SnoopingOptions options, ISnoopingSink sink)
    {
        _options = options;
        _sink = sink;
    }

    public Dictionary<GroupKey, GroupEntry> Groups => _groups;

    public int GroupsOnPort(int port) => port < _groupsPerPort.Length ? _groupsPerPort[port] : 0;

    /// <summary>
    /// Applies one group record from <paramref name="port"/>. <paramref name="lowerTimers"/>: a querier (ours,
    /// or one assumed because none is seen) will send the Q(G)/Q(G,A) the tables call for, so timers drop to LMQT.
    /// </summary>
    /// <returns>False when compatibility mode ignored the record.</returns>
    public bool Apply(VlanId vlan, IpAddress group, int port, RecordType type, ReadOnlySpan<IpAddress> sources,
        long now, bool lowerTimers, bool fastLeave, ReportVersion version, IpAddress host)
    {
        var key = new GroupKey(vlan, group);
        ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(_groups, key);
        PortMembership? m = Unsafe_IsNull(ref entry) ? null : entry.Find(port);
        if (m is not null && _options.OlderVersionCompatibility)
        {
            // RFC 3376 §7.3.2 / RFC 3810 §8.3.2: with an older host present, ignore or translate newer records.
            var compat = m.CompatibilityAt(now);
            if (compat == ReportVersion.V1 && type == RecordType.ChangeToInclude && version >= ReportVersion.V2) return false; // v2 leave, v3 TO_IN
            if (compat < ReportVersion.V3 && version == ReportVersion.V3)
            {
                if (type == RecordType.BlockOldSources) return false;
                if (type == RecordType.ChangeToExclude) sources = [];
            }
        }
        if (m is null)
        {
            // Only records that ask for traffic create state: IS_IN/ALLOW/TO_IN with sources, IS_EX/TO_EX.
            bool wantsTraffic = type is RecordType.ModeIsExclude or RecordType.ChangeToExclude || !sources.IsEmpty
                && type is not RecordType.BlockOldSources;
            if (!wantsTraffic) return true;
            if (Unsafe_IsNull(ref entry) && _groups.Count >= _options.MaxGroups)
            {
                _sink.Refused(vlan, group, port, LimitKind.Global);
                return true;
            }
            if (GroupsOnPort(port) >= _options.MaxGroupsPerPort)
            {
                _sink.Refused(vlan, group, port, LimitKind.PerPort);
                return true;
            }
            if (Unsafe_IsNull(ref entry))
            {
                var created = new GroupEntry(vlan, group);
                _groups.Add(key, created);
                m = created.Add(port);
            }
            else m = entry.Add(port);
            if (port >= _groupsPerPort.Length) Array.Resize(ref _groupsPerPort, Math.Max(port + 1, _groupsPerPort.Length * 2));
            _groupsPerPort[port]++;
            _sink.Changed(SnoopingChangeKind.MemberAdded, vlan, group, port);
        }

        if (version == ReportVersion.V1) m.V1HostUntil = now + _options.OlderHostPresentTicks;
        else if (version == ReportVersion.V2 && type == RecordType.ModeIsExclude) m.V2HostUntil = now + _options.OlderHostPresentTicks;

        long gmi = now + _options.GmiTicks;
        if (fastLeave && version == ReportVersion.V3)
        {
            // Explicit host tracking (as br_multicast_eht.c): TO_IN/BLOCK remove the port at once only when no
            // tracked host is left; while others remain, the record is handled as on any port (LMQT, queries).
            m.Hosts ??= new ExplicitHosts();
            bool anyLeft = m.Hosts.Apply(host, type, sources, now, gmi, _options.FastLeaveHostLimit, _options.MaxSourcesPerMembership);
            if (!anyLeft && type is RecordType.ChangeToInclude or RecordType.BlockOldSources)
            {
                RemoveMembership(key, m);
                return true;
            }
            fastLeave = false;
        }

        var before = (m.Mode, m.SourceCount);
        long lmqt = fastLeave ? now : now + _options.LmqtTicks;
        bool lower = lowerTimers || fastLeave;
        bool sourcesChanged = false;
        switch (type)
        {
            case RecordType.ModeIsInclude:
            case RecordType.AllowNewSources:
                // INCLUDE(A) → INCLUDE(A+B), (B)=GMI;  EXCLUDE(X,Y) → EXCLUDE(X+A, Y-A), (A)=GMI.
                sourcesChanged |= SetTimers(m, sources, gmi, vlan, group);
                break;

            case RecordType.ModeIsExclude:
            case RecordType.ChangeToExclude:
                sourcesChanged |= ToExclude(m, sources, gmi, lmqt, type == RecordType.ChangeToExclude, lower, vlan, group);
                break;

            case RecordType.ChangeToInclude:
                sourcesChanged |= SetTimers(m, sources, gmi, vlan, group);
                if (lower)
                {
                    // INCLUDE: Q(G,A-B). EXCLUDE: Q(G,X-A) and Q(G).
                    MarkAll(m, sources);
                    foreach (ref var e in m.Sources)
                        if (!e.Mark && (m.Mode == FilterMode.Include || e.Expiry != 0)) e.Expiry = Math.Min(e.Expiry, lmqt);
                    if (m.Mode == FilterMode.Exclude) m.GroupExpiry = Math.Min(m.GroupExpiry, lmqt);
                }
                break;

            case RecordType.BlockOldSources:
                if (m.Mode == FilterMode.Exclude)
                {
                    // EXCLUDE(X+(A-Y), Y); (A-X-Y)=GT; Q(G,A-Y).
                    foreach (var a in sources)
                    {
                        if (m.IndexOf(a) >= 0) continue;
                        if (m.Add(a, m.GroupExpiry, _options.MaxSourcesPerMembership)) sourcesChanged = true;
                        else _sink.Refused(vlan, group, m.Port, LimitKind.Sources);
                    }
                }
                if (lower)
                {
                    // INCLUDE: Q(G,A*B). EXCLUDE: Q(G,A-Y).
                    foreach (var a in sources)
                    {
                        int i = m.IndexOf(a);
                        if (i < 0) continue;
                        ref var e = ref m.Sources[i];
                        if (m.Mode == FilterMode.Include || e.Expiry != 0) e.Expiry = Math.Min(e.Expiry, lmqt);
                    }
                }
                break;
        }

        if (fastLeave) sourcesChanged |= ExpireMembership(m, now);
        if (m.Mode == FilterMode.Include && m.SourceCount == 0) RemoveMembership(key, m);
        else
        {
            if (sourcesChanged || before != (m.Mode, m.SourceCount)) _sink.Changed(SnoopingChangeKind.MemberFilterChanged, vlan, group, port);
            NoteExpiry(m);
        }
        return true;
    }

    /// <summary>
    /// A group-specific (no sources) or group-and-source-specific query seen from another querier
    /// (RFC 3376 §6.6.1): lower the group timer, or those sources' timers, to <paramref name="target"/>.
    /// </summary>
    public void LowerForQuery(VlanId vlan, IpAddress group, ReadOnlySpan<IpAddress> sources, long target)
    {
        if (!_groups.TryGetValue(new GroupKey(vlan, group), out var entry)) return;
        foreach (var m in entry.Ports)
        {
            if (sources.IsEmpty)
            {
                if (m.Mode == FilterMode.Exclude) m.GroupExpiry = Math.Min(m.GroupExpiry, target);
            }
            else
            {
                foreach (var s in sources)
                {
                    int i = m.IndexOf(s);
                    if (i >= 0 && m.Sources[i].Expiry != 0) m.Sources[i].Expiry = Math.Min(m.Sources[i].Expiry, target);
                }
            }
        }
        _nextSweep = Math.Min(_nextSweep, target);
    }

    /// <summary>Runs every timer that has expired at <paramref name="now"/> (RFC 3376 §6.5).</summary>
    public void Expire(long now)
    {
        if (now < _nextSweep) return;
        long next = long.MaxValue;
        foreach (var (key, entry) in _groups)
        {
            for (int i = entry.Count - 1; i >= 0; i--)
            {
                var m = entry.Ports[i];
                bool changed = ExpireMembership(m, now);
                if (m.Mode == FilterMode.Include && m.SourceCount == 0) { RemoveMembership(key, m); continue; }
                if (changed) _sink.Changed(SnoopingChangeKind.MemberFilterChanged, entry.Vlan, entry.Group, m.Port);
                next = Math.Min(next, NextExpiry(m));
            }
        }
        _nextSweep = next;
    }

    /// <summary>Removes every membership of <paramref name="port"/> (the port went away).</summary>
    public void RemovePort(int port)
    {
        foreach (var (key, entry) in _groups)
        {
            var m = entry.Find(port);
            if (m is not null) RemoveMembership(key, m);
        }
    }

    private bool ToExclude(PortMembership m, ReadOnlySpan<IpAddress> a, long gmi, long lmqt, bool isChange, bool lower, VlanId vlan, IpAddress group)
    {
        bool changed = false;
        bool wasInclude = m.Mode == FilterMode.Include;
        long newSourceTimer = wasInclude ? 0 : (isChange ? m.GroupExpiry : gmi);
        // Delete sources not in A (INCLUDE: Delete(A-B); EXCLUDE: Delete(X-A), Delete(Y-A)).
        MarkAll(m, a);
        for (int i = m.SourceCount - 1; i >= 0; i--)
            if (!m.Sources[i].Mark) { m.RemoveAt(i); changed = true; }
        // New sources: INCLUDE → (B-A)=0 (excluded); EXCLUDE IS_EX → (A-X-Y)=GMI; TO_EX → (A-X-Y)=GT.
        foreach (var s in a)
        {
            if (m.IndexOf(s) >= 0) continue;
            if (m.Add(s, newSourceTimer, _options.MaxSourcesPerMembership)) changed = true;
            else _sink.Refused(vlan, group, m.Port, LimitKind.Sources);
        }
        if (isChange && lower)
        {
            // INCLUDE TO_EX: Q(G,A*B); EXCLUDE TO_EX: Q(G,A-Y). Either way the running timers in A.
            foreach (ref var e in m.Sources) if (e.Expiry != 0) e.Expiry = Math.Min(e.Expiry, lmqt);
        }
        m.Mode = FilterMode.Exclude;
        m.GroupExpiry = gmi;
        return changed;
    }

    private bool SetTimers(PortMembership m, ReadOnlySpan<IpAddress> sources, long expiry, VlanId vlan, IpAddress group)
    {
        bool changed = false;
        foreach (var s in sources)
        {
            int i = m.IndexOf(s);
            if (i >= 0)
            {
                if (m.Sources[i].Expiry == 0) changed = true;   // Y → X
                m.Sources[i].Expiry = expiry;
            }
            else if (m.Add(s, expiry, _options.MaxSourcesPerMembership)) changed = true;
            else _sink.Refused(vlan, group, m.Port, LimitKind.Sources);
        }
        return changed;
    }

    private static void MarkAll(PortMembership m, ReadOnlySpan<IpAddress> a)
    {
        m.ClearMarks();
        foreach (var s in a)
        {
            int i = m.IndexOf(s);
            if (i >= 0) m.Sources[i].Mark = true;
        }
    }

    /// <summary>Source timers first (INCLUDE: delete; EXCLUDE: move to Y), then the group timer (EXCLUDE → INCLUDE, drop Y).</summary>
    private static bool ExpireMembership(PortMembership m, long now)
    {
        bool changed = false;
        for (int i = m.SourceCount - 1; i >= 0; i--)
        {
            ref var e = ref m.Sources[i];
            if (e.Expiry == 0 || e.Expiry > now) continue;
            if (m.Mode == FilterMode.Include) m.RemoveAt(i);
            else e.Expiry = 0;
            changed = true;
        }
        if (m.Mode == FilterMode.Exclude && m.GroupExpiry <= now)
        {
            m.Mode = FilterMode.Include;
            for (int i = m.SourceCount - 1; i >= 0; i--) if (m.Sources[i].Expiry == 0) m.RemoveAt(i);
            changed = true;
        }
        return changed;
    }

    private static long NextExpiry(PortMembership m)
    {
        long next = m.Mode == FilterMode.Exclude ? m.GroupExpiry : long.MaxValue;
        foreach (var e in m.Sources) if (e.Expiry != 0 && e.Expiry < next) next = e.Expiry;
        return next;
    }

    private void NoteExpiry(PortMembership m)
    {
        long next = NextExpiry(m);
        if (next < _nextSweep) _nextSweep = next;
    }

    private void RemoveMembership(GroupKey key, PortMembership m)
    {
        if (!_groups.TryGetValue(key, out var entry)) return;
        entry.Remove(m);
        _groupsPerPort[m.Port]--;
        if (entry.Count == 0) _groups.Remove(key);
        _sink.Changed(SnoopingChangeKind.MemberRemoved, key.Vlan, key.Group, m.Port);
    }

    private static bool Unsafe_IsNull(ref GroupEntry entry) => System.Runtime.CompilerServices.Unsafe.IsNullRef(ref entry);
}

internal enum LimitKind { PerPort, Global, Sources }

/// <summary>Where the table reports changes and refusals.</summary>
internal interface ISnoopingSink
{
    void Changed(SnoopingChangeKind kind, VlanId vlan, IpAddress group, int port);
    void Refused(VlanId vlan, IpAddress group, int port, LimitKind limit);
    void HostChanged(SnoopingChangeKind kind, Hosts.HostEntry host, IpAddress address);
}
