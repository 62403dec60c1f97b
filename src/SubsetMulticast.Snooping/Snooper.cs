using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Packets;
using SubsetMulticast.Packets.Arp;
using SubsetMulticast.Packets.Ethernet;
using SubsetMulticast.Packets.Igmp;
using SubsetMulticast.Packets.Ip;
using SubsetMulticast.Packets.Mld;
using SubsetMulticast.Packets.Ndp;
using SubsetMulticast.Snooping.Hosts;
using SubsetMulticast.Snooping.Membership;

namespace SubsetMulticast.Snooping;

/// <summary>
/// IGMP/MLD snooping per VLAN (RFC 4541) with host location learning. Feed it frames with the port they arrived
/// on and their time; read its state with <see cref="Snapshot"/>, <see cref="GetMemberPorts"/> and the
/// <see cref="Changed"/> events. Time only moves when a frame or <see cref="AdvanceTo(long)"/> moves it, so a
/// capture replays on its own timestamps; live use passes a <see cref="TimeProvider"/>.
/// </summary>
/// <remarks>
/// Thread-safe: every entry point takes one lock. Steady state (reports for existing memberships) allocates
/// nothing. Malformed frames never throw: they are counted per <see cref="DropReason"/> and change no state,
/// because every message is validated in full before any of it is applied.
/// </remarks>
public sealed class Snooper : ISnoopingSink
{
    private readonly SnoopingOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly List<string> _ports = [];
    private readonly Dictionary<string, int> _portIndex = new(StringComparer.Ordinal);
    private bool[] _fastLeave = new bool[8];
    private readonly MembershipTable _members;
    private readonly RouterTable _routers;
    private readonly HostTable _hosts;
    private readonly OwnQuerier? _querier;
    private readonly long[] _dropped = new long[Enum.GetValues<DropReason>().Length];
    private readonly long[] _refused = new long[3];
    private IpAddress[] _sources = new IpAddress[64];
    private long _now = long.MinValue;
    private long _frames, _applied;

    public Snooper(SnoopingOptions? options = null, TimeProvider? timeProvider = null, IFrameTransmitter? transmitter = null)
    {
        _options = options ?? new SnoopingOptions();
        _options.Validate();
        _time = timeProvider ?? TimeProvider.System;
        _members = new MembershipTable(_options, this);
        _routers = new RouterTable(_options, this);
        _hosts = new HostTable(this);
        if (_options.Querier is { } q)
        {
            if (transmitter is null) throw new ArgumentException("Our own querier needs a frame transmitter.", nameof(transmitter));
            _querier = new OwnQuerier(_options, q, _routers, transmitter);
        }
    }

    /// <summary>Every change, raised on the thread that processed the frame, inside the snooper's lock.</summary>
    public event Action<SnoopingChange>? Changed;

    /// <summary>Human-readable log lines for notable events (limits reached). Null: none.</summary>
    public Action<string>? Log { get; set; }

    public SnoopingOptions Options => _options;

    /// <summary>Queries our own querier has sent (0 without one).</summary>
    public long QueriesSent { get { lock (_lock) return _querier?.FramesSent ?? 0; } }

    /// <summary>The snooper's clock: the latest time seen, in <see cref="TimeSpan"/> ticks since the Unix epoch.</summary>
    public long Now { get { lock (_lock) return _now; } }

    /// <summary>Registers a port by name (idempotent) and returns its id.</summary>
    public PortId AddPort(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        lock (_lock)
        {
            if (_portIndex.TryGetValue(name, out int i)) return new PortId(i);
            i = _ports.Count;
            _ports.Add(string.Intern(name));
            _portIndex.Add(name, i);
            if (i >= _fastLeave.Length) Array.Resize(ref _fastLeave, _fastLeave.Length * 2);
            _fastLeave[i] = _options.FastLeavePorts.Contains(name);
            return new PortId(i);
        }
    }

    public IReadOnlyList<string> Ports { get { lock (_lock) return _ports.ToArray(); } }

    /// <summary>Turns fast leave on or off for a port.</summary>
    public void SetFastLeave(PortId port, bool on)
    {
        lock (_lock) _fastLeave[CheckPort(port)] = on;
    }

    /// <summary>A port went away: its memberships and router-port state go with it.</summary>
    public void RemovePortState(PortId port)
    {
        lock (_lock)
        {
            int p = CheckPort(port);
            _members.RemovePort(p);
            _routers.RemovePort(p);
        }
    }

    /// <summary>Processes a frame received now (by the injected <see cref="TimeProvider"/>).</summary>
    public FrameOutcome Process(PortId port, ReadOnlySpan<byte> frame) =>
        Process(port, frame, _time.GetUtcNow().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks);

