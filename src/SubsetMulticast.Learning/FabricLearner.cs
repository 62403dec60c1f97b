using System.Collections.Concurrent;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.ReferenceGroups;
using SubsetMulticast.Learning.Hosts;
using SubsetMulticast.Learning.Switches;
using SubsetMulticast.Snooping;

namespace SubsetMulticast.Learning;

/// <summary>One direction of an inter-switch link found (<see cref="Up"/>) or lost.</summary>
public readonly record struct LinkChange(SwitchPort From, SwitchPort To, bool Up);

/// <summary>
/// The controller's live model of the fabric, fed by protocol-neutral calls: switches and ports coming and
/// going, inter-switch links found and lost, and punted frames (IGMP/MLD, ARP/ND) with the port they came in
/// on. It keeps Core's <see cref="FabricTopology"/> (through <see cref="ReferenceGroupTable.UpdateTopology"/>),
/// the reference groups (one <see cref="Snooper"/> per switch; its changes become
/// <see cref="ReferenceGroupTable.SetMemberPorts"/> / <see cref="ReferenceGroupTable.SetRouterPorts"/>) and
/// host locations (<see cref="HostTable"/>, edge ports only).
/// </summary>
/// <remarks>
/// Switch indices are given on first sight and never reused: reference groups and host locations hold
/// <see cref="PortRef"/>s by index. A switch that goes down stays in the topology with its last ports and its
/// snooping state (its hosts have not left; their memberships expire on the snooper's timers if they did):
/// rules aimed at it fail cleanly in the southbound ("not connected") and reconciliation restores them when
/// it returns. Thread-safe: frames arrive on many session threads; topology changes are serialized by one lock.
/// Per frame the learner adds no allocation to the snooper's: two dictionary lookups, then the snooper.
/// Lock order (never reversed): topology lock → snooper lock → router lock → host lock / reference table.
/// </remarks>
public sealed class FabricLearner
{
    private readonly FabricLearnerOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();                      // topology: switches, ports, links
    private readonly Lock _routerGate = new();                // router ports and their tree defaults
    private readonly ConcurrentDictionary<string, LearnedSwitch> _switches = new(StringComparer.Ordinal);
    private readonly List<LearnedSwitch> _byIndex = [];
    private readonly Dictionary<SwitchPort, SwitchPort> _directedLinks = new();
    private readonly Dictionary<SwitchPort, SwitchPort> _linkTargets = new(); // to → from: finds a link by its far end in O(1)
    private readonly HashSet<(VlanId Vlan, int Switch)> _routerDefaults = [];
    private readonly HostLocator _locator;
    private volatile HashSet<PortRef> _linkPorts = [];
    private long _unknownSwitch, _unknownPort, _refusedSwitches;

    public FabricLearner(FabricLearnerOptions? options = null, TimeProvider? time = null, HostTable? hosts = null)
    {
        _options = options ?? new FabricLearnerOptions();
        _options.Validate();
        _time = time ?? TimeProvider.System;
        Hosts = hosts ?? new HostTable();
        References = new ReferenceGroupTable(new FabricTopology([], []));
        _locator = new HostLocator(Hosts, _options.MaxHosts);
    }

    /// <summary>The reference groups as snooping learns them; its <see cref="ReferenceGroupTable.Topology"/> is the live topology.</summary>
    public ReferenceGroupTable References { get; }

    /// <summary>Host locations (IP → MAC → edge port) learned from punted frames.</summary>
    public HostTable Hosts { get; }

    /// <summary>The current topology (a new immutable object after every change).</summary>
    public FabricTopology Topology => References.Topology;

    /// <summary>Raised after the topology was rebuilt (on the thread that changed it).</summary>
    public event Action<FabricTopology>? TopologyChanged;

    /// <summary>Frames from switches that never came up.</summary>
    public long UnknownSwitchFrames => Interlocked.Read(ref _unknownSwitch);

    /// <summary>Frames from ports a switch did not describe.</summary>
    public long UnknownPortFrames => Interlocked.Read(ref _unknownPort);

    /// <summary>Switches refused because <see cref="FabricLearnerOptions.MaxSwitches"/> was reached.</summary>
    public long RefusedSwitches => Interlocked.Read(ref _refusedSwitches);

    /// <summary>Hosts refused because <see cref="FabricLearnerOptions.MaxHosts"/> was reached.</summary>
    public long RefusedHosts => _locator.Refused;

