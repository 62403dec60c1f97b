using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.OpenFlow.Agent;

/// <summary>
/// The switch side of OpenFlow 1.3, for emulated switches: connects to a controller, answers the handshake,
/// keeps one flow table and a group table with Open vSwitch's semantics (ADD of an existing group →
/// GROUP_MOD_FAILED/GROUP_EXISTS, MODIFY of a missing one → UNKNOWN_GROUP, deleting a group deletes the
/// flows that use it), answers FLOW / GROUP_DESC / GROUP / PORT_DESC multiparts, barriers and echoes, and
/// offers <see cref="Forward"/> and the allocation-free <see cref="Lookup"/> for the emulator's data plane.
/// Unknown requests get BAD_REQUEST/BAD_TYPE. Like a switch that loses its controller, the agent keeps its
/// tables across <see cref="DisconnectAsync"/> and a later <see cref="ConnectAsync"/>.
/// Like Open vSwitch it takes several controllers at once (<see cref="AddControllerAsync"/>), one connection each, with
/// OpenFlow 1.3 roles: every connection starts EQUAL; ROLE_REQUEST MASTER demotes any other master to SLAVE; MASTER
/// and SLAVE requests carry a generation id, and one older than the newest seen (signed 64-bit difference) is refused
/// ROLE_REQUEST_FAILED/STALE; a SLAVE's FLOW_MOD, GROUP_MOD, PACKET_OUT and bundle messages are refused
/// BAD_REQUEST/IS_SLAVE; asynchronous messages (PACKET_IN, PORT_STATUS) go to each connection whose SET_ASYNC
/// configuration for its role asks for them (OVS's defaults: packet-ins to masters and equals only).
/// </summary>
public sealed class OpenFlowSwitchAgent : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<uint, GroupMod> _groups = [];
    private readonly List<FlowMod> _flows = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<OfpPort> _ports;
    private readonly List<Connection> _connections = []; // under _gate
    private ulong _generation; // the newest generation id a MASTER/SLAVE request carried (under _gate)
    private bool _generationSet;
    private CompiledFlowTable? _compiled; // null after a table change; rebuilt by the next lookup
    // How many flows send to each group (under _gate; null: rebuilt from _flows when next needed). A release deletes the
    // flow before its group, so the group delete finds no user here and skips the scan of the whole flow table.
    private Dictionary<uint, int>? _groupUsers;

    /// <summary>OVS's asynchronous configuration of a new connection: packet-ins (no match, action) to masters and equals, port status to all, flow-removed to masters.</summary>
    private static readonly SetAsync DefaultAsync = new(0x3, 0, 0x7, 0x7, 0xF, 0);

    /// <summary>One controller connection: its pipe, its read loop, its role and asynchronous configuration.</summary>
    private sealed class Connection(IDuplexPipe pipe, TcpClient? client, IPEndPoint? controller, CancellationTokenSource cts)
    {
        public IDuplexPipe Pipe { get; } = pipe;
        public TcpClient? Client { get; } = client;
        public IPEndPoint? Controller { get; } = controller;
        public CancellationTokenSource Cts { get; } = cts;
        public SemaphoreSlim Write { get; } = new(1, 1);
        public Task Loop { get; set; } = Task.CompletedTask;
        public ControllerRole Role { get; set; } = ControllerRole.Equal;
        public SetAsync Async { get; set; } = DefaultAsync;
        public bool Live => !Loop.IsCompleted;
    }

    public OpenFlowSwitchAgent(ulong datapathId, IEnumerable<OfpPort> ports)
    {
        DatapathId = datapathId;
        _ports = ports.ToList();
    }

    public ulong DatapathId { get; }
    public string SwitchId => OpenFlowSession.FormatDatapathId(DatapathId);

    /// <summary>Fault injection: return an ERROR to refuse a FLOW_MOD / GROUP_MOD instead of applying it.</summary>
    public Func<OfpMessage, ErrorMessage?>? Refuse { get; set; }

    /// <summary>
    /// Fault injection for ROLE_REQUEST, which Open vSwitch cannot be made to answer oddly: when set and it returns a
    /// message, that message (given the request's xid) is the whole answer and the connection's role does not change —
    /// an ERROR (ROLE_REQUEST_FAILED/STALE, UNSUP…), a ROLE_REPLY naming another role or generation — or, for
    /// <see cref="NoAnswer"/>, nothing is sent at all. Null (or a null result): answered as OVS does.
    /// </summary>
    public Func<RoleRequest, OfpMessage?>? AnswerRole { get; set; }

    /// <summary>What <see cref="AnswerRole"/> returns to leave a role request unanswered.</summary>
    public static readonly OfpMessage NoAnswer = new BarrierReply();

    /// <summary>Delay before each barrier reply (emulated control-plane latency).</summary>
    public TimeSpan BarrierDelay { get; set; }

    public bool AnswerEchoes { get; set; } = true;

    /// <summary>Raised for every message from the controller, before it is handled.</summary>
    public event Action<OfpMessage>? MessageReceived;

    /// <summary>Raised after a FLOW_MOD or GROUP_MOD changed the tables.</summary>
    public event Action? TablesChanged;

    /// <summary>PACKET_OUT from the controller: (output ports, frame).</summary>
    public event Action<IReadOnlyList<uint>, byte[]>? PacketOut;

    /// <summary>Completes when every connection has ended.</summary>
    public Task Completion { get { lock (_gate) return Task.WhenAll(_connections.Select(c => c.Loop)); } }

    /// <summary>True while a connection is being served.</summary>
    public bool IsConnected { get { lock (_gate) return _connections.Any(c => c.Live); } }

    /// <summary>The controllers connected now, each with its role (null endpoint: a connection over a pipe).</summary>
    public IReadOnlyList<(IPEndPoint? Controller, ControllerRole Role)> Controllers
    {
        get { lock (_gate) return [.. _connections.Where(c => c.Live).Select(c => (c.Controller, c.Role))]; }
    }

    /// <summary>The newest generation id a MASTER or SLAVE role request carried (null: none yet).</summary>
    public ulong? GenerationId { get { lock (_gate) return _generationSet ? _generation : null; } }

    public IReadOnlyDictionary<uint, GroupMod> Groups { get { lock (_gate) return new Dictionary<uint, GroupMod>(_groups); } }
    public IReadOnlyList<FlowMod> Flows { get { lock (_gate) return _flows.ToList(); } }

    /// <summary>Connects over TCP and starts serving; returns once HELLO is sent. For a first controller: throws when connected.</summary>
    public async Task ConnectAsync(IPEndPoint controller, CancellationToken ct = default)
    {
        if (IsConnected) throw new InvalidOperationException("The agent is already connected.");
        await AddControllerAsync(controller, ct).ConfigureAwait(false);
    }

    /// <summary>Connects to one more controller (a switch with several, as OVS's <c>set-controller BR tcp:A tcp:B …</c>).</summary>
    public async Task AddControllerAsync(IPEndPoint controller, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(controller);
        lock (_gate)
            if (_connections.Any(c => c.Live && controller.Equals(c.Controller))) throw new InvalidOperationException($"The agent is already connected to {controller}.");
        var client = new TcpClient { NoDelay = true };
        try { await client.ConnectAsync(controller, ct).ConfigureAwait(false); }
        catch { client.Dispose(); throw; }
        var stream = client.GetStream();
        await StartAsync(new Duplex(PipeReader.Create(stream), PipeWriter.Create(stream)), client, controller).ConfigureAwait(false);
    }

    /// <summary>Serves over any duplex pipe (in-memory for tests and the emulator).</summary>
    public Task StartAsync(IDuplexPipe pipe) => StartAsync(pipe, null, null);

    private async Task StartAsync(IDuplexPipe pipe, TcpClient? client, IPEndPoint? controller)
    {
        var c = new Connection(pipe, client, controller, CancellationTokenSource.CreateLinkedTokenSource(_stop.Token));
        try { await SendToAsync(c, new HelloMessage(HelloMessage.Bitmap13)).ConfigureAwait(false); }
        catch { client?.Dispose(); c.Cts.Dispose(); throw; }
        lock (_gate)
        {
            _connections.RemoveAll(x => !x.Live);
            _connections.Add(c);
            c.Loop = LoopAsync(c, c.Cts.Token);
        }
    }

    /// <summary>Drops every controller connection and keeps the tables (a switch losing its controllers).</summary>
    public async Task DisconnectAsync()
    {
        List<Connection> all;
        lock (_gate) all = [.. _connections];
        foreach (var c in all) { c.Cts.Cancel(); c.Client?.Dispose(); }
        foreach (var c in all) { try { await c.Loop.ConfigureAwait(false); } catch (OperationCanceledException) { } }
    }

    /// <summary>
    /// The data plane's view of table 0 for one frame: the highest-priority matching flow's actions, groups
    /// resolved to their buckets' ports. Allocation-free once the table is compiled (after each change).
    /// </summary>
    public FlowDecision Lookup(in PacketFields packet)
    {
        var table = Volatile.Read(ref _compiled);
        if (table is null)
        {
            lock (_gate) table = _compiled ??= CompiledFlowTable.Build(_flows, _groups);
        }
        return table.Lookup(in packet);
    }

    /// <summary>
    /// Changes the tables behind the controller's back (an emulated switch losing or corrupting state);
    /// reconciliation should repair it.
    /// </summary>
    public void Mutate(Action<Dictionary<uint, GroupMod>, List<FlowMod>> change)
    {
        lock (_gate) { change(_groups, _flows); _compiled = null; _groupUsers = null; }
    }

    /// <summary>Writes raw bytes to every controller (hostile-peer tests).</summary>
    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes)
    {
        foreach (var c in Live(null))
        {
            await c.Write.WaitAsync().ConfigureAwait(false);
            try { await c.Pipe.Output.WriteAsync(bytes).ConfigureAwait(false); }
            finally { c.Write.Release(); }
        }
    }

    /// <summary>
    /// Sends a switch-originated message: a PACKET_IN or PORT_STATUS to each controller whose asynchronous configuration
    /// for its role asks for it, anything else to every controller. Throws <see cref="InvalidOperationException"/> when
    /// no controller is connected; a connection that fails meanwhile is skipped (its loop ends on its own).
    /// </summary>
    public async Task SendAsync(OfpMessage m)
    {
        var targets = Live(m);
        if (targets.Count == 1) { await SendToAsync(targets[0], m).ConfigureAwait(false); return; }
        foreach (var c in targets)
        {
            try { await SendToAsync(c, m).ConfigureAwait(false); }
            catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException or OperationCanceledException) { }
        }
    }

    /// <summary>The live connections that take <paramref name="m"/> (null: every live one).</summary>
    private List<Connection> Live(OfpMessage? m)
    {
        List<Connection> live;
        lock (_gate)
        {
            live = [.. _connections.Where(c => c.Live)];
            if (live.Count == 0) throw new InvalidOperationException("The agent is not connected.");
            if (m is PacketIn pi) live.RemoveAll(c => !Wants(c.Role == ControllerRole.Slave ? c.Async.PacketInSlave : c.Async.PacketInMaster, (int)pi.Reason));
            else if (m is PortStatus ps) live.RemoveAll(c => !Wants(c.Role == ControllerRole.Slave ? c.Async.PortStatusSlave : c.Async.PortStatusMaster, (int)ps.Reason));
        }
        return live;
    }

    private static bool Wants(uint mask, int reason) => reason is >= 0 and < 32 && (mask & (1u << reason)) != 0;

    private static async Task SendToAsync(Connection c, OfpMessage m)
    {
        await c.Write.WaitAsync().ConfigureAwait(false);
        try
        {
            var span = c.Pipe.Output.GetSpan(m.EncodedLength);
            m.TryEncode(span, out int n);
            c.Pipe.Output.Advance(n);
            await c.Pipe.Output.FlushAsync().ConfigureAwait(false);
        }
        finally { c.Write.Release(); }
    }

    /// <summary>Writes <paramref name="messages"/> back to back with one flush.</summary>
    private static async Task SendManyAsync(Connection c, List<OfpMessage> messages)
    {
        await c.Write.WaitAsync().ConfigureAwait(false);
        try
        {
            foreach (var m in messages)
            {
                var span = c.Pipe.Output.GetSpan(m.EncodedLength);
                m.TryEncode(span, out int n);
                c.Pipe.Output.Advance(n);
            }
            await c.Pipe.Output.FlushAsync().ConfigureAwait(false);
        }
        finally { c.Write.Release(); }
    }

    /// <summary>Sends a PACKET_IN (e.g. an IGMP report or an LLDP frame that hit a punt flow).</summary>
    public Task SendPacketInAsync(uint inPort, byte[] frame, ulong cookie = 0, PacketInReason reason = PacketInReason.Action) =>
        SendAsync(new PacketIn(Ofp.NoBuffer, (ushort)Math.Min(frame.Length, ushort.MaxValue), reason, 0, cookie, new OfpMatch { InPort = inPort }, frame));

    public Task SendPortStatusAsync(PortStatusReason reason, OfpPort port)
    {
        lock (_gate)
        {
            _ports.RemoveAll(p => p.PortNo == port.PortNo);
            if (reason != PortStatusReason.Delete) _ports.Add(port);
        }
        return SendAsync(new PortStatus(reason, port));
    }

    /// <summary>
    /// The data plane: the highest-priority flow matching (in_port, vlan_vid, eth_type, ip dst) and, when its
    /// action is a group, the group's output ports minus the ingress port. Null on a table miss (drop).
    /// </summary>
    public IReadOnlyList<uint>? Forward(uint inPort, OfpMatch packet)
    {
        lock (_gate)
        {
            var flow = _flows.Where(f => Matches(f.Match, inPort, packet)).OrderByDescending(f => f.Priority).FirstOrDefault();
            if (flow is null) return null;
            var outs = new List<uint>();
            foreach (var a in flow.Instructions.OfType<ApplyActions>().SelectMany(i => i.Actions))
            {
                if (a is OutputAction o) outs.Add(o.Port);
                else if (a is GroupAction g && _groups.TryGetValue(g.GroupId, out var grp))
                    outs.AddRange(grp.Buckets.SelectMany(b => b.Actions).OfType<OutputAction>().Select(o => o.Port));
            }
            return outs.Where(p => p != inPort).Distinct().ToList();
        }
    }

    private static bool Matches(OfpMatch m, uint inPort, OfpMatch p) =>
        (m.InPort is null || m.InPort == inPort) && (m.EthType is null || m.EthType == p.EthType) &&
        (m.VlanVid is null || m.VlanVid == p.VlanVid) && (m.Ipv4Dst is not { } v4 || (p.Ipv4Dst is { } q4 && (v4 & (m.Ipv4DstMask ?? uint.MaxValue)) == (q4 & (m.Ipv4DstMask ?? uint.MaxValue)))) &&
        (m.Ipv6Dst is not { } v6 || (p.Ipv6Dst is { } q6 && (v6.High & (m.Ipv6DstMask?.High ?? ulong.MaxValue)) == (q6.High & (m.Ipv6DstMask?.High ?? ulong.MaxValue))
            && (v6.Low & (m.Ipv6DstMask?.Low ?? ulong.MaxValue)) == (q6.Low & (m.Ipv6DstMask?.Low ?? ulong.MaxValue)))) && (m.IpProto is null || m.IpProto == p.IpProto) &&
        (m.UdpDst is null || m.UdpDst == p.UdpDst) && (m.EthDst is null || m.EthDst == p.EthDst) &&
        (m.Icmpv6Type is null || m.Icmpv6Type == p.Icmpv6Type) && m.Extra.Length == 0;

    private async Task LoopAsync(Connection c, CancellationToken ct)
    {
        await Task.Yield(); // runs after StartAsync has recorded the connection
        var pipe = c.Pipe;
        var reader = pipe.Input;
        var replies = new List<OfpMessage>();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var result = await reader.ReadAsync(ct).ConfigureAwait(false);
                var buffer = result.Buffer;
                try
                {
                    // Every reply to what one read brought goes out in one write, in order (errors before the barrier
                    // reply that follows them), as a switch answers a batch: one send per batch, not per message.
                    replies.Clear();
                    while (OpenFlowFramer.TryReadMessage(ref buffer, Ofp.MaxMessageLength, out var m))
                    {
                        MessageReceived?.Invoke(m!);
                        if (m is BarrierRequest && BarrierDelay > TimeSpan.Zero)
                        {
                            await SendManyAsync(c, replies).ConfigureAwait(false);
                            replies.Clear();
                            await Task.Delay(BarrierDelay, ct).ConfigureAwait(false);
                        }
                        Handle(m!, replies, c);
                    }
                    if (replies.Count > 0) await SendManyAsync(c, replies).ConfigureAwait(false);
                    if (result.IsCompleted) return;
                }
                finally { reader.AdvanceTo(buffer.Start, buffer.End); }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or OpenFlowFormatException or InvalidOperationException) { }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
            // Under the write lock, so that no send is mid-write; bounded, since a send to a dead peer fails soon.
            bool held = await c.Write.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            // Completing flushes what is buffered; after DisposeAsync closed the socket that flush fails, and a
            // closing switch has nobody left to tell.
            try { await pipe.Output.CompleteAsync().ConfigureAwait(false); }
            catch (Exception e) when (e is IOException or ObjectDisposedException) { }
            finally { if (held) c.Write.Release(); }
            c.Client?.Dispose();
        }
    }

    private void Handle(OfpMessage m, List<OfpMessage> replies, Connection c)
    {
        // A slave may read, not write (OVS's reject_slave_controller).
        if (m is FlowMod or GroupMod or Protocol.PacketOut or BundleControl or BundleAdd && c.Role == ControllerRole.Slave)
        {
            var raw = m.ToArray();
            replies.Add(new ErrorMessage(OfpErrorNames.BadRequest, IsSlave, raw[..Math.Min(64, raw.Length)]) { Xid = m.Xid });
            return;
        }
        switch (m)
        {
            case RoleRequest rr:
                if (AnswerRole?.Invoke(rr) is { } odd)
                {
                    if (!ReferenceEquals(odd, NoAnswer)) replies.Add(odd with { Xid = rr.Xid });
                }
                else replies.Add(HandleRole(rr, c));
                break;
            case SetAsync sa:
                c.Async = sa;
                break;
            case HelloMessage: break;
            case FeaturesRequest:
                replies.Add(new FeaturesReply(DatapathId, 0, 254, 0, 0x4F) { Xid = m.Xid }); break;
            case EchoRequest e:
                if (AnswerEchoes) replies.Add(new EchoReply(e.Data) { Xid = m.Xid });
                break;
            case EchoReply: break;
            case ErrorMessage: break; // never answer an error with an error
            case BarrierRequest:
                replies.Add(new BarrierReply { Xid = m.Xid }); break;
            case PortDescRequest:
                lock (_gate) replies.Add(new PortDescReply(_ports.OrderBy(p => p.PortNo).ToList()) { Xid = m.Xid });
                break;
            case GroupMod g:
                if ((Refuse?.Invoke(g) ?? ApplyGroup(g)) is { } gErr) replies.Add(gErr with { Xid = m.Xid });
                else { Invalidate(); TablesChanged?.Invoke(); }
                break;
            case FlowMod f:
                if (Refuse?.Invoke(f) is { } fErr) replies.Add(fErr with { Xid = m.Xid });
                else { ApplyFlow(f); Invalidate(); TablesChanged?.Invoke(); }
                break;
            // The multipart answers are built in their own methods: a lambda here capturing the message would allocate its
            // closure on every call of Handle — every FLOW_MOD, GROUP_MOD and barrier under load.
            case FlowStatsRequest fs:
                replies.AddRange(FlowStats(fs));
                break;
            case GroupDescRequest gd:
                replies.AddRange(GroupDescs(gd));
                break;
            case GroupStatsRequest gs:
                replies.AddRange(GroupStats(gs));
                break;
            case BundleControl bc:
                replies.Add(HandleBundleControl(bc));
                break;
            case BundleAdd ba:
                if (HandleBundleAdd(ba) is { } baErr) replies.Add(baErr);
                break;
            case PacketOut po:
                PacketOut?.Invoke(po.Actions.OfType<OutputAction>().Select(a => a.Port).ToList(), po.Data);
                break;
            default:
                var echo = m.ToArray();
                replies.Add(new ErrorMessage(OfpErrorNames.BadRequest, OfpErrorNames.BadRequestBadType, echo[..Math.Min(64, echo.Length)]) { Xid = m.Xid });
                break;
        }
    }

    private List<OfpMessage> FlowStats(FlowStatsRequest fs)
    {
        List<FlowStatsEntry> entries;
        lock (_gate)
            entries = _flows.Where(f => (f.Cookie & fs.CookieMask) == (fs.Cookie & fs.CookieMask) && (fs.TableId == FlowStatsRequest.AllTables || fs.TableId == f.TableId))
                .Select(f => new FlowStatsEntry(f.TableId, f.Priority, f.Cookie, f.Match, f.Instructions)).ToList();
        return [.. Chunk(entries, e => e.EncodedLength, (part, more) => new FlowStatsReply(part, more) { Xid = fs.Xid })];
    }

    private List<OfpMessage> GroupDescs(GroupDescRequest gd)
    {
        List<GroupDescEntry> descs;
        lock (_gate) descs = _groups.Values.Select(g => new GroupDescEntry(g.GroupType, g.GroupId, g.Buckets)).ToList();
        return [.. Chunk(descs, e => e.EncodedLength, (part, more) => new GroupDescReply(part, more) { Xid = gd.Xid })];
    }

    private List<OfpMessage> GroupStats(GroupStatsRequest gs)
    {
        List<GroupStatsEntry> stats;
        lock (_gate)
            stats = _groups.Values.Where(g => gs.GroupId == Ofp.GroupAll || g.GroupId == gs.GroupId)
                .Select(g => new GroupStatsEntry(g.GroupId, (uint)_flows.Count(f => UsesGroup(f, g.GroupId)), 0, 0, g.Buckets.Select(_ => (0UL, 0UL)).ToList())).ToList();
        return [.. Chunk(stats, e => e.EncodedLength, (part, more) => new GroupStatsReply(part, more) { Xid = gs.Xid })];
    }

    private const ushort IsSlave = 10, RoleRequestFailed = 11, Stale = 0; // OFPBRC_IS_SLAVE, OFPET_ROLE_REQUEST_FAILED, OFPRRFC_STALE

    /// <summary>A role request as OVS answers it: STALE for an old generation; a new MASTER demotes the others; the reply names the role now held.</summary>
    private OfpMessage HandleRole(RoleRequest rr, Connection c)
    {
        lock (_gate)
        {
            if (rr.Role is ControllerRole.Master or ControllerRole.Slave)
            {
                if (_generationSet && RoleMessage.IsStale(rr.GenerationId, _generation))
                {
                    var raw = rr.ToArray();
                    return new ErrorMessage(RoleRequestFailed, Stale, raw[..Math.Min(64, raw.Length)]) { Xid = rr.Xid };
                }
                _generation = rr.GenerationId;
                _generationSet = true;
            }
            if (rr.Role == ControllerRole.Master)
                foreach (var other in _connections)
                    if (other != c && other.Role == ControllerRole.Master) other.Role = ControllerRole.Slave;
            if (rr.Role != ControllerRole.NoChange) c.Role = rr.Role;
            return new RoleReply(c.Role, _generation) { Xid = rr.Xid };
        }
    }

    private readonly Dictionary<uint, List<OfpMessage>> _bundles = [];

    /// <summary>ONF bundles as Open vSwitch runs them: messages held until COMMIT, then all applied or none.</summary>
    private OfpMessage HandleBundleControl(BundleControl bc)
    {
        lock (_gate)
        {
            switch (bc.ControlType)
            {
                case BundleControlType.OpenRequest:
                    if (_bundles.ContainsKey(bc.BundleId)) return BundleError(bc, 3); // BUNDLE_EXIST
                    _bundles[bc.BundleId] = [];
                    return bc with { ControlType = BundleControlType.OpenReply };
                case BundleControlType.CloseRequest:
                    return _bundles.ContainsKey(bc.BundleId) ? bc with { ControlType = BundleControlType.CloseReply } : BundleError(bc, 2);
                case BundleControlType.DiscardRequest:
                    return _bundles.Remove(bc.BundleId) ? bc with { ControlType = BundleControlType.DiscardReply } : BundleError(bc, 2);
                case BundleControlType.CommitRequest:
                    if (!_bundles.Remove(bc.BundleId, out var held)) return BundleError(bc, 2); // BAD_ID
                    var groups = new Dictionary<uint, GroupMod>(_groups);
                    var flows = _flows.ToList();
                    foreach (var m in held)
                    {
                        ErrorMessage? refused = Refuse?.Invoke(m) ?? (m is GroupMod g ? ApplyGroup(g) : null);
                        if (refused is null && m is FlowMod f) ApplyFlow(f);
                        if (refused is not null)
                        {
                            _groups.Clear(); foreach (var (k, v) in groups) _groups[k] = v;
                            _flows.Clear(); _flows.AddRange(flows); _groupUsers = null;
                            return BundleError(bc, 13); // MSG_FAILED
                        }
                    }
                    _compiled = null;
                    break;
                default:
                    return BundleError(bc, 6); // BAD_TYPE
            }
        }
        TablesChanged?.Invoke();
        return bc with { ControlType = BundleControlType.CommitReply };
    }

    private ErrorMessage? HandleBundleAdd(BundleAdd ba)
    {
        lock (_gate)
        {
            if (!_bundles.TryGetValue(ba.BundleId, out var held)) return BundleError(ba, 2);
            if (ba.Inner is not (FlowMod or GroupMod)) return BundleError(ba, 10); // MSG_UNSUP
            held.Add(ba.Inner);
            return null;
        }
    }

    /// <summary>An ONF bundle error in OpenFlow 1.3's experimenter form: type 0xFFFF, exp_code 2300 + n, experimenter ONF, then the request.</summary>
    private static ErrorMessage BundleError(OfpMessage request, ushort n)
    {
        var raw = request.ToArray();
        var data = new byte[4 + Math.Min(64, raw.Length)];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(data, OfpBundle.OnfExperimenterId);
        raw.AsSpan(0, data.Length - 4).CopyTo(data.AsSpan(4));
        return new ErrorMessage(0xFFFF, (ushort)(OfpBundle.ControlExpType + n), data) { Xid = request.Xid };
    }

    private void Invalidate()
    {
        lock (_gate) _compiled = null;
    }

    /// <summary>Splits entries into multipart replies of at most ~60 KB, REPLY_MORE on all but the last.</summary>
    private static IEnumerable<OfpMessage> Chunk<T>(List<T> entries, Func<T, int> size, Func<List<T>, ushort, OfpMessage> make)
    {
        var part = new List<T>();
        int bytes = 0;
        var parts = new List<List<T>>();
        foreach (var e in entries)
        {
            if (bytes + size(e) > 60_000 && part.Count > 0) { parts.Add(part); part = []; bytes = 0; }
            part.Add(e); bytes += size(e);
        }
        parts.Add(part);
        for (int i = 0; i < parts.Count; i++) yield return make(parts[i], i < parts.Count - 1 ? Ofp.MultipartMore : (ushort)0);
    }

    private static bool UsesGroup(FlowMod f, uint gid)
    {
        // Index loops, not LINQ or foreach (an interface enumerator is an allocation): a group delete tests every flow of the table.
        var instructions = f.Instructions;
        for (int i = 0; i < instructions.Count; i++)
            if (instructions[i] is ApplyActions a)
                for (int j = 0; j < a.Actions.Count; j++)
                    if (a.Actions[j] is GroupAction ga && ga.GroupId == gid) return true;
        return false;
    }

    private ErrorMessage? ApplyGroup(GroupMod g)
    {
        lock (_gate)
        {
            switch (g.Command)
            {
                case GroupModCommand.Add:
                    if (_groups.ContainsKey(g.GroupId)) return new ErrorMessage(OfpErrorNames.GroupModFailed, OfpErrorNames.GroupExists, Echo(g));
                    _groups[g.GroupId] = g; return null;
                case GroupModCommand.Modify:
                    if (!_groups.ContainsKey(g.GroupId)) return new ErrorMessage(OfpErrorNames.GroupModFailed, OfpErrorNames.UnknownGroup, Echo(g));
                    _groups[g.GroupId] = g; return null;
                case GroupModCommand.Delete:
                    if (g.GroupId == Ofp.GroupAll) { _groups.Clear(); _flows.RemoveAll(f => f.Instructions.OfType<ApplyActions>().Any(a => a.Actions.OfType<GroupAction>().Any())); _groupUsers = null; }
                    else { _groups.Remove(g.GroupId); RemoveFlowsUsing(g.GroupId); }
                    return null;
                default:
                    return new ErrorMessage(OfpErrorNames.GroupModFailed, 11, Echo(g)); // BAD_COMMAND
            }
        }
    }

    // ApplyGroup/ApplyFlow run for every GROUP_MOD and FLOW_MOD under load: no lambda captures their argument (a
    // captured parameter allocates its closure on every call, taken or not), the table is filtered in place.

    /// <summary>The refused request's first 64 bytes, encoded only when it is refused.</summary>
    private static byte[] Echo(OfpMessage m) { var raw = m.ToArray(); return raw[..Math.Min(64, raw.Length)]; }

    /// <summary>Removes every flow that sends to group <paramref name="gid"/> (a group delete takes its flows with it). Under _gate.</summary>
    private void RemoveFlowsUsing(uint gid)
    {
        var users = GroupUsers();
        if (!users.TryGetValue(gid, out int n) || n == 0) return;
        int kept = 0;
        for (int i = 0; i < _flows.Count; i++)
            if (!UsesGroup(_flows[i], gid)) _flows[kept++] = _flows[i];
            else Count(_flows[i], -1);
        _flows.RemoveRange(kept, _flows.Count - kept);
    }

    private Dictionary<uint, int> GroupUsers()
    {
        if (_groupUsers is { } users) return users;
        _groupUsers = [];
        foreach (var f in _flows) Count(f, +1);
        return _groupUsers;
    }

    /// <summary>Adds <paramref name="delta"/> to the user count of every group <paramref name="f"/> sends to (when the index is built). Under _gate.</summary>
    private void Count(FlowMod f, int delta)
    {
        if (_groupUsers is not { } users) return;
        var instructions = f.Instructions;
        for (int i = 0; i < instructions.Count; i++)
            if (instructions[i] is ApplyActions a)
                for (int j = 0; j < a.Actions.Count; j++)
                    if (a.Actions[j] is GroupAction ga)
                    {
                        ref int n = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(users, ga.GroupId, out _);
                        n += delta;
                        if (n <= 0) users.Remove(ga.GroupId);
                    }
    }

    private static bool CookieOk(FlowMod x, FlowMod f) => (x.Cookie & f.CookieMask) == (f.Cookie & f.CookieMask);

    // Our flows share one table and one priority, so the strict match decides: the destination address (a plain
    // field) is compared before the whole match, which is what the per-FLOW_MOD scan of the table spends its time on.
    private static bool SameMatch(OfpMatch x, OfpMatch f) => x.Ipv4Dst == f.Ipv4Dst && x.SameAs(f);

    private void ApplyFlow(FlowMod f)
    {
        lock (_gate)
        {
            int kept = 0;
            switch (f.Command)
            {
                case FlowModCommand.Add:
                    for (int i = 0; i < _flows.Count; i++)
                    {
                        var x = _flows[i];
                        if (!(x.TableId == f.TableId && x.Priority == f.Priority && SameMatch(x.Match, f.Match))) _flows[kept++] = x;
                        else Count(x, -1);
                    }
                    _flows.RemoveRange(kept, _flows.Count - kept);
                    var added = f.Xid == 0 ? f : f with { Xid = 0 };
                    _flows.Add(added);
                    Count(added, +1); break;
                case FlowModCommand.Modify:
                case FlowModCommand.ModifyStrict:
                    for (int i = 0; i < _flows.Count; i++)
                        if (CookieOk(_flows[i], f) && SameMatch(_flows[i].Match, f.Match) && (f.Command == FlowModCommand.Modify || _flows[i].Priority == f.Priority))
                        {
                            Count(_flows[i], -1);
                            _flows[i] = _flows[i] with { Instructions = f.Instructions };
                            Count(_flows[i], +1);
                        }
                    break;
                case FlowModCommand.DeleteStrict:
                    for (int i = 0; i < _flows.Count; i++)
                    {
                        var x = _flows[i];
                        if (!(x.Priority == f.Priority && SameMatch(x.Match, f.Match) && CookieOk(x, f))) _flows[kept++] = x;
                        else Count(x, -1);
                    }
                    _flows.RemoveRange(kept, _flows.Count - kept); break;
                case FlowModCommand.Delete:
                    bool all = f.Match.SameAs(OfpMatch.Any);
                    for (int i = 0; i < _flows.Count; i++)
                    {
                        var x = _flows[i];
                        if (!(CookieOk(x, f) && (all || x.Match.SameAs(f.Match)))) _flows[kept++] = x;
                        else Count(x, -1);
                    }
                    _flows.RemoveRange(kept, _flows.Count - kept); break;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await DisconnectAsync().ConfigureAwait(false);
        List<Connection> all;
        lock (_gate) all = [.. _connections];
        foreach (var c in all) c.Cts.Dispose();
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }
}