    /// <summary>Processes a frame received at <paramref name="timestamp"/> (ticks since the Unix epoch).</summary>
    public FrameOutcome Process(PortId port, ReadOnlySpan<byte> frame, long timestamp)
    {
        lock (_lock)
        {
            int p = CheckPort(port);
            AdvanceLocked(timestamp);
            _frames++;
            // The readers return a status for malformed input (no exception per bad frame: a flood of them costs
            // what a valid report does); the drop reason is the fault's.
            DropReason reason = default;
            var outcome = Dispatch(p, frame, ref reason);
            if (outcome == FrameOutcome.Dropped) _dropped[(int)reason]++;
            else if (outcome == FrameOutcome.Applied) _applied++;
            return outcome;
        }
    }

    /// <summary>Moves the clock to <paramref name="timestamp"/> and runs every timer due by then (never backwards).</summary>
    public void AdvanceTo(long timestamp)
    {
        lock (_lock) AdvanceLocked(timestamp);
    }

    public void AdvanceTo(DateTimeOffset time) => AdvanceTo(time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks);

    /// <summary>Runs timers (and our querier) at the injected clock's now; call periodically when live.</summary>
    public void Tick() => AdvanceTo(_time.GetUtcNow());

    private void AdvanceLocked(long timestamp)
    {
        if (timestamp <= _now) return;
        _now = timestamp;
        _members.Expire(timestamp);
        _routers.Expire(timestamp);
        _querier?.Tick(timestamp);
    }

    private int CheckPort(PortId port)
    {
        if ((uint)port.Value >= (uint)_ports.Count) throw new ArgumentOutOfRangeException(nameof(port), $"Port {port.Value} was not added.");
        return port.Value;
    }

    // ---- decoding: validate the whole message, then apply ----

    private FrameOutcome Dispatch(int port, ReadOnlySpan<byte> frame, ref DropReason reason)
    {
        if (EthernetFrame.Read(frame, out var eth, out var fault) != ReadStatus.Ok) return Drop(fault, ref reason);
        var vlan = eth.Vlan;
        switch (eth.EtherType)
        {
            case EtherTypes.Ipv4:
            {
                if (IpPacket.ReadV4(eth.Payload, out var ip, out fault) != ReadStatus.Ok) return Drop(fault, ref reason);
                if (ip.Protocol != IpProtocols.Igmp || ip.IsFragment) break;
                if (IgmpMessage.ReadPacket(ip, out var m, out fault) != ReadStatus.Ok) return Drop(fault, ref reason);
                return Igmp(port, vlan, eth.Source, ip.Source, m, ref reason);
            }
            case EtherTypes.Ipv6:
            {
                if (IpPacket.ReadV6(eth.Payload, out var ip, out fault) != ReadStatus.Ok) return Drop(fault, ref reason);
                if (ip.Protocol != IpProtocols.Icmpv6 || ip.IsFragment) break;
                var payload = ip.Payload;
                if (payload.IsEmpty) { reason = DropReason.Truncated; return FrameOutcome.Dropped; }
                byte type = payload[0];
                if (type is (byte)MldType.Query or (byte)MldType.V1Report or (byte)MldType.V1Done or (byte)MldType.V2Report)
                {
                    if (MldMessage.ReadPacket(ip, out var m, out fault) != ReadStatus.Ok) return Drop(fault, ref reason);
                    return Mld(port, vlan, eth.Source, ip.Source, m, ref reason);
                }
                if (type is (byte)NeighborDiscoveryType.NeighborSolicitation or (byte)NeighborDiscoveryType.NeighborAdvertisement) return NeighborDiscovery(port, vlan, eth.Source, ip, ref reason);
                break;
            }
            case EtherTypes.Arp:
            {
                if (ArpPacket.Read(eth.Payload, out var arp, out fault) != ReadStatus.Ok) return Drop(fault, ref reason);
                if (!_options.LearnHosts) return FrameOutcome.Ignored;
                _hosts.See(eth.Source, port, vlan, _now);
                if (arp.SenderMac == eth.Source) _hosts.Claim(arp.SenderMac, arp.SenderIp, port, vlan, _now);
                return FrameOutcome.Applied;
            }
        }
        if (_options.LearnHosts) _hosts.See(eth.Source, port, vlan, _now);
        return FrameOutcome.Ignored;
    }

