using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.ReferenceGroups;
using SubsetMulticast.Emulator.Switching;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.Packets;
using SubsetMulticast.Packets.Arp;
using SubsetMulticast.Packets.Ethernet;
using SubsetMulticast.Packets.Igmp;
using SubsetMulticast.Packets.Ip;
using SubsetMulticast.Packets.Mld;
using SubsetMulticast.Packets.Ndp;
using SubsetMulticast.Packets.Udp;

namespace SubsetMulticast.Emulator;

/// <summary>A control frame (IGMP/MLD, ARP, ND) that <paramref name="at"/> received on <paramref name="inPort"/>.</summary>
public delegate void ControlFrameTap(EmulatedSwitch at, uint inPort, ReadOnlySpan<byte> frame);

/// <summary>A frame that reached <paramref name="host"/>'s NIC.</summary>
public delegate void HostFrameSink(EmulatedHost host, ReadOnlySpan<byte> frame);

/// <summary>
/// Many L2 switches and their hosts in one process, exchanging real Ethernet frames. Deterministic:
/// one frame at a time, hop by hop in breadth-first order, under one lock. Spanning tree is taken as
/// converged (the same 802.1D election the controller models); the querier sits at the tree root, so
/// each switch's router port is its root port.
/// </summary>
public sealed class EmulatedFabric
{
    public const int MaxFrame = 9216;
    private readonly object _gate = new();
    private readonly EmulatedSwitch[] _switches;
    private readonly EmulatedHost[] _hosts;
    private readonly Dictionary<string, int> _switchByName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _hostByName = new(StringComparer.Ordinal);
    private readonly Dictionary<IpAddress, int> _hostByIp = new();
    private readonly byte[] _frame = new byte[MaxFrame];
    private readonly Queue<(int Switch, uint Port)> _queue = new();
    private readonly List<uint> _egress = new(64);
    private readonly int[] _frameCopies;
    private readonly List<int> _touchedLinks = new();
    private readonly int _linkCount;
    private readonly DeliveryReport _controlTraffic;
    private readonly List<(int Host, IpAddress Group, bool V4)> _queriesHeard = [];
    private bool _answering;

    public EmulatedFabric(FabricSpec spec)
    {
        Spec = spec;
        _switches = new EmulatedSwitch[spec.Switches.Count];
        for (int i = 0; i < _switches.Length; i++)
        {
            var s = spec.Switches[i];
            if (!_switchByName.TryAdd(s.Name, i)) throw new ArgumentException($"Switch '{s.Name}' appears twice.");
            _switches[i] = new EmulatedSwitch(i, s.Name, s.BridgeId, s.PortCount);
            Array.Fill(_switches[i].Neighbours, PortPeer.None);
        }
        _hosts = new EmulatedHost[spec.Hosts.Count];
        for (int i = 0; i < _hosts.Length; i++)
        {
            var h = spec.Hosts[i];
            var (sw, port) = Attach(h.Switch, h.Port, $"host {h.Name}");
            _hosts[i] = new EmulatedHost(i, h.Name, sw, port, h.Ipv4, h.Ipv6, h.Mac, h.Vlan, i);
            _switches[sw].Neighbours[port] = new PortPeer(-1, 0, i, i);
            if (!_hostByName.TryAdd(h.Name, i)) throw new ArgumentException($"Host '{h.Name}' appears twice.");
            if (!_hostByIp.TryAdd(h.Ipv4, i) || (h.Ipv6 is { } v6 && !_hostByIp.TryAdd(v6, i))) throw new ArgumentException($"Host '{h.Name}' reuses an address.");
        }
        var links = new List<SwitchLink>();
        for (int i = 0; i < spec.Links.Count; i++)
        {
            var l = spec.Links[i];
            var (a, pa) = Attach(l.SwitchA, l.PortA, $"link {i + 1}");
            var (b, pb) = Attach(l.SwitchB, l.PortB, $"link {i + 1}");
            int linkIndex = _hosts.Length + i;
            _switches[a].Neighbours[pa] = new PortPeer(b, pb, -1, linkIndex);
            _switches[b].Neighbours[pb] = new PortPeer(a, pa, -1, linkIndex);
            links.Add(new SwitchLink(new PortRef(a, pa), new PortRef(b, pb)));
        }
        _linkCount = _hosts.Length + spec.Links.Count;
        _frameCopies = new int[_linkCount];
        _controlTraffic = new DeliveryReport(_hosts.Length, _linkCount);
        QueryAnswers = new DeliveryReport(_hosts.Length, _linkCount);
        Topology = new FabricTopology(
            [.. _switches.Select(s => new SwitchInfo(s.Index, s.Name, s.BridgeId, [.. Enumerable.Range(1, s.PortCount).Select(p => (uint)p)]))],
            links);
        // Converged spanning tree: non-tree inter-switch ports block; the root port is the router port.
        foreach (var s in _switches)
        {
            for (uint p = 1; p <= s.PortCount; p++)
                s.Blocked[p] = s.Neighbours[p].IsSwitch && !Topology.Tree.IsTreePort(s.Index, p);
            uint root = Topology.Tree.RootPort(s.Index);
            s.RouterPorts = root == SpanningTree.NoPort ? [] : [root];
        }
    }

