using System.Collections.Concurrent;
using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.OpenFlow.Connections;

/// <summary>
/// One switch's OpenFlow 1.3 channel, controller side. <see cref="RunAsync"/> performs the handshake
/// (HELLO negotiation, FEATURES, PORT_DESC), then reads until the channel closes, answering echoes,
/// sending keepalive echoes and correlating replies with requests by xid. All writes go through one lock.
/// A malformed or unexpected message closes the session with a logged reason.
/// </summary>
public sealed class OpenFlowSession : IAsyncDisposable
{
    private readonly IDuplexPipe _pipe;
    private readonly OpenFlowOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private readonly ConcurrentDictionary<uint, Pending> _pending = new();
    private readonly ConcurrentDictionary<uint, OfpPort> _ports = new();
    private readonly ConcurrentQueue<SwitchWrite> _queue = new();
    // Batches written and waiting for their barrier reply, by the barrier's xid. A submission's messages carry a
    // contiguous run of xids, so an ERROR is charged by scanning these few batches: no per-message bookkeeping.
    private readonly ConcurrentDictionary<uint, BarrierBatch> _barriers = new();
    private int _pumping;
    private readonly List<SwitchWrite> _taken = [];
    private int _inFlight; // batches in _barriers (ConcurrentDictionary.Count would take every lock)
    private readonly TaskCompletionSource<HelloMessage> _hello = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _xid;
    private bool _writesCompleted;