    private FrameOutcome Igmp(int port, VlanId vlan, MacAddress mac, IpAddress source, IgmpMessage m, ref DropReason reason)
    {
        switch (m.Type)
        {
            case IgmpType.MembershipQuery:
                if (m.Version == 0) break;
                Query(port, vlan, source, m.Group, m.Sources, m.SuppressRouterProcessing, m.MaxResponseDeciseconds * TimeSpan.TicksPerSecond / 10);
                Learn(mac, source, port, vlan);
                return FrameOutcome.Applied;
            case IgmpType.V1MembershipReport:
            case IgmpType.V2MembershipReport:
                Learn(mac, source, port, vlan);
                if (m.Group.IsLinkLocalMulticast) return FrameOutcome.Ignored;
                ApplyRecord(vlan, m.Group, port, RecordType.ModeIsExclude, [],
                    m.Type == IgmpType.V1MembershipReport ? ReportVersion.V1 : ReportVersion.V2, source);
                return FrameOutcome.Applied;
            case IgmpType.LeaveGroup:
                Learn(mac, source, port, vlan);
                if (m.Group.IsLinkLocalMulticast) return FrameOutcome.Ignored;
                ApplyRecord(vlan, m.Group, port, RecordType.ChangeToInclude, [], ReportVersion.V2, source);
                return FrameOutcome.Applied;
            case IgmpType.V3MembershipReport:
                if (!Records(port, vlan, source, m.Records, ref reason)) return FrameOutcome.Dropped;
                Learn(mac, source, port, vlan);
                return FrameOutcome.Applied;
        }
        if (_options.LearnHosts) _hosts.See(mac, port, vlan, _now);
        return FrameOutcome.Ignored;
    }

    private FrameOutcome Mld(int port, VlanId vlan, MacAddress mac, IpAddress source, MldMessage m, ref DropReason reason)
    {
        switch (m.Type)
        {
            case MldType.Query:
                Query(port, vlan, source, m.MulticastAddress, m.Sources, m.SuppressRouterProcessing, m.MaxResponseDelayMilliseconds * TimeSpan.TicksPerMillisecond);
                Learn(mac, source, port, vlan);
                return FrameOutcome.Applied;
            case MldType.V1Report:
                Learn(mac, source, port, vlan);
                if (m.MulticastAddress.IsLinkLocalMulticast) return FrameOutcome.Ignored;
                ApplyRecord(vlan, m.MulticastAddress, port, RecordType.ModeIsExclude, [], ReportVersion.V2, source);
                return FrameOutcome.Applied;
            case MldType.V1Done:
                Learn(mac, source, port, vlan);
                if (m.MulticastAddress.IsLinkLocalMulticast) return FrameOutcome.Ignored;
                ApplyRecord(vlan, m.MulticastAddress, port, RecordType.ChangeToInclude, [], ReportVersion.V2, source);
                return FrameOutcome.Applied;
            case MldType.V2Report:
                if (!Records(port, vlan, source, m.Records, ref reason)) return FrameOutcome.Dropped;
                Learn(mac, source, port, vlan);
                return FrameOutcome.Applied;
        }
        return FrameOutcome.Ignored;
    }

    /// <summary>IGMPv3/MLDv2 records: a first pass validates every group, a second applies them (RFC 3376 §4.2.12: unknown record types are ignored).</summary>
    private bool Records(int port, VlanId vlan, IpAddress host, GroupRecordList records, ref DropReason reason)
    {
        foreach (var r in records)
        {
            if (r.IsKnownType && !r.Group.IsMulticast) { reason = DropReason.BadGroup; return false; }
        }
        foreach (var r in records)
        {
            if (!r.IsKnownType || r.Group.IsLinkLocalMulticast) continue;
            var sources = r.Sources;
            if (sources.Count > _sources.Length) _sources = new IpAddress[Math.Max(sources.Count, _sources.Length * 2)];
            int n = 0;
            foreach (var s in sources) _sources[n++] = s;
            ApplyRecord(vlan, r.Group, port, (RecordType)r.Type, _sources.AsSpan(0, n), ReportVersion.V3, host);
        }
        return true;
    }

    /// <summary>
    /// Applies one record. <paramref name="version"/>: the message's version (MLDv1 counts as
    /// <see cref="ReportVersion.V2"/>, MLDv2 as <see cref="ReportVersion.V3"/>); <paramref name="host"/>: its IP source,
    /// for explicit host tracking on fast-leave ports.
    /// </summary>
    private void ApplyRecord(VlanId vlan, IpAddress group, int port, RecordType type, ReadOnlySpan<IpAddress> sources,
        ReportVersion version, IpAddress host)
    {
        bool v6 = group.IsV6;
        // Timers drop to LMQT when a querier will send the Q(G)/Q(G,A) the RFC tables call for: our own, or one
        // assumed because none is seen (a hidden querier such as the bridge itself). With another querier
        // present we wait for its specific queries instead (and lower on those, see Query).
        bool ownActive = _querier?.IsActive(vlan, v6, _now) == true;
        bool lower = ownActive || !_routers.TryGetQuerier(vlan, v6, _now, out _);
        bool applied = _members.Apply(vlan, group, port, type, sources, _now, lower, _fastLeave[port], version, host);
        if (applied && ownActive && type is RecordType.ChangeToInclude or RecordType.BlockOldSources or RecordType.ChangeToExclude)
            _querier!.OnLeave(vlan, group, _now);
    }