    public FabricSpec Spec { get; }
    public FabricTopology Topology { get; }
    public IReadOnlyList<EmulatedSwitch> Switches => _switches;
    public IReadOnlyList<EmulatedHost> Hosts => _hosts;
    public int LinkCount => _linkCount;
    internal object Gate => _gate;

    public EmulatedHost Host(string name) => _hostByName.TryGetValue(name, out var i) ? _hosts[i] : throw new KeyNotFoundException($"No host '{name}'.");
    public EmulatedSwitch Switch(string name) => _switchByName.TryGetValue(name, out var i) ? _switches[i] : throw new KeyNotFoundException($"No switch '{name}'.");
    public bool TryGetHost(IpAddress ip, out EmulatedHost host)
    {
        bool found = _hostByIp.TryGetValue(ip, out var i);
        host = found ? _hosts[i] : null!;
        return found;
    }

    /// <summary>Every host announces itself (gratuitous ARP, unsolicited NA): switches learn MAC locations and IP → MAC.</summary>
    public void Announce()
    {
        Span<byte> f = stackalloc byte[128];
        foreach (var h in _hosts)
        {
            Send(h, f[..ArpPacket.WriteGratuitousFrame(f, h.Mac, h.Ipv4, h.Vlan)]);
            if (h.Ipv6 is { } v6) Send(h, f[..NeighborDiscovery.WriteUnsolicitedAdvertisementFrame(f, h.Mac, v6, h.Vlan)]);
        }
    }

    /// <summary>
    /// The host joins a group with a real IGMPv3 / MLDv2 report (EXCLUDE {}, any source). From then on it answers
    /// general and group-specific queries for the group, as a host's IP stack does, until it leaves.
    /// </summary>
    public DeliveryReport Join(EmulatedHost host, IpAddress group)
    {
        if (!group.IsMulticast) throw new ArgumentException($"{group} is not a group address.", nameof(group));
        lock (_gate) host.Groups.Add(group);
        return Report(host, [group], GroupRecordType.ChangeToExclude);
    }

    /// <summary>The host leaves with a real IGMPv3 / MLDv2 report (TO_INCLUDE {}) and stops answering queries for the group.</summary>
    public DeliveryReport Leave(EmulatedHost host, IpAddress group)
    {
        lock (_gate) host.Groups.Remove(group);
        return Report(host, [group], GroupRecordType.ChangeToInclude);
    }

    /// <summary>True while the host is in the group (joined, not left).</summary>
    public bool IsMember(EmulatedHost host, IpAddress group)
    {
        lock (_gate) return host.Groups.Contains(group);
    }

    /// <summary>
    /// The host sends a current-state report (MODE_IS_EXCLUDE {}) for a group, as it does when queried.
    /// Snooping switches refresh their membership timers on it; nothing else changes.
    /// </summary>
    public DeliveryReport Reaffirm(EmulatedHost host, IpAddress group) => Report(host, [group], GroupRecordType.ModeIsExclude);

    /// <summary>Every query a host answered (RFC 3376 §5.2 / RFC 3810 §6.2: at once; the emulator has no response delay).</summary>
    public DeliveryReport QueryAnswers { get; }