    /// <summary>The snooper of a switch (its state for diagnostics); false for an unknown switch.</summary>
    public bool TryGetSnooper(string switchId, out Snooper snooper)
    {
        if (_switches.TryGetValue(switchId, out var s)) { snooper = s.Snooper; return true; }
        snooper = null!;
        return false;
    }

    /// <summary>True when the switch is known and connected.</summary>
    public bool IsUp(string switchId) => _switches.TryGetValue(switchId, out var s) && s.IsUp;

    // ---- switches and ports ----

    /// <summary>
    /// A switch connected (or reconnected) with these ports. A known switch keeps its index and snooping state;
    /// ports it no longer has lose theirs. Returns false (and changes nothing) when the id is empty or the
    /// switch limit is reached.
    /// </summary>
    public bool SwitchUp(string switchId, ulong bridgeId, IReadOnlyList<SwitchPortInfo> ports)
    {
        if (string.IsNullOrEmpty(switchId) || ports is null) return false;
        lock (_gate)
        {
            if (!_switches.TryGetValue(switchId, out var sw))
            {
                if (_byIndex.Count >= _options.MaxSwitches) { Interlocked.Increment(ref _refusedSwitches); return false; }
                var transmitter = _options.Snooping.Querier is null ? null : new QueryTransmitter(this, switchId);
                sw = new LearnedSwitch(_byIndex.Count, switchId, bridgeId, new Snooper(_options.Snooping, _time, transmitter));
                transmitter?.Bind(sw);
                var bound = sw;
                sw.Snooper.Changed += c => OnSnoopingChanged(bound, c);
                _byIndex.Add(sw);
                _switches[switchId] = sw;
            }
            sw.BridgeId = bridgeId;
            sw.IsUp = true;
            sw.SetPorts(ports.Take(_options.MaxPortsPerSwitch));
            RebuildLocked();
            return true;
        }
    }

    /// <summary>
    /// A switch disconnected. It stays in the topology (indices are stable, and its links are dropped by
    /// whoever found them); frames from it are no longer expected. False for an unknown switch.
    /// </summary>
    public bool SwitchDown(string switchId)
    {
        lock (_gate)
        {
            if (!_switches.TryGetValue(switchId, out var sw)) return false;
            sw.IsUp = false;
            return true;
        }
    }

    /// <summary>A port appeared (or was renamed). False for an unknown switch.</summary>
    public bool PortAdded(string switchId, SwitchPortInfo port)
    {
        lock (_gate)
        {
            if (!_switches.TryGetValue(switchId, out var sw)) return false;
            var ports = Describe(sw).Where(p => p.Port != port.Port).Append(port).ToList();
            if (ports.Count > _options.MaxPortsPerSwitch) return false;
            sw.SetPorts(ports);
            RebuildLocked();
            return true;
        }
    }

    /// <summary>A port went away: its memberships and routers go, links on it are dropped. False when unknown.</summary>
    public bool PortRemoved(string switchId, uint port)
    {
        lock (_gate)
        {
            if (!_switches.TryGetValue(switchId, out var sw) || !sw.HasPort(port)) return false;
            sw.SetPorts(Describe(sw).Where(p => p.Port != port).ToList());
            var end = new SwitchPort(switchId, port);
            foreach (var (from, to) in _directedLinks.ToList())
                if (from == end || to == end) DropLinkLocked(from);
            RebuildLocked();
            return true;
        }
    }

    private static IEnumerable<SwitchPortInfo> Describe(LearnedSwitch sw) => sw.Ports;

    // ---- links ----

    /// <summary>
    /// Frames sent out of <paramref name="from"/> arrive at <paramref name="to"/> (one direction, as LLDP finds
    /// it). The topology has a link while either direction is known; a port is the end of at most one link
    /// (the newest wins). Links naming unknown switches or ports are kept aside until both ends exist.
    /// </summary>
    public void LinkUp(SwitchPort from, SwitchPort to)
    {
        lock (_gate)
        {
            if (AddLinkLocked(from, to)) RebuildLocked();
        }
    }

    /// <summary>One direction of a link is gone (LLDP timeout, port down, switch gone).</summary>
    public void LinkDown(SwitchPort from, SwitchPort to)
    {
        lock (_gate)
        {
            if (RemoveLinkLocked(from, to)) RebuildLocked();
        }
    }