    private void Query(int port, VlanId vlan, IpAddress source, IpAddress group, SourceList sources, bool suppress, long maxResponseTicks)
    {
        _routers.OnQuery(vlan, port, source, _now);
        if (group.IsUnspecified || suppress || group.IsLinkLocalMulticast) return;
        // RFC 3376 §6.6.1 / RFC 3810 §7.6.1: a group(-and-source)-specific query lowers timers to LMQC × its MRT.
        if (sources.Count > _sources.Length) _sources = new IpAddress[Math.Max(sources.Count, _sources.Length * 2)];
        int n = 0;
        foreach (var s in sources) _sources[n++] = s;
        _members.LowerForQuery(vlan, group, _sources.AsSpan(0, n), _now + maxResponseTicks * _options.LastMemberQueryCount);
    }

    private FrameOutcome NeighborDiscovery(int port, VlanId vlan, MacAddress mac, in IpPacket ip, ref DropReason reason)
    {
        if (NeighborMessage.ReadPacket(ip, out var nd, out var fault) != ReadStatus.Ok) return Drop(fault, ref reason);
        if (!_options.LearnHosts) return FrameOutcome.Ignored;
        _hosts.See(mac, port, vlan, _now);
        // RFC 4861 §7.2.3/§7.2.5: an NS teaches its source address, an NA its target, each with the link-layer
        // address of its option (the frame's source MAC when the option is absent).
        if (nd.Type == NeighborDiscoveryType.NeighborSolicitation)
        {
            if (!ip.Source.IsUnspecified) _hosts.Claim(nd.SourceLinkLayerAddress ?? mac, ip.Source, port, vlan, _now);
        }
        else _hosts.Claim(nd.TargetLinkLayerAddress ?? mac, nd.Target, port, vlan, _now);
        return FrameOutcome.Applied;
    }

    private void Learn(MacAddress mac, IpAddress source, int port, VlanId vlan)
    {
        if (!_options.LearnHosts) return;
        if (source.IsUnspecified) _hosts.See(mac, port, vlan, _now);
        else _hosts.Claim(mac, source, port, vlan, _now);
    }

    /// <summary>A read that did not succeed: a default fault is "need more bytes" (truncated), otherwise the fault's reason.</summary>
    private static FrameOutcome Drop(in PacketFault fault, ref DropReason reason)
    {
        reason = fault.Reason == default ? DropReason.Truncated : Map(fault.Reason);
        return FrameOutcome.Dropped;
    }

    internal static DropReason Map(PacketError e) => e switch
    {
        PacketError.Truncated or PacketError.BadLength or PacketError.BadHeaderLength => DropReason.Truncated,
        PacketError.BadChecksum => DropReason.BadChecksum,
        PacketError.BadTtl => DropReason.WrongTtl,
        PacketError.MissingRouterAlert => DropReason.MissingRouterAlert,
        PacketError.BadRecordCount or PacketError.BadSourceCount => DropReason.BogusCount,
        PacketError.BadAddress => DropReason.BadGroup,
        PacketError.BadSourceAddress => DropReason.BadSource,
        _ => DropReason.Malformed,
    };

    // ---- read API ----

    /// <summary>The ports that are members of (VLAN, group) now; empty when none.</summary>
    public IReadOnlyList<string> GetMemberPorts(VlanId vlan, IpAddress group)
    {
        lock (_lock)
        {
            if (!_members.Groups.TryGetValue(new GroupKey(vlan, group), out var e)) return [];
            var list = new List<string>(e.Count);
            foreach (var m in e.Ports) list.Add(_ports[m.Port]);
            list.Sort(StringComparer.Ordinal);
            return list;
        }
    }

    /// <summary>Drop counters by reason.</summary>
    public long GetDropped(DropReason reason) { lock (_lock) return _dropped[(int)reason]; }