    private DeliveryReport Report(EmulatedHost host, IReadOnlyList<IpAddress> groups, GroupRecordType type, DeliveryReport? into = null)
    {
        // 32 records fit a frame in either family (MLDv2: 20 bytes each); more go in further reports.
        Span<byte> f = stackalloc byte[1024];
        DeliveryReport? report = into;
        for (int start = 0; start < groups.Count; start += 32)
        {
            var records = new GroupRecord[Math.Min(32, groups.Count - start)];
            for (int i = 0; i < records.Length; i++) records[i] = new GroupRecord(type, groups[start + i]);
            int n = groups[start].IsV4
                ? IgmpFrames.WriteV3Report(f, host.Mac, host.Vlan, host.Ipv4, records)
                : MldFrames.WriteV2Report(f, host.Mac, host.Vlan, LinkLocal(host), records);
            report = Send(host, f[..n], report);
        }
        return report ?? new DeliveryReport(_hosts.Length, _linkCount);
    }

    /// <summary>
    /// Notes an IGMP/MLD query reaching a host's NIC; the host answers once the frame in flight is done
    /// (see <see cref="AnswerQueries"/>). Cheap for data: only IPv4 protocol 2 and IPv6 with a hop-by-hop header are parsed.
    /// </summary>
    private void HearQuery(int hostIndex, ReadOnlySpan<byte> frame)
    {
        var host = _hosts[hostIndex];
        if (host.Groups.Count == 0 || !EthernetFrame.TryRead(frame, out var eth) || eth.Vlan != host.Vlan) return;
        var payload = eth.Payload;
        bool v4 = eth.EtherType == EtherTypes.Ipv4;
        if (v4 ? payload.Length < 10 || payload[9] != IpProtocols.Igmp : eth.EtherType != EtherTypes.Ipv6 || payload.Length < 7 || payload[6] != 0) return;
        try
        {
            if (!IpPacket.TryRead(payload, eth.EtherType, out var ip)) return;
            if (v4 && IgmpMessage.TryReadPacket(in ip, out var igmp) && igmp.IsQuery) _queriesHeard.Add((hostIndex, igmp.Group, true));
            else if (!v4 && ip.Protocol == IpProtocols.Icmpv6 && MldMessage.TryReadPacket(in ip, out var mld) && mld.IsQuery)
                _queriesHeard.Add((hostIndex, mld.MulticastAddress, false));
        }
        catch (MalformedPacketException)
        {
            // A host's stack drops a malformed query.
        }
    }

    /// <summary>
    /// Each host that heard a query reports the groups it asked about: all of its groups of that family for a
    /// general query, the one group for a group-specific query if the host is in it. Reports raise no answers,
    /// so this runs once per frame sent, after that frame's propagation.
    /// </summary>
    private void AnswerQueries()
    {
        if (_answering || _queriesHeard.Count == 0) return;
        _answering = true;
        try
        {
            // Reports are not queries: answering adds nothing to the list being read.
            for (int i = 0; i < _queriesHeard.Count; i++)
            {
                var (hostIndex, group, v4) = _queriesHeard[i];
                var host = _hosts[hostIndex];
                List<IpAddress> groups = group.IsUnspecified
                    ? [.. host.Groups.Where(g => g.IsV4 == v4).Order()]
                    : host.Groups.Contains(group) ? [group] : [];
                if (groups.Count > 0) Report(host, groups, GroupRecordType.ModeIsExclude, QueryAnswers);
            }
        }
        finally
        {
            _queriesHeard.Clear();
            _answering = false;
        }
    }

    private static IpAddress LinkLocal(EmulatedHost h) => IpAddress.FromV6(0xFE80UL << 48, 0x0200_0000_0000_0000UL | h.Mac.Value);

    /// <summary>Sends one UDP datagram from the host to <paramref name="destination"/> (a group, or a host's address).</summary>
    public DeliveryReport SendUdp(EmulatedHost host, IpAddress destination, ReadOnlySpan<byte> payload, DeliveryReport? into = null)
    {
        var dstMac = destination.IsMulticast ? MulticastMac.For(destination)
            : TryGetHost(destination, out var d) ? d.Mac : throw new ArgumentException($"No host has {destination}.");
        var src = destination.IsV4 ? host.Ipv4 : host.Ipv6 ?? throw new ArgumentException($"{host.Name} has no IPv6 address.");
        // Headers (Ethernet + 802.1Q + IPv6 + UDP) fit in 80 bytes; Send rejects anything over MaxFrame.
        Span<byte> f = payload.Length + 80 <= 2048 ? stackalloc byte[2048] : new byte[payload.Length + 80];
        int n = UdpDatagram.WriteFrame(f, host.Mac, dstMac, host.Vlan, src, destination, 40000, 9000, payload);
        return Send(host, f[..n], into);
    }