    /// <summary>
    /// Several link changes, applied in order as <see cref="LinkUp"/> and <see cref="LinkDown"/> would, with ONE
    /// topology rebuild at the end: discovery finds a fabric's links in bursts (every port probed at once), and a
    /// rebuild per link made learning a 1,000-switch fabric quadratic (each rebuild walks every switch and link).
    /// </summary>
    public void LinksChanged(IReadOnlyList<LinkChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        lock (_gate)
        {
            bool changed = false;
            foreach (var c in changes)
                changed |= c.Up ? AddLinkLocked(c.From, c.To) : RemoveLinkLocked(c.From, c.To);
            if (changed) RebuildLocked();
        }
    }

    /// <summary>Records from → to; true when the link table changed. Newest wins: any other link on either end goes.</summary>
    private bool AddLinkLocked(SwitchPort from, SwitchPort to)
    {
        if (string.IsNullOrEmpty(from.SwitchId) || string.IsNullOrEmpty(to.SwitchId)) return false;
        if (from.SwitchId == to.SwitchId) return false; // a cable looping back into its own switch carries no fabric link
        if (_directedLinks.TryGetValue(from, out var existing) && existing == to) return false;
        // Bounded: a flood of bogus LLDP cannot grow the link table past what the switch limit allows.
        if (!_directedLinks.ContainsKey(from) && _directedLinks.Count >= _options.MaxSwitches * 64) return false;
        // Every port ends at most one link (and its reverse), so the links to drop are found by key, not by a scan.
        foreach (var end in (ReadOnlySpan<SwitchPort>)[from, to])
        {
            if (_directedLinks.TryGetValue(end, out var t) && !IsSameLink(end, t, from, to)) DropLinkLocked(end);
            if (_linkTargets.TryGetValue(end, out var f) && !IsSameLink(f, end, from, to)) DropLinkLocked(f);
        }
        DropLinkLocked(from);
        _directedLinks[from] = to;
        _linkTargets[to] = from;
        return true;
    }

    private static bool IsSameLink(SwitchPort f, SwitchPort t, SwitchPort from, SwitchPort to) => (f == from && t == to) || (f == to && t == from);

    private bool RemoveLinkLocked(SwitchPort from, SwitchPort to)
    {
        if (!_directedLinks.TryGetValue(from, out var t) || t != to) return false;
        DropLinkLocked(from);
        return true;
    }

    private void DropLinkLocked(SwitchPort from)
    {
        if (!_directedLinks.Remove(from, out var to)) return;
        if (_linkTargets.TryGetValue(to, out var f) && f == from) _linkTargets.Remove(to);
    }

    // ---- frames and time ----

    /// <summary>
    /// A frame a switch punted, with the port it arrived on. Untagged frames are VLAN 0. Never throws for
    /// bad input: malformed frames are the snooper's to count; unknown switches and ports are counted here.
    /// </summary>
    public PuntOutcome FrameIn(string switchId, uint inPort, ReadOnlySpan<byte> frame)
    {
        if (switchId is null || !_switches.TryGetValue(switchId, out var sw)) { Interlocked.Increment(ref _unknownSwitch); return PuntOutcome.UnknownSwitch; }
        if (!sw.TryGetPort(inPort, out var port)) { Interlocked.Increment(ref _unknownPort); return PuntOutcome.UnknownPort; }
        return sw.Snooper.Process(port, frame) switch
        {
            FrameOutcome.Applied => PuntOutcome.Applied,
            FrameOutcome.Dropped => PuntOutcome.Dropped,
            _ => PuntOutcome.Ignored,
        };
    }

    /// <summary>Runs every snooper's timers at the injected clock's now (memberships and router ports expire). Call periodically.</summary>
    public void Tick()
    {
        foreach (var sw in _switches.Values) sw.Snooper.Tick();
        Interlocked.Increment(ref _ticks);
    }

    /// <summary>How often <see cref="Tick"/> has run to its end: a test that advances a fake clock waits for it instead of sleeping.</summary>
    public long Ticks => Interlocked.Read(ref _ticks);
    private long _ticks;

    /// <summary>
    /// Our querier (<see cref="SnoopingOptions.Querier"/>) wants <see cref="QueryOut.Frame"/> sent out of
    /// <see cref="QueryOut.Ports"/> of a switch: its edge ports (not inter-switch links), where hosts are; the
    /// hosts' reports come back as punts. Each switch's snooper runs the election on the queries it hears, so a
    /// real querier with a lower address silences it. Raised on the learner's tick; a handler must not block.
    /// </summary>
    public event Action<QueryOut>? QuerySent;