    public OpenFlowSession(IDuplexPipe pipe, string remote, OpenFlowOptions? options = null, ILogger? logger = null, TimeProvider? time = null)
    {
        _pipe = pipe;
        Remote = remote;
        _options = options ?? new OpenFlowOptions();
        _logger = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    public string Remote { get; }
    public FeaturesReply? Features { get; private set; }
    public ulong DatapathId => Features?.DatapathId ?? 0;

    /// <summary>The datapath id as 16 hex digits, e.g. "0000000000000001" (empty before the handshake).</summary>
    public string SwitchId => Features is null ? "" : FormatDatapathId(Features.DatapathId);

    public IReadOnlyDictionary<uint, OfpPort> Ports => _ports;
    public bool IsReady => _ready.Task.IsCompletedSuccessfully && !IsClosed;
    public bool IsClosed => _closed.Task.IsCompleted;

    /// <summary>
    /// This controller's OpenFlow 1.3 role on the switch as last settled (a cluster node sets it; EQUAL until then).
    /// A SLAVE's writes and packet-outs are refused IS_SLAVE, so periodic writers (LLDP probes, flow syncs) skip it.
    /// </summary>
    public ControllerRole Role { get; set; } = ControllerRole.Equal;

    /// <summary>True when this controller is SLAVE on the switch: it may read, not write.</summary>
    public bool IsSlave => Role == ControllerRole.Slave;

    /// <summary>Completes with the reason once the session has closed.</summary>
    public Task<string> Closed => _closed.Task;

    /// <summary>Completes when the handshake is done.</summary>
    public Task Ready => _ready.Task;

    public event Action<OpenFlowSession, PortStatus>? PortStatusReceived;
    public event Action<OpenFlowSession, PacketIn>? PacketInReceived;

    /// <summary>Every PACKET_IN read in place from the receive buffer (no copy; valid during the call), before <see cref="PacketInReceived"/>.</summary>
    public event PacketInViewAction? PacketInViewReceived;
    private PacketInViewHandler? _packetInViews;
    private bool OnPacketInView(PacketInView packetIn)
    {
        PacketInViewReceived?.Invoke(this, packetIn);
        return PacketInReceived is not null;
    }

    /// <summary>A batch sent with <see cref="ApplyWithBarrierAsync"/> was confirmed: the round trip to its BARRIER_REPLY.</summary>
    public event Action<OpenFlowSession, TimeSpan>? BarrierCompleted;

    public static string FormatDatapathId(ulong dpid) => dpid.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    private string Name => Features is null ? Remote : SwitchId;

    /// <summary>Runs the session until it closes; returns the reason. Never throws for protocol faults.</summary>
    public async Task<string> RunAsync(CancellationToken cancellationToken = default)
    {
        using var link = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
        var read = ReadLoopAsync(link.Token);
        try
        {
            await HandshakeAsync(link.Token).ConfigureAwait(false);
            _ready.TrySetResult();
            Log.Connected(_logger, SwitchId, Remote, _ports.Count, Features!.NTables);
            _ = KeepaliveLoopAsync(link.Token);
        }
        catch (Exception ex) when (ex is OpenFlowSessionException or TimeoutException or OperationCanceledException)
        {
            Log.HandshakeFailed(_logger, Remote, ex.Message);
            _ready.TrySetException(new OpenFlowSessionException($"handshake failed: {ex.Message}"));
            await CloseAsync($"handshake failed: {ex.Message}").ConfigureAwait(false);
        }
        await read.ConfigureAwait(false);
        return await _closed.Task.ConfigureAwait(false);
    }

    private async Task HandshakeAsync(CancellationToken ct)
    {
        // OpenFlow 1.3.5 §6.3.1: both sides send HELLO at once; the version is the highest both support.
        await SendAsync(new HelloMessage(HelloMessage.Bitmap13), ct).ConfigureAwait(false);
        var hello = await _hello.Task.WaitAsync(_options.HandshakeTimeout, _time, ct).ConfigureAwait(false);
        if (!hello.Supports13)
        {
            var text = "We support only OpenFlow 1.3"u8.ToArray();
            await TrySendAsync(new ErrorMessage(OfpErrorNames.HelloFailed, 0, text) { Xid = hello.Xid }).ConfigureAwait(false);
            throw new OpenFlowSessionException("peer does not support OpenFlow 1.3 (HELLO_FAILED/INCOMPATIBLE)");
        }
        Features = (FeaturesReply)await RequestAsync(new FeaturesRequest(), ct).ConfigureAwait(false);
        var ports = await MultipartAsync(new PortDescRequest(), ct).ConfigureAwait(false);
        foreach (var part in ports.Cast<PortDescReply>())
            foreach (var p in part.Ports) _ports[p.PortNo] = p;
    }

    private async Task KeepaliveLoopAsync(CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(_options.EchoInterval, _time, ct).ConfigureAwait(false);
                try { await RequestAsync(new EchoRequest([]), ct, _options.EchoTimeout).ConfigureAwait(false); }
                catch (TimeoutException) { await CloseAsync($"no echo reply within {_options.EchoTimeout.TotalSeconds:0.#} s").ConfigureAwait(false); return; }
            }
        }
        catch (OperationCanceledException) { }
        catch (OpenFlowSessionException) { }
    }

    private async Task ReadLoopAsync(CancellationToken ct)
    {
        var reader = _pipe.Input;
        string reason = "connection closed by switch";
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(ct).ConfigureAwait(false);
                var buffer = result.Buffer;
                try
                {
                    while (true)
                    {
                        // The commonest message under load is a bare BARRIER_REPLY confirming a batch: handled from
                        // the header alone, without copying or decoding it.
                        if (OpenFlowFramer.TryReadBarrierReply(ref buffer, out uint barrierXid))
                        {
                            if (ConfirmBatch(barrierXid)) continue;
                            if (_pending.TryGetValue(barrierXid, out var waiting)) waiting.Complete(new BarrierReply { Xid = barrierXid });
                            else Log.UnknownXid(_logger, Name, barrierXid, OfpType.BarrierReply);
                            continue;
                        }
                        if (!OpenFlowFramer.TryReadMessage(ref buffer, _options.MaxMessageLength,
                            PacketInViewReceived is null ? null : (_packetInViews ??= OnPacketInView), out var message)) break;
                        if (message is null) continue; // a PACKET_IN its view subscribers took in place
                        var fault = await DispatchAsync(message!).ConfigureAwait(false);
                        if (fault is not null)
                        {
                            // Tell the switch why before hanging up (spec §7.4.4: OFPET_BAD_REQUEST/OFPBRC_BAD_TYPE).
                            await TrySendAsync(new ErrorMessage(OfpErrorNames.BadRequest, OfpErrorNames.BadRequestBadType, []) { Xid = message!.Xid }).ConfigureAwait(false);
                            reason = fault;
                            return;
                        }
                    }
                    if (result.IsCompleted || result.IsCanceled)
                    {
                        if (buffer.Length > 0) reason = $"connection closed inside a message ({buffer.Length} bytes buffered)";
                        return;
                    }
                }
                finally { reader.AdvanceTo(buffer.Start, buffer.End); }
            }
        }
        catch (OpenFlowFormatException ex)
        {
            reason = $"malformed message: {ex.Message}";
            await TrySendAsync(new ErrorMessage(OfpErrorNames.BadRequest, OfpErrorNames.BadRequestBadLen, [])).ConfigureAwait(false);
        }
        catch (OperationCanceledException) { reason = _closed.Task.IsCompleted ? _closed.Task.Result : "session cancelled"; }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException)
        { reason = $"connection error: {ex.Message}"; }
        finally
        {
            await CloseAsync(reason).ConfigureAwait(false);
        }
    }

    /// <summary>Handles one message from the switch; returns a close reason for protocol faults.</summary>
    private async ValueTask<string?> DispatchAsync(OfpMessage message)
    {
        switch (message)
        {
            case HelloMessage hello:
                _hello.TrySetResult(hello);
                return null;
            case EchoRequest echo:
                await SendAsync(new EchoReply(echo.Data) { Xid = echo.Xid }, CancellationToken.None).ConfigureAwait(false);
                return null;
            case ErrorMessage error:
                if (_pending.TryGetValue(error.Xid, out var failed)) failed.Fail(error);
                else if (FindWrite(error.Xid) is { } write) write.AddError(error);
                else Log.UnsolicitedError(_logger, Name, error.Name, error.Xid);
                return null;
            case MultipartReply part:
                if (!_pending.TryGetValue(part.Xid, out var pm)) { Log.UnknownXid(_logger, Name, part.Xid, part.Type); return null; }
                if (!pm.AddPart(part, _options.MaxMultipartBytes))
                    return $"multipart reply for xid {part.Xid} exceeds {_options.MaxMultipartBytes} bytes";
                return null;
            case BarrierReply when ConfirmBatch(message.Xid):
                return null;
            case BundleControl or ExperimenterMessage:
                // Bundle replies answer a request by xid; any other experimenter message is ignored, not fatal.
                if (_pending.TryGetValue(message.Xid, out var bp)) bp.Complete(message);
                else Log.UnknownXid(_logger, Name, message.Xid, message.Type);
                return null;
            case EchoReply or FeaturesReply or BarrierReply or RoleReply:
                if (_pending.TryGetValue(message.Xid, out var p)) p.Complete(message);
                else Log.UnknownXid(_logger, Name, message.Xid, message.Type);
                return null;
            case PortStatus status:
                if (status.Reason == PortStatusReason.Delete) _ports.TryRemove(status.Port.PortNo, out _);
                else _ports[status.Port.PortNo] = status.Port;
                PortStatusReceived?.Invoke(this, status);
                return null;
            case PacketIn packetIn:
                PacketInReceived?.Invoke(this, packetIn);
                return null;
            default:
                return $"unexpected message type {(byte)message.Type} ({message.Type}) from a switch";
        }
    }

    /// <summary>Sends one message; assigns an xid when it has none.</summary>
    public ValueTask<uint> SendAsync(OfpMessage message, CancellationToken ct = default) => SendManyAsync([message], ct);

    /// <summary>Writes every message under the write lock with one flush; returns the xid of the last one.</summary>
    public async ValueTask<uint> SendManyAsync(IReadOnlyList<OfpMessage> messages, CancellationToken ct = default)
    {
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_writesCompleted) throw new OpenFlowSessionException($"session {Name} is closed: {(_closed.Task.IsCompleted ? _closed.Task.Result : "closing")}");
            uint last = 0;
            foreach (var m in messages)
            {
                var span = _pipe.Output.GetSpan(m.EncodedLength);
                m.TryEncode(span, out int written);
                _pipe.Output.Advance(written);
                last = m.Xid;
            }
            var flush = await _pipe.Output.FlushAsync(ct).ConfigureAwait(false);
            if (flush.IsCompleted) throw new OpenFlowSessionException($"session {Name}: the switch stopped reading");
            return last;
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException)
        {
            throw new OpenFlowSessionException($"session {Name}: write failed: {ex.Message}");
        }
        finally { _writeLock.Release(); }
    }

    private async ValueTask TrySendAsync(OfpMessage message)
    {
        // Best effort and bounded: a hostile peer that stops reading must not hold the close up.
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try { await SendAsync(message, limit.Token).ConfigureAwait(false); }
        catch (Exception e) when (e is OpenFlowSessionException or OperationCanceledException) { }
    }

    public uint NextXid()
    {
        uint x = (uint)Interlocked.Increment(ref _xid);
        return x == 0 ? (uint)Interlocked.Increment(ref _xid) : x;
    }

    /// <summary>Sends a request and waits for the reply with the same xid (an ERROR reply throws <see cref="OpenFlowErrorException"/>).</summary>
    public async Task<OfpMessage> RequestAsync(OfpMessage request, CancellationToken ct = default, TimeSpan? timeout = null)
    {
        var msg = request with { Xid = NextXid() };
        var pending = new Pending();
        _pending[msg.Xid] = pending;
        try
        {
            await SendAsync(msg, ct).ConfigureAwait(false);
            var parts = await pending.Task.WaitAsync(timeout ?? _options.RequestTimeout, _time, ct).ConfigureAwait(false);
            return parts[0];
        }
        catch (TimeoutException) { throw new TimeoutException($"switch {Name}: no reply to {request.Type} within {(timeout ?? _options.RequestTimeout).TotalSeconds:0.#} s"); }
        finally { _pending.TryRemove(msg.Xid, out _); }
    }

    /// <summary>Sends a multipart request and collects every reply part (following REPLY_MORE).</summary>
    public async Task<IReadOnlyList<MultipartReply>> MultipartAsync(MultipartRequest request, CancellationToken ct = default)
    {
        var msg = request with { Xid = NextXid() };
        var pending = new Pending();
        _pending[msg.Xid] = pending;
        try
        {
            await SendAsync(msg, ct).ConfigureAwait(false);
            var parts = await pending.Task.WaitAsync(_options.RequestTimeout, _time, ct).ConfigureAwait(false);
            return parts.Cast<MultipartReply>().ToList();
        }
        catch (TimeoutException) { throw new TimeoutException($"switch {Name}: no complete reply to multipart {request.MultipartType} within {_options.RequestTimeout.TotalSeconds:0.#} s"); }
        finally { _pending.TryRemove(msg.Xid, out _); }
    }

    public Task BarrierAsync(CancellationToken ct = default) => RequestAsync(new BarrierRequest(), ct);

    /// <summary>
    /// Sends <paramref name="messages"/> followed by a BARRIER and waits for the barrier reply.
    /// The switch reports errors for earlier messages before the barrier reply (spec §6.2), so the
    /// returned list holds every ERROR the switch sent for these messages (empty on success).
    /// Concurrent calls share writes and barriers (see <see cref="Submit"/>).
    /// </summary>
    public Task<IReadOnlyList<ErrorMessage>> ApplyWithBarrierAsync(IReadOnlyList<OfpMessage> messages, CancellationToken ct = default) =>
        Submit(messages).Confirmed.WaitAsync(ct);

    private int _bundleId;

    /// <summary>
    /// Applies <paramref name="messages"/> as one ONF bundle (ATOMIC | ORDERED): OPEN, one ADD_MESSAGE per message
    /// followed by a barrier, then COMMIT. The switch applies all or none of them at the commit and forwards on its old
    /// tables until then. A switch that refuses to open a bundle (no ONF bundle support) gets nothing and the result
    /// says <see cref="BundleOutcome.Unsupported"/>; a message it refuses, or a failed commit, discards the bundle and
    /// leaves the switch as it was.
    /// </summary>
    public async Task<BundleResult> ApplyInBundleAsync(IReadOnlyList<OfpMessage> messages, CancellationToken ct = default)
    {
        uint id = (uint)Interlocked.Increment(ref _bundleId);
        const ushort flags = OfpBundle.FlagAtomic | OfpBundle.FlagOrdered;
        try { await RequestAsync(new BundleControl(id, BundleControlType.OpenRequest, flags), ct).ConfigureAwait(false); }
        catch (OpenFlowErrorException e) { return new BundleResult(BundleOutcome.Unsupported, [e.Error]); }

        var adds = new OfpMessage[messages.Count];
        for (int i = 0; i < adds.Length; i++) adds[i] = new BundleAdd(id, flags, messages[i]);
        var write = Submit(adds);
        var errors = await write.Confirmed.WaitAsync(ct).ConfigureAwait(false);
        if (errors.Count > 0)
        {
            await DiscardQuietlyAsync(id, flags).ConfigureAwait(false);
            return new BundleResult(BundleOutcome.Refused, errors);
        }
        try
        {
            var reply = await RequestAsync(new BundleControl(id, BundleControlType.CommitRequest, flags), ct).ConfigureAwait(false);
            return reply is BundleControl { ControlType: BundleControlType.CommitReply }
                ? new BundleResult(BundleOutcome.Committed, [])
                : throw new OpenFlowSessionException($"switch {Name} answered a bundle commit with {reply.Type}");
        }
        catch (OpenFlowErrorException e) { return new BundleResult(BundleOutcome.Refused, [e.Error]); }
    }

    private async Task DiscardQuietlyAsync(uint id, ushort flags)
    {
        try { await RequestAsync(new BundleControl(id, BundleControlType.DiscardRequest, flags)).ConfigureAwait(false); }
        catch (Exception e) when (e is OpenFlowSessionException or TimeoutException) { } // the switch times an idle bundle out itself (10 s in OVS)
    }

    /// <summary>
    /// Queues <paramref name="messages"/> for the switch and returns at once. Everything queued while a write is
    /// under way goes out in the next write, followed by ONE barrier that confirms all of it (group commit): under
    /// load, concurrent transactions to a switch cost one flush and one barrier round trip between them, not one
    /// each. Each message keeps its own xid, so an ERROR is charged to the submission that sent it.
    /// <see cref="SwitchWrite.Written"/> completes when the bytes are flushed to the connection;
    /// <see cref="SwitchWrite.Confirmed"/> when the barrier reply arrives (with this submission's errors), or
    /// faults on close or after <see cref="OpenFlowOptions.RequestTimeout"/>.
    /// </summary>
    public SwitchWrite Submit(IReadOnlyList<OfpMessage> messages)
    {
        // The messages are not cloned to carry their xids: a run of xids is reserved and written over each header as
        // it is encoded, so the caller's (often shared, immutable) message objects go out as they are.
        var write = new SwitchWrite(this, messages, ReserveXids(messages.Count));
        if (IsClosed) write.Abort(_closed.Task.Result);
        else
        {
            _queue.Enqueue(write);
            // Idle channel: write here and now (OpenFlowOptions.WriteOnSubmitter). Otherwise the pump runs after the
            // current work item: whatever else this caller submits before it yields rides in the same write and barrier.
            if (Interlocked.CompareExchange(ref _pumping, 1, 0) == 0)
            {
                if (_options.WriteOnSubmitter) _ = PumpAsync(onSubmitter: true);
                else ThreadPool.UnsafeQueueUserWorkItem(static s => _ = s.PumpAsync(), this, preferLocal: true);
            }
            if (IsClosed) FailQueued(_closed.Task.IsCompleted ? _closed.Task.Result : "closing");
        }
        return write;
    }

    /// <summary>The first of <paramref name="count"/> consecutive xids, none of them 0.</summary>
    private uint ReserveXids(int count)
    {
        while (true)
        {
            uint last = (uint)Interlocked.Add(ref _xid, count);
            uint first = last - (uint)count + 1;
            // A run that wraps through 0 is skipped (0 means "no xid" to the callers that assign their own).
            if (count == 0 || first <= last && first != 0) return count == 0 ? last : first;
        }
    }

    /// <summary>
    /// Drains the submission queue: one pass writes everything queued so far plus one barrier, then flushes.
    /// Submissions made during the flush wait for the next pass. Runs on one task at a time.
    /// </summary>
    private async Task PumpAsync(bool onSubmitter = false)
    {
        var taken = _taken; // one pump at a time (_pumping), so one list per channel rather than one per pump run
        for (int pass = 0; ; pass++)
        {
            if (onSubmitter && pass > 0)
            {
                // The submitter wrote its own pass; the rest is the pool's (the pump stays claimed: it hands over).
                if (_queue.IsEmpty)
                {
                    Volatile.Write(ref _pumping, 0);
                    if (_queue.IsEmpty || Interlocked.CompareExchange(ref _pumping, 1, 0) != 0) return;
                }
                ThreadPool.UnsafeQueueUserWorkItem(static s => _ = s.PumpAsync(), this, preferLocal: true);
                return;
            }
            int max = _options.MaxBatchesInFlight;
            if (max > 0 && Volatile.Read(ref _inFlight) >= max)
            {
                // Full: the next barrier reply restarts the pump (ConfirmBatch); re-checked after letting go, since
                // that reply may have come between the check and the release.
                Volatile.Write(ref _pumping, 0);
                if (Volatile.Read(ref _inFlight) < max && !_queue.IsEmpty && Interlocked.CompareExchange(ref _pumping, 1, 0) == 0) continue;
                return;
            }
            taken.Clear();
            while (_queue.TryDequeue(out var w)) taken.Add(w);
            if (taken.Count == 0)
            {
                Volatile.Write(ref _pumping, 0);
                // A submission that arrived between the last dequeue and the release would otherwise wait forever.
                if (_queue.IsEmpty || Interlocked.CompareExchange(ref _pumping, 1, 0) != 0) return;
                continue;
            }
            uint barrierXid = NextXid();
            var batch = new BarrierBatch(taken.ToArray(), _time.GetTimestamp());
            _barriers[barrierXid] = batch;
            Interlocked.Increment(ref _inFlight);
            bool locked = false;
            try
            {
                await _writeLock.WaitAsync().ConfigureAwait(false);
                locked = true;
                if (_writesCompleted) throw new OpenFlowSessionException($"session {Name} is closed: {(_closed.Task.IsCompleted ? _closed.Task.Result : "closing")}");
                foreach (var w in batch.Writes)
                {
                    var messages = w.Messages;
                    for (int i = 0; i < messages.Count; i++) Encode(messages[i], w.FirstXid + (uint)i);
                }
                EncodeBarrier(barrierXid);
                var flush = await _pipe.Output.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted) throw new OpenFlowSessionException($"session {Name}: the switch stopped reading");
                foreach (var w in batch.Writes) w.MarkWritten();
                // An infinite (or absurdly long) timeout never fires, as a timer created with it never did.
                var timeout = _options.RequestTimeout;
                batch.Deadline = timeout == Timeout.InfiniteTimeSpan || timeout > TimeSpan.FromDays(365) ? DateTimeOffset.MaxValue : _time.GetUtcNow() + timeout;
                if (batch.Deadline != DateTimeOffset.MaxValue) ArmBarrierTimer(batch.Deadline);
            }
            catch (Exception ex) when (ex is OpenFlowSessionException or IOException or InvalidOperationException or ObjectDisposedException)
            {
                if (_barriers.TryRemove(barrierXid, out _)) Interlocked.Decrement(ref _inFlight);
                foreach (var w in batch.Writes) w.Abort(ex is OpenFlowSessionException ? ex.Message : $"session {Name}: write failed: {ex.Message}");
            }
            finally { if (locked) _writeLock.Release(); }
        }
    }

    private void Encode(OfpMessage m, uint xid)
    {
        int length = m.EncodedLength;
        var span = _pipe.Output.GetSpan(length);
        m.TryEncode(span, out int written);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(span[4..], xid);
        // A bundled message carries the outer xid in its own header too (the switch refuses any other: MSG_BAD_XID).
        if (m is BundleAdd) System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(span[(OfpBundle.AddInnerOffset + 4)..], xid);
        _pipe.Output.Advance(written);
    }

    private void EncodeBarrier(uint xid)
    {
        var span = _pipe.Output.GetSpan(Ofp.HeaderLength);
        new OfpHeader(Ofp.Version13, OfpType.BarrierRequest, Ofp.HeaderLength, xid).WriteTo(span);
        _pipe.Output.Advance(Ofp.HeaderLength);
    }

    /// <summary>Completes the batch the barrier <paramref name="xid"/> confirms; false when no batch waits for it.</summary>
    private bool ConfirmBatch(uint xid)
    {
        if (!_barriers.TryRemove(xid, out var batch)) return false;
        Released();
        BarrierCompleted?.Invoke(this, _time.GetElapsedTime(batch.SentAt));
        // Completing only sets results (continuations run on the pool): the read loop goes straight on.
        foreach (var w in batch.Writes) w.Confirm();
        return true;
    }

    /// <summary>The written submission whose xid run holds <paramref name="xid"/> (an ERROR arrives before its batch's barrier reply).</summary>
    private SwitchWrite? FindWrite(uint xid)
    {
        foreach (var batch in _barriers.Values)
            foreach (var w in batch.Writes)
                if (xid - w.FirstXid < (uint)w.Messages.Count) return w;
        return null;
    }

    /// <summary>A batch left the table: its slot is free, so whatever queued meanwhile goes out now.</summary>
    private void Released()
    {
        Interlocked.Decrement(ref _inFlight);
        if (!_queue.IsEmpty && !IsClosed && Interlocked.CompareExchange(ref _pumping, 1, 0) == 0)
            ThreadPool.UnsafeQueueUserWorkItem(static s => _ = s.PumpAsync(), this, preferLocal: true);
    }

    internal void TimeOut(uint barrierXid)
    {
        if (!_barriers.TryRemove(barrierXid, out var batch)) return;
        Released();
        foreach (var w in batch.Writes) w.TimeOut();
    }

    /// <summary>Submissions written together and confirmed by one barrier; the channel's one timer watches its deadline.</summary>
    private sealed class BarrierBatch(SwitchWrite[] writes, long sentAt)
    {
        public SwitchWrite[] Writes { get; } = writes;
        public long SentAt { get; } = sentAt;

        /// <summary>When the batch times out unless its barrier reply came (set once written).</summary>
        public DateTimeOffset Deadline { get; set; } = DateTimeOffset.MaxValue;
    }

    // One timer per channel for every batch awaiting its barrier, not one per batch: creating and disposing a timer for
    // each batch took the timer queue's lock and two allocations per switch write under load. The timer stays armed for
    // the earliest deadline it knows of; a batch confirmed before it does not disarm it — when it fires it times out
    // what is overdue and re-arms for the earliest deadline left, so under steady load it fires once per RequestTimeout.
    private readonly Lock _timerGate = new();
    private ITimer? _barrierTimer;
    private DateTimeOffset _timerDue = DateTimeOffset.MaxValue; // MaxValue: not armed
    private bool _timerClosed;

    /// <summary>A timer is armed that fires no later than <paramref name="deadline"/>.</summary>
    private void ArmBarrierTimer(DateTimeOffset deadline)
    {
        lock (_timerGate)
        {
            if (_timerClosed || _timerDue <= deadline) return;
            _timerDue = deadline;
            // Never less than 1 ms: the system timer counts whole milliseconds, and OnBarrierTimer forgives 1 ms early.
            var due = deadline - _time.GetUtcNow();
            if (due < TimeSpan.FromMilliseconds(1)) due = TimeSpan.FromMilliseconds(1);
            _barrierTimer ??= _time.CreateTimer(static s => ((OpenFlowSession)s!).OnBarrierTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _barrierTimer.Change(due, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnBarrierTimer()
    {
        lock (_timerGate) _timerDue = DateTimeOffset.MaxValue;
        // The system timer rounds to whole milliseconds and may fire up to one early: what is due within 1 ms is due.
        var now = _time.GetUtcNow() + TimeSpan.FromMilliseconds(1);
        var next = DateTimeOffset.MaxValue;
        foreach (var (xid, batch) in _barriers)
        {
            if (batch.Deadline <= now) TimeOut(xid);
            else if (batch.Deadline < next) next = batch.Deadline;
        }
        if (next != DateTimeOffset.MaxValue) ArmBarrierTimer(next);
    }

    private void CloseBarrierTimer()
    {
        lock (_timerGate)
        {
            _timerClosed = true;
            _barrierTimer?.Dispose();
            _barrierTimer = null;
        }
    }

    private void FailQueued(string reason)
    {
        while (_queue.TryDequeue(out var w)) w.Abort(reason);
    }

    /// <summary>Closes the session (idempotent): pending requests fail, the pipe is completed.</summary>
    public async ValueTask CloseAsync(string reason)
    {
        if (!_closed.TrySetResult(reason)) return;
        Log.Closed(_logger, Name, reason);
        _ready.TrySetException(new OpenFlowSessionException($"session closed: {reason}"));
        _hello.TrySetCanceled();
        foreach (var p in _pending.Values) p.Abort(reason);
        foreach (var xid in _barriers.Keys)
            if (_barriers.TryRemove(xid, out var batch)) { Interlocked.Decrement(ref _inFlight); foreach (var w in batch.Writes) w.Abort(reason); }
        CloseBarrierTimer();
        FailQueued(reason);
        _closing.Cancel();
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            _writesCompleted = true;
            // Completing flushes what is buffered; a switch that already hung up makes that throw, and a close must not.
            try { await _pipe.Output.CompleteAsync().ConfigureAwait(false); }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException) { }
        }
        finally { _writeLock.Release(); }
    }

    /// <summary>
    /// Closes the session. <c>_closing</c> is deliberately not disposed: a close already under way on another
    /// thread (the listener stopping while the switch hangs up) may still be about to cancel it, and a token
    /// source with no timer holds nothing a dispose would free.
    /// </summary>
    public ValueTask DisposeAsync() => CloseAsync("disposed");

    private sealed class Pending
    {
        private readonly TaskCompletionSource<List<OfpMessage>> _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private List<OfpMessage>? _parts;
        private long _bytes;

        public Task<List<OfpMessage>> Task => _tcs.Task;
        public ErrorMessage? Error { get; private set; }

        public void Complete(OfpMessage m) => _tcs.TrySetResult([m]);

        public void Fail(ErrorMessage e)
        {
            Error = e;
            _tcs.TrySetException(new OpenFlowErrorException(e));
        }

        public void Abort(string reason) => _tcs.TrySetException(new OpenFlowSessionException($"session closed: {reason}"));

        /// <summary>False when the multipart sequence grows past the limit.</summary>
        public bool AddPart(MultipartReply part, int maxBytes)
        {
            _parts ??= [];
            _parts.Add(part);
            _bytes += part.EncodedLength;
            if (_bytes > maxBytes) { Abort("multipart reply too large"); return false; }
            if (!part.More) _tcs.TrySetResult(_parts);
            return true;
        }
    }
}

/// <summary>How <see cref="OpenFlowSession.ApplyInBundleAsync"/> ended.</summary>
public enum BundleOutcome
{
    /// <summary>Every message applied at once.</summary>
    Committed,
    /// <summary>The switch would not open a bundle; nothing was sent.</summary>
    Unsupported,
    /// <summary>The switch refused a message or the commit; the bundle was discarded and nothing applied.</summary>
    Refused,
}

/// <summary>The outcome and the switch's ERRORs (empty when committed).</summary>
public sealed record BundleResult(BundleOutcome Outcome, IReadOnlyList<ErrorMessage> Errors);