    /// <summary>Puts a frame on the host's access link and forwards it until every copy is delivered or dropped.</summary>
    public DeliveryReport Send(EmulatedHost host, ReadOnlySpan<byte> frame, DeliveryReport? into = null)
    {
        if (frame.Length > MaxFrame) throw new ArgumentException($"Frame of {frame.Length} bytes exceeds {MaxFrame}.", nameof(frame));
        var report = into ?? new DeliveryReport(_hosts.Length, _linkCount);
        lock (_gate)
        {
            report.FramesSent++;
            report.SenderLinkBytes += frame.Length;
            Copy(report, host.Link, frame.Length);
            _queue.Enqueue((host.Switch, host.Port));
            Propagate(frame, host.Index, report);
            AnswerQueries();
        }
        return report;
    }

    /// <summary>
    /// A frame the switch's control plane sends out of one port (an OpenFlow PACKET_OUT, e.g. an LLDP probe).
    /// Like 802.1AB, it goes out even on a port spanning tree blocks. Counted in <see cref="ControlTraffic"/>.
    /// </summary>
    internal void Transmit(EmulatedSwitch from, uint port, ReadOnlySpan<byte> frame)
    {
        if (frame.Length > MaxFrame || port == 0 || port > from.PortCount) return;
        lock (_gate)
        {
            var peer = from.Neighbours[port];
            if (peer.IsHost)
            {
                Copy(_controlTraffic, peer.Link, frame.Length);
                _controlTraffic.FramesPerHost[peer.Host]++;
                HearQuery(peer.Host, frame);
            }
            else if (peer.IsSwitch)
            {
                Copy(_controlTraffic, peer.Link, frame.Length);
                _queue.Enqueue((peer.Switch, peer.Port));
            }
            _controlTraffic.FramesSent++;
            Propagate(frame, -1, _controlTraffic);
            AnswerQueries();
        }
    }

    /// <summary>Everything the switches' control planes transmitted (PACKET_OUTs) and where it went.</summary>
    public DeliveryReport ControlTraffic => _controlTraffic;

    /// <summary>
    /// When set, every IGMP, ARP, MLD (ICMPv6 130/131/132/143) and ND (135/136) frame a switch receives is
    /// handed to it with the switch and in-port — the frames OpenFlow punt flows copy to a controller, at the
    /// point where the switch's own snooping sees them: group-addressed frames on ports spanning tree does
    /// not block (OpenFlow mode has its own punts and never calls it). Called under the fabric's lock on the
    /// sending thread; it must not throw or call back into the fabric. Unset, it costs one null check per
    /// group-addressed frame.
    /// </summary>
    public ControlFrameTap? ControlTap { get; set; }

    /// <summary>
    /// When set, every frame that reaches a host's NIC (the sender's own excluded) is handed to it: the hosts'
    /// network stacks (e.g. Transfer/EmulatedDatagramNetwork), possibly through Chaos/LinkChaos. Called under the
    /// fabric's lock; the frame is valid only during the call; it must not throw or call back into the fabric.
    /// </summary>
    public HostFrameSink? HostReceive { get; set; }

    /// <summary>Forwards the queued copies of one frame until each is delivered or dropped. Under the gate.</summary>
    private void Propagate(ReadOnlySpan<byte> frame, int sender, DeliveryReport report)
    {
        frame.CopyTo(_frame);
        var bytes = _frame.AsSpan(0, frame.Length);
        for (int hops = 0; _queue.Count > 0; hops++)
        {
            if (hops > 4 * _linkCount + 16)
            {
                _queue.Clear();
                throw new InvalidOperationException("Forwarding loop: the frame outlived the fabric's link count.");
            }
            var (sw, inPort) = _queue.Dequeue();
            Forward(_switches[sw], inPort, bytes, sender, report);
        }
        foreach (int l in _touchedLinks)
        {
            report.MaxCopiesPerLinkPerFrame = Math.Max(report.MaxCopiesPerLinkPerFrame, _frameCopies[l]);
            _frameCopies[l] = 0;
        }
        _touchedLinks.Clear();
    }

    private void Copy(DeliveryReport report, int link, int length)
    {
        report.CopiesPerLink[link]++;
        report.TotalLinkBytes += length;
        if (_frameCopies[link]++ == 0) _touchedLinks.Add(link);
    }