    private sealed class QueryTransmitter(FabricLearner learner, string switchId) : IFrameTransmitter
    {
        private LearnedSwitch? _switch;

        public void Bind(LearnedSwitch sw) => _switch = sw;

        public void Send(VlanId vlan, ReadOnlySpan<byte> frame)
        {
            var sw = _switch;
            var handler = learner.QuerySent;
            if (sw is null || handler is null || !sw.IsUp) return;
            var links = learner._linkPorts;
            var edge = new List<uint>();
            foreach (uint p in sw.PortNumbers) if (!links.Contains(sw.Ref(p))) edge.Add(p);
            if (edge.Count > 0) handler(new QueryOut(switchId, [.. edge], vlan, frame.ToArray()));
        }
    }

    // ---- snooping → reference groups and hosts ----

    private void OnSnoopingChanged(LearnedSwitch sw, SnoopingChange c)
    {
        if (c.Port is null || !sw.TryGetPortNumber(c.Port, out uint port)) return;
        switch (c.Kind)
        {
            case SnoopingChangeKind.MemberAdded:
            case SnoopingChangeKind.MemberRemoved:
                References.SetMemberPorts(c.Vlan, c.Group, sw.Index, sw.ApplyMember(c.Vlan, c.Group, port, c.Kind == SnoopingChangeKind.MemberAdded));
                break;
            case SnoopingChangeKind.RouterPortAdded:
            case SnoopingChangeKind.RouterPortRemoved:
                lock (_routerGate)
                {
                    var routers = sw.ApplyRouter(c.Vlan, port, c.Kind == SnoopingChangeKind.RouterPortAdded);
                    if (routers.Length > 0)
                    {
                        _routerDefaults.Remove((c.Vlan, sw.Index));
                        References.SetRouterPorts(c.Vlan, sw.Index, routers);
                    }
                    else
                    {
                        // No querier seen any more: back to the default, the switch's port toward the tree root.
                        _routerDefaults.Add((c.Vlan, sw.Index));
                        References.SetRouterPorts(c.Vlan, sw.Index, TreeDefault(sw.Index));
                    }
                }
                break;
            case SnoopingChangeKind.HostLearned:
            case SnoopingChangeKind.HostMoved:
                _locator.Seen(c.Vlan, c.Mac, sw.Ref(port), c.Timestamp);
                break;
            case SnoopingChangeKind.HostAddressAdded:
                _locator.Claimed(c.Vlan, c.Mac, c.Address, sw.Ref(port), c.Timestamp);
                break;
        }
    }

    private uint[] TreeDefault(int sw)
    {
        var topology = References.Topology;
        if (sw >= topology.Switches.Count) return [];
        uint root = topology.Tree.RootPort(sw);
        return root == SpanningTree.NoPort ? [] : [root];
    }

    // ---- topology ----

    private void RebuildLocked()
    {
        var switches = new List<SwitchInfo>(_byIndex.Count);
        foreach (var s in _byIndex) switches.Add(new SwitchInfo(s.Index, s.Id, s.BridgeId, s.PortNumbers));
        var links = new List<SwitchLink>();
        var used = new HashSet<PortRef>();
        foreach (var (from, to) in _directedLinks)
        {
            if (!_switches.TryGetValue(from.SwitchId, out var a) || !_switches.TryGetValue(to.SwitchId, out var b)) continue;
            if (a.Index == b.Index || !a.HasPort(from.Port) || !b.HasPort(to.Port)) continue;
            var pa = a.Ref(from.Port);
            var pb = b.Ref(to.Port);
            if (used.Contains(pa) || used.Contains(pb)) continue; // the reverse direction of a link already taken
            used.Add(pa);
            used.Add(pb);
            links.Add(pa.Switch < pb.Switch ? new SwitchLink(pa, pb) : new SwitchLink(pb, pa));
        }
        links.Sort((x, y) => x.A.Switch != y.A.Switch ? x.A.Switch.CompareTo(y.A.Switch) : x.A.Port.CompareTo(y.A.Port));
        var topology = new FabricTopology(switches, links);
        References.UpdateTopology(topology);
        lock (_routerGate)
        {
            foreach (var (vlan, sw) in _routerDefaults) References.SetRouterPorts(vlan, sw, TreeDefault(sw));
        }
        _locator.SetLinkPorts(used);
        _linkPorts = used;
        TopologyChanged?.Invoke(topology);
    }
}