    private static string CompatibilityName(bool v4, ReportVersion version) => (v4, version) switch
    {
        (true, ReportVersion.V1) => "IGMPv1",
        (true, ReportVersion.V2) => "IGMPv2",
        (true, _) => "IGMPv3",
        (false, ReportVersion.V3) => "MLDv2",
        _ => "MLDv1",
    };

    /// <summary>A consistent copy of all state.</summary>
    public SnoopingSnapshot Snapshot()
    {
        lock (_lock)
        {
            var groups = new List<GroupMembership>();
            foreach (var (_, e) in _members.Groups)
            {
                foreach (var m in e.Ports)
                {
                    var src = new List<IpAddress>(m.SourceCount);
                    foreach (var s in m.Sources)
                        if (m.Mode == FilterMode.Include || s.Expiry == 0) src.Add(s.Address);
                    src.Sort();
                    var mode = _options.OlderVersionCompatibility ? m.CompatibilityAt(_now) : ReportVersion.V3;
                    groups.Add(new GroupMembership(e.Vlan, e.Group, _ports[m.Port], m.Mode, src, CompatibilityName(e.Group.IsV4, mode)));
                }
            }
            groups.Sort((a, b) => a.Vlan.Value != b.Vlan.Value ? a.Vlan.Value.CompareTo(b.Vlan.Value)
                : a.Group != b.Group ? a.Group.CompareTo(b.Group) : string.CompareOrdinal(a.Port, b.Port));

            var routers = _routers.Routers.Keys.Select(k => new RouterPort(k.Vlan, _ports[k.Port]))
                .OrderBy(r => r.Vlan.Value).ThenBy(r => r.Port, StringComparer.Ordinal).ToList();
            var queriers = _routers.Queriers.Where(q => q.Value.Expiry > _now)
                .Select(q => new QuerierInfo(q.Key.Vlan, q.Value.Address, _ports[q.Value.Port]))
                .OrderBy(q => q.Vlan.Value).ThenBy(q => q.Address).ToList();
            var hosts = _hosts.Hosts.Values
                .Select(h => new HostLocation(h.Mac, h.Vlan, _ports[h.Port], h.Addresses.Take(h.AddressCount).Order().ToArray(),
                    DateTimeOffset.UnixEpoch.AddTicks(h.LastSeen)))
                .OrderBy(h => h.Mac).ToList();
            var dropped = new Dictionary<DropReason, long>();
            foreach (var r in Enum.GetValues<DropReason>()) if (_dropped[(int)r] != 0) dropped[r] = _dropped[(int)r];
            var refused = new Dictionary<string, long>(StringComparer.Ordinal);
            if (_refused[(int)LimitKind.PerPort] != 0) refused["perPortGroupLimit"] = _refused[(int)LimitKind.PerPort];
            if (_refused[(int)LimitKind.Global] != 0) refused["globalGroupLimit"] = _refused[(int)LimitKind.Global];
            if (_refused[(int)LimitKind.Sources] != 0) refused["sourceLimit"] = _refused[(int)LimitKind.Sources];
            var time = _now == long.MinValue ? DateTimeOffset.UnixEpoch : DateTimeOffset.UnixEpoch.AddTicks(_now);
            return new SnoopingSnapshot(time, groups, routers, queriers, hosts, dropped, refused, _frames, _applied);
        }
    }

    // ---- ISnoopingSink ----

    void ISnoopingSink.Changed(SnoopingChangeKind kind, VlanId vlan, IpAddress group, int port) =>
        Changed?.Invoke(new SnoopingChange(kind, vlan, group, port >= 0 ? _ports[port] : null, default, default, _now));

    void ISnoopingSink.Refused(VlanId vlan, IpAddress group, int port, LimitKind limit)
    {
        long count = ++_refused[(int)limit];
        var kind = limit == LimitKind.Sources ? SnoopingChangeKind.SourceRefused : SnoopingChangeKind.GroupRefused;
        string detail = limit switch
        {
            LimitKind.PerPort => "per-port group limit",
            LimitKind.Global => "global group limit",
            _ => "per-membership source limit",
        };
        Changed?.Invoke(new SnoopingChange(kind, vlan, group, _ports[port], default, default, _now, detail));
        // Log the first refusal and then every 1000th, so a flood cannot flood the log.
        if (Log is { } log && (count == 1 || count % 1000 == 0))
            log($"snooping: refused {group} on vlan {vlan} port {_ports[port]}: {detail} reached ({count} refusals); snooping stays on");
    }

    void ISnoopingSink.HostChanged(SnoopingChangeKind kind, HostEntry host, IpAddress address) =>
        Changed?.Invoke(new SnoopingChange(kind, host.Vlan, default, _ports[host.Port], host.Mac, address, _now));
}