    private void Forward(EmulatedSwitch s, uint inPort, ReadOnlySpan<byte> frame, int sender, DeliveryReport report)
    {
        _egress.Clear();
        if (s.Datapath is { } datapath)
        {
            if (!EthernetFrame.TryRead(frame, out var ofEth) || !datapath.Process(inPort, in ofEth, frame, _egress)) return;
            Deliver(s, inPort, ofEth.Vlan, frame, sender, report);
            return;
        }
        if (s.Blocked[inPort] || !EthernetFrame.TryRead(frame, out var eth)) return;
        var vlan = eth.Vlan;
        var src = eth.Source;
        if (!src.IsGroup) s.Learn(vlan, src, inPort);
        var dst = eth.Destination;
        if (!dst.IsGroup)
        {
            if (s.TryLookupMac(vlan, dst, out var port)) _egress.Add(port); else Flood(s);
        }
        else Classify(s, inPort, in eth, frame, dst.IsBroadcast);
        Deliver(s, inPort, vlan, frame, sender, report);
    }

    /// <summary>Puts a copy on every egress port chosen for the frame (never the ingress, never a blocked port).</summary>
    private void Deliver(EmulatedSwitch s, uint inPort, VlanId vlan, ReadOnlySpan<byte> frame, int sender, DeliveryReport report)
    {
        foreach (var p in _egress)
        {
            if (p == inPort || p == 0 || p > s.PortCount || s.Blocked[p]) continue;
            var peer = s.Neighbours[p];
            if (peer.IsHost)
            {
                var h = _hosts[peer.Host];
                if (h.Vlan != vlan) continue;
                Copy(report, peer.Link, frame.Length);
                if (peer.Host != sender)
                {
                    report.FramesPerHost[peer.Host]++;
                    HearQuery(peer.Host, frame);
                    HostReceive?.Invoke(h, frame);
                }
            }
            else if (peer.IsSwitch)
            {
                Copy(report, peer.Link, frame.Length);
                _queue.Enqueue((peer.Switch, peer.Port));
            }
        }
    }

    /// <summary>Group-addressed frames: snoop control traffic, then forward by the transactional table, the snooped table, or as unregistered.</summary>
    private void Classify(EmulatedSwitch s, uint inPort, in EthernetFrame eth, ReadOnlySpan<byte> frame, bool broadcast)
    {
        var vlan = eth.Vlan;
        try
        {
            if (eth.EtherType == EtherTypes.Arp)
            {
                ControlTap?.Invoke(s, inPort, frame);
                if (ArpPacket.TryRead(eth.Payload, out var arp)) s.LearnIp(vlan, arp.SenderIp, arp.SenderMac);
                Flood(s);
                return;
            }
            if (broadcast || eth.EtherType is not (EtherTypes.Ipv4 or EtherTypes.Ipv6) || !IpPacket.TryRead(eth.Payload, eth.EtherType, out var ip))
            {
                Flood(s);
                return;
            }
            if (ip.Version == 4 && ip.Protocol == IpProtocols.Igmp)
            {
                ControlTap?.Invoke(s, inPort, frame);
                if (IgmpMessage.TryReadPacket(in ip, out var igmp) && SnoopIgmp(s, vlan, inPort, in igmp)) { _egress.AddRange(s.RouterPorts); return; }
                Flood(s);
                return;
            }
            if (ip.Version == 6 && ip.Protocol == IpProtocols.Icmpv6 && ip.PayloadLength > 0)
            {
                byte type = ip.Payload[0];
                if (type is 130 or 131 or 132 or 143 or 135 or 136) ControlTap?.Invoke(s, inPort, frame);
                if (type is 131 or 132 or 143)
                {
                    if (MldMessage.TryReadPacket(in ip, out var mld)) SnoopMld(s, vlan, inPort, in mld);
                    _egress.AddRange(s.RouterPorts);
                    return;
                }
                if (type is 135 or 136 && NeighborMessage.TryReadPacket(in ip, out var nd))
                {
                    if (nd.TargetLinkLayerAddress is { } tll) s.LearnIp(vlan, nd.Target, tll);
                    if (nd.SourceLinkLayerAddress is { } sll && !ip.Source.IsUnspecified) s.LearnIp(vlan, ip.Source, sll);
                }
            }
            var group = ip.Destination;
            if (group.IsLinkLocalMulticast || (group.IsV6 && (group.High >> 48) == 0xFF02)) { Flood(s); return; }
            if (s.TryGetTransactional(vlan, group, out var txPorts)) { _egress.AddRange(txPorts); return; }
            var members = s.MemberPorts(vlan, group);
            if (members.Count > 0) _egress.AddRange(members);
            _egress.AddRange(s.RouterPorts);
        }
        catch (MalformedPacketException)
        {
            // A malformed control frame is dropped, as a snooping switch drops a bad report; nothing was learned.
            _egress.Clear();
        }
    }

