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
/// </summary>
public sealed class OpenFlowSwitchAgent : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<uint, GroupMod> _groups = [];
    private readonly List<FlowMod> _flows = [];
    private readonly SemaphoreSlim _write = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<OfpPort> _ports;
    private TcpClient? _client;
    private IDuplexPipe? _pipe;
    private Task? _loop;
    private CancellationTokenSource? _connection;
    private CompiledFlowTable? _compiled; // null after a table change; rebuilt by the next lookup

    public OpenFlowSwitchAgent(ulong datapathId, IEnumerable<OfpPort> ports)
    {
        DatapathId = datapathId;
        _ports = ports.ToList();
    }

    public ulong DatapathId { get; }
    public string SwitchId => OpenFlowSession.FormatDatapathId(DatapathId);

    /// <summary>Fault injection: return an ERROR to refuse a FLOW_MOD / GROUP_MOD instead of applying it.</summary>
    public Func<OfpMessage, ErrorMessage?>? Refuse { get; set; }

    /// <summary>Delay before each barrier reply (emulated control-plane latency).</summary>
    public TimeSpan BarrierDelay { get; set; }

    public bool AnswerEchoes { get; set; } = true;

    /// <summary>Raised for every message from the controller, before it is handled.</summary>
    public event Action<OfpMessage>? MessageReceived;

    /// <summary>Raised after a FLOW_MOD or GROUP_MOD changed the tables.</summary>
    public event Action? TablesChanged;

    /// <summary>PACKET_OUT from the controller: (output ports, frame).</summary>
    public event Action<IReadOnlyList<uint>, byte[]>? PacketOut;

    /// <summary>Completes when the connection ends.</summary>
    public Task Completion => _loop ?? Task.CompletedTask;

    /// <summary>True while a connection is being served.</summary>
    public bool IsConnected => _loop is { IsCompleted: false };

    public IReadOnlyDictionary<uint, GroupMod> Groups { get { lock (_gate) return new Dictionary<uint, GroupMod>(_groups); } }
    public IReadOnlyList<FlowMod> Flows { get { lock (_gate) return _flows.ToList(); } }

    /// <summary>Connects over TCP and starts serving; returns once HELLO is sent.</summary>
    public async Task ConnectAsync(IPEndPoint controller, CancellationToken ct = default)
    {
        if (IsConnected) throw new InvalidOperationException("The agent is already connected.");
        var client = new TcpClient { NoDelay = true };
        try { await client.ConnectAsync(controller, ct).ConfigureAwait(false); }
        catch { client.Dispose(); throw; }
        _client?.Dispose();
        _client = client;
        var stream = client.GetStream();
        await StartAsync(new Duplex(PipeReader.Create(stream), PipeWriter.Create(stream))).ConfigureAwait(false);
    }

    /// <summary>Serves over any duplex pipe (in-memory for tests and the emulator).</summary>
    public async Task StartAsync(IDuplexPipe pipe)
    {
        _pipe = pipe;
        _connection?.Dispose();
        _connection = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        await SendAsync(new HelloMessage(HelloMessage.Bitmap13)).ConfigureAwait(false);
        _loop = LoopAsync(_connection.Token);
    }

    /// <summary>Drops the controller connection and keeps the tables (a switch losing its controller).</summary>
    public async Task DisconnectAsync()
    {
        _connection?.Cancel();
        _client?.Dispose();
        if (_loop is not null) { try { await _loop.ConfigureAwait(false); } catch (OperationCanceledException) { } }
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
        lock (_gate) { change(_groups, _flows); _compiled = null; }
    }

    /// <summary>Writes raw bytes (hostile-peer tests).</summary>
    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes)
    {
        await _write.WaitAsync().ConfigureAwait(false);
        try { await _pipe!.Output.WriteAsync(bytes).ConfigureAwait(false); }
        finally { _write.Release(); }
    }

    public async Task SendAsync(OfpMessage m)
    {
        await _write.WaitAsync().ConfigureAwait(false);
        try
        {
            var span = _pipe!.Output.GetSpan(m.EncodedLength);
            m.TryEncode(span, out int n);
            _pipe.Output.Advance(n);
            await _pipe.Output.FlushAsync().ConfigureAwait(false);
        }
        finally { _write.Release(); }
    }

    /// <summary>Writes <paramref name="messages"/> back to back with one flush.</summary>
    private async Task SendManyAsync(List<OfpMessage> messages)
    {
        await _write.WaitAsync().ConfigureAwait(false);
        try
        {
            foreach (var m in messages)
            {
                var span = _pipe!.Output.GetSpan(m.EncodedLength);
                m.TryEncode(span, out int n);
                _pipe.Output.Advance(n);
            }
            await _pipe!.Output.FlushAsync().ConfigureAwait(false);
        }
        finally { _write.Release(); }
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

    private async Task LoopAsync(CancellationToken ct)
    {
        var pipe = _pipe!;
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
                            await SendManyAsync(replies).ConfigureAwait(false);
                            replies.Clear();
                            await Task.Delay(BarrierDelay, ct).ConfigureAwait(false);
                        }
                        Handle(m!, replies);
                    }
                    if (replies.Count > 0) await SendManyAsync(replies).ConfigureAwait(false);
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
            bool held = await _write.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            // Completing flushes what is buffered; after DisposeAsync closed the socket that flush fails, and a
            // closing switch has nobody left to tell.
            try { await pipe.Output.CompleteAsync().ConfigureAwait(false); }
            catch (Exception e) when (e is IOException or ObjectDisposedException) { }
            finally { if (held) _write.Release(); }
        }
    }

    private void Handle(OfpMessage m, List<OfpMessage> replies)
    {
        switch (m)
        {
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
            case FlowStatsRequest fs:
                List<FlowStatsEntry> entries;
                lock (_gate)
                    entries = _flows.Where(f => (f.Cookie & fs.CookieMask) == (fs.Cookie & fs.CookieMask) && (fs.TableId == FlowStatsRequest.AllTables || fs.TableId == f.TableId))
                        .Select(f => new FlowStatsEntry(f.TableId, f.Priority, f.Cookie, f.Match, f.Instructions)).ToList();
                replies.AddRange(Chunk(entries, e => e.EncodedLength, (part, more) => new FlowStatsReply(part, more) { Xid = m.Xid }));
                break;
            case GroupDescRequest:
                List<GroupDescEntry> descs;
                lock (_gate) descs = _groups.Values.Select(g => new GroupDescEntry(g.GroupType, g.GroupId, g.Buckets)).ToList();
                replies.AddRange(Chunk(descs, e => e.EncodedLength, (part, more) => new GroupDescReply(part, more) { Xid = m.Xid }));
                break;
            case GroupStatsRequest gs:
                List<GroupStatsEntry> stats;
                lock (_gate)
                    stats = _groups.Values.Where(g => gs.GroupId == Ofp.GroupAll || g.GroupId == gs.GroupId)
                        .Select(g => new GroupStatsEntry(g.GroupId, (uint)_flows.Count(f => UsesGroup(f, g.GroupId)), 0, 0, g.Buckets.Select(_ => (0UL, 0UL)).ToList())).ToList();
                replies.AddRange(Chunk(stats, e => e.EncodedLength, (part, more) => new GroupStatsReply(part, more) { Xid = m.Xid }));
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
                            _flows.Clear(); _flows.AddRange(flows);
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
        // The refused request's first 64 bytes, encoded only when it is refused.
        byte[] Echo() { var raw = g.ToArray(); return raw[..Math.Min(64, raw.Length)]; }
        lock (_gate)
        {
            switch (g.Command)
            {
                case GroupModCommand.Add:
                    if (_groups.ContainsKey(g.GroupId)) return new ErrorMessage(OfpErrorNames.GroupModFailed, OfpErrorNames.GroupExists, Echo());
                    _groups[g.GroupId] = g; return null;
                case GroupModCommand.Modify:
                    if (!_groups.ContainsKey(g.GroupId)) return new ErrorMessage(OfpErrorNames.GroupModFailed, OfpErrorNames.UnknownGroup, Echo());
                    _groups[g.GroupId] = g; return null;
                case GroupModCommand.Delete:
                    if (g.GroupId == Ofp.GroupAll) { _groups.Clear(); _flows.RemoveAll(f => f.Instructions.OfType<ApplyActions>().Any(a => a.Actions.OfType<GroupAction>().Any())); }
                    else { _groups.Remove(g.GroupId); _flows.RemoveAll(f => UsesGroup(f, g.GroupId)); }
                    return null;
                default:
                    return new ErrorMessage(OfpErrorNames.GroupModFailed, 11, Echo()); // BAD_COMMAND
            }
        }
    }

    private void ApplyFlow(FlowMod f)
    {
        bool CookieOk(FlowMod x) => (x.Cookie & f.CookieMask) == (f.Cookie & f.CookieMask);
        lock (_gate)
        {
            switch (f.Command)
            {
                case FlowModCommand.Add:
                    _flows.RemoveAll(x => x.TableId == f.TableId && x.Priority == f.Priority && x.Match.SameAs(f.Match));
                    _flows.Add(f with { Xid = 0 }); break;
                case FlowModCommand.Modify:
                case FlowModCommand.ModifyStrict:
                    for (int i = 0; i < _flows.Count; i++)
                        if (CookieOk(_flows[i]) && _flows[i].Match.SameAs(f.Match) && (f.Command == FlowModCommand.Modify || _flows[i].Priority == f.Priority))
                            _flows[i] = _flows[i] with { Instructions = f.Instructions };
                    break;
                case FlowModCommand.DeleteStrict:
                    _flows.RemoveAll(x => x.Priority == f.Priority && x.Match.SameAs(f.Match) && CookieOk(x)); break;
                case FlowModCommand.Delete:
                    _flows.RemoveAll(x => CookieOk(x) && (f.Match.SameAs(OfpMatch.Any) || x.Match.SameAs(f.Match))); break;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _client?.Dispose();
        if (_loop is not null) { try { await _loop.ConfigureAwait(false); } catch (OperationCanceledException) { } }
        _connection?.Dispose();
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }
}