    /// <summary>Returns true for reports and leaves (forwarded to router ports only, RFC 4541 §2.1.1).</summary>
    private static bool SnoopIgmp(EmulatedSwitch s, VlanId vlan, uint inPort, in IgmpMessage m)
    {
        switch (m.Type)
        {
            case IgmpType.V1MembershipReport or IgmpType.V2MembershipReport:
                s.SnoopJoin(vlan, m.Group, inPort);
                return true;
            case IgmpType.LeaveGroup:
                s.SnoopLeave(vlan, m.Group, inPort);
                return true;
            case IgmpType.V3MembershipReport:
                foreach (var r in m.Records) ApplyRecord(s, vlan, inPort, r.Type, r.Group, r.Sources.Count);
                return true;
            default:
                return false;
        }
    }

    private static void SnoopMld(EmulatedSwitch s, VlanId vlan, uint inPort, in MldMessage m)
    {
        switch (m.Type)
        {
            case MldType.V1Report: s.SnoopJoin(vlan, m.MulticastAddress, inPort); break;
            case MldType.V1Done: s.SnoopLeave(vlan, m.MulticastAddress, inPort); break;
            case MldType.V2Report:
                foreach (var r in m.Records) ApplyRecord(s, vlan, inPort, r.Type, r.Group, r.Sources.Count);
                break;
        }
    }

    // The emulator keeps port-level state only (forward the superset, RFC 4541 §2.1.1): any EXCLUDE or
    // a non-empty INCLUDE is membership; TO_IN {} / IS_IN {} is a leave.
    private static void ApplyRecord(EmulatedSwitch s, VlanId vlan, uint port, GroupRecordType type, IpAddress group, int sources)
    {
        bool member = type is GroupRecordType.ModeIsExclude or GroupRecordType.ChangeToExclude
            || (type is GroupRecordType.ModeIsInclude or GroupRecordType.ChangeToInclude or GroupRecordType.AllowNewSources && sources > 0);
        if (member) s.SnoopJoin(vlan, group, port);
        else if (type is GroupRecordType.ModeIsInclude or GroupRecordType.ChangeToInclude) s.SnoopLeave(vlan, group, port);
    }

    private void Flood(EmulatedSwitch s)
    {
        for (uint p = 1; p <= s.PortCount; p++) _egress.Add(p);
    }

    private (int Switch, uint Port) Attach(string sw, uint port, string what)
    {
        if (!_switchByName.TryGetValue(sw, out var i)) throw new ArgumentException($"{what}: no switch '{sw}'.");
        if (port == 0 || port > _switches[i].PortCount) throw new ArgumentException($"{what}: switch '{sw}' has no port {port}.");
        if (_switches[i].Neighbours[port] != PortPeer.None) throw new ArgumentException($"{what}: port {sw}:{port} is already in use.");
        return (i, port);
    }

    /// <summary>
    /// Every host's IP → MAC → edge port, read from the spec: a shortcut for property tests and benchmarks.
    /// The controller itself learns hosts from frames (<see cref="Learning.EmulatedFabricFeed"/>).
    /// </summary>
    public void ExportHosts(HostTable table)
    {
        foreach (var h in _hosts)
        {
            var at = new PortRef(h.Switch, h.Port);
            table.Learn(new HostLocation(h.Ipv4, h.Mac, h.Vlan, at));
            if (h.Ipv6 is { } v6) table.Learn(new HostLocation(v6, h.Mac, h.Vlan, at));
        }
    }

    /// <summary>
    /// The switches' snooping tables copied into <paramref name="table"/> (as SNMP's dot1qTpGroupTable would give
    /// them): a shortcut for property tests and benchmarks. It only adds — a later leave is not reflected; the
    /// controller learns from frames instead (<see cref="Learning.EmulatedFabricFeed"/>).
    /// </summary>
    public void ExportReferenceGroups(ReferenceGroupTable table)
    {
        lock (_gate)
        {
            foreach (var s in _switches)
                foreach (var (vlan, group, ports) in s.SnoopedGroups())
                    table.SetMemberPorts(vlan, group, s.Index, ports);
        }
    }
}
