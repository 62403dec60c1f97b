using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Transfer.Storage;
using SubsetMulticast.Transfer.Transport;
using SubsetMulticast.Transfer.Wire;

namespace SubsetMulticast.Transfer.Receiving;

/// <summary>
/// The storage server's half of the protocol (drafts/rendezvous-transfer.md §4.2): answers proposals on the
/// negotiating group with a bid, "already stored" or "not now"; takes a rendezvous naming it; receives the
/// chunk's datagrams from the rendezvous group — through the transport's tap, never by joining it — or by
/// unicast; rebuilds losses from parity; answers polls with the ranges it holds; verifies the SHA-256, writes
/// atomically and reports "stored"; serves gets. Every malformed, forged, replayed or stray datagram is dropped
/// and counted in <see cref="Counters"/>; nothing here throws on input.
/// </summary>
public sealed class ChunkServer : IDatagramSink, IAsyncDisposable
{
    private readonly IDatagramTransport _transport;
    private readonly IChunkStore _store;
    private readonly ChunkServerOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<ulong, ReceiveSession> _sessions = [];
    private readonly Dictionary<ulong, long> _bids = [];
    private readonly ITimer _sweep;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _writes = [];
    private int _active;
    private int _background;

    public ChunkServer(IDatagramTransport transport, IChunkStore store, ChunkServerOptions? options = null, TimeProvider? time = null)
    {
        _transport = transport;
        _store = store;
        _options = options ?? new ChunkServerOptions();
        _time = time ?? TimeProvider.System;
        _sweep = _time.CreateTimer(_ => Sweep(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    public ReceiverCounters Counters { get; } = new();
    public IChunkStore Store => _store;
    public IpAddress Address => _transport.Address;

    /// <summary>Raised after a chunk was verified and written (on the writing task).</summary>
    public event Action<ChunkId>? ChunkStored;

    /// <summary>Joins the negotiating groups (the only joins a server makes) and starts receiving.</summary>
    public void Start()
    {
        foreach (var g in _options.NegotiatingGroups) _transport.JoinReference(g);
        _transport.Start(this);
    }

    /// <summary>Transfers in progress (buffers held).</summary>
    public int ActiveTransfers { get { lock (_gate) return _active; } }

    /// <summary>
    /// Work under way off the receive thread: chunks being verified and written, gets being served. Each counts until
    /// what it sends has been handed to the transport.
    /// </summary>
    public int BackgroundTasks => Volatile.Read(ref _background);

    public void OnDatagram(IpAddress source, ushort sourcePort, IpAddress destination, ReadOnlySpan<byte> payload)
    {
        var status = TransferHeader.TryRead(payload, out var type, out ulong tx);
        if (status != ReadStatus.Ok) { Counters.Drop(status == ReadStatus.Truncated ? DropReason.Truncated : DropReason.NotOurs); return; }
        switch (type)
        {
            case MessageType.Proposal: OnProposal(source, sourcePort, payload); break;
            case MessageType.Rendezvous: OnRendezvous(source, sourcePort, destination, payload); break;
            case MessageType.Data or MessageType.Parity: OnData(source, destination, payload); break;
            case MessageType.Poll: OnPoll(source, sourcePort, payload); break;
            case MessageType.GetRequest: OnGetRequest(source, sourcePort, payload); break;
            case MessageType.GetFetch: OnGetFetch(source, sourcePort, payload); break;
            default: Counters.Drop(DropReason.UnexpectedType); break;
        }
    }

    private void Drop(ReadStatus s) => Counters.Drop(s switch
    {
        ReadStatus.Truncated => DropReason.Truncated,
        ReadStatus.OutOfRange => DropReason.OutOfRange,
        _ => DropReason.NotOurs,
    });

    private void OnProposal(IpAddress source, ushort port, ReadOnlySpan<byte> d)
    {
        var s = ProposalMessage.TryRead(d, out var p);
        if (s != ReadStatus.Ok) { Drop(s); return; }
        Span<byte> reply = stackalloc byte[BidMessage.Length];
        var id = ChunkId.From(p.ChunkId);
        int n;
        if (_store.Contains(id))
        {
            Counters.AlreadyStoredOne();
            n = ChunkMessage.Write(reply, MessageType.AlreadyStored, p.Transaction, p.ChunkId);
        }
        else if (p.Size > _options.MaxChunkBytes || _store.FreeBytes < p.Size)
        {
            Counters.NotNowOne();
            n = ChunkMessage.Write(reply, MessageType.NotNow, p.Transaction, p.ChunkId, value: 0, code: (byte)NotNowReason.NoSpace);
        }
        else
        {
            lock (_gate)
            {
                long now = _time.GetTimestamp();
                // Only transfers under way count: a bid holds no buffer, and most bids are not chosen (the client takes
                // replicas of them), so counting held bids would turn away puts for BidHold after every proposal.
                if (_active >= _options.MaxConcurrentTransfers)
                {
                    Counters.NotNowOne();
                    n = ChunkMessage.Write(reply, MessageType.NotNow, p.Transaction, p.ChunkId, value: 50, code: (byte)NotNowReason.Busy);
                }
                else
                {
                    _bids[p.Transaction] = now;
                    Counters.Bid();
                    // Earliest start: now, unless transfers are running; then after a share of their time.
                    uint delay = (uint)(_active * 1000);
                    n = BidMessage.Write(reply, p.Transaction, p.ChunkId, delay, _options.BidRateBytesPerSecond, _store.FreeBytes);
                }
            }
        }
        _transport.Send(source, port, reply[..n]);
    }

    private void OnRendezvous(IpAddress source, ushort port, IpAddress destination, ReadOnlySpan<byte> d)
    {
        var s = RendezvousMessage.TryRead(d, out var r);
        if (s != ReadStatus.Ok) { Drop(s); return; }
        // A rendezvous comes by unicast to us and must list us.
        if (destination != _transport.Address) { Counters.Drop(DropReason.WrongGroup); return; }
        bool listed = false;
        for (int i = 0; i < r.MemberCount && !listed; i++) listed = r.Member(i) == _transport.Address;
        if (!listed || r.Size > _options.MaxChunkBytes) { Counters.Drop(DropReason.OutOfRange); return; }
        Span<byte> reply = stackalloc byte[ChunkMessage.Length];
        byte code = 0;
        var id = ChunkId.From(r.ChunkId);
        lock (_gate)
        {
            if (_sessions.TryGetValue(r.Transaction, out var existing))
            {
                // A repeated rendezvous (our Ready was lost): same answer, unless it is a different transfer under the same id.
                if (existing.Client != source || !existing.ChunkId.AsSpan().SequenceEqual(r.ChunkId)) { Counters.Drop(DropReason.WrongSource); return; }
                code = existing.State == SessionState.Done ? (byte)existing.Outcome : (byte)0;
            }
            else if (_store.Contains(id)) code = (byte)TargetOutcome.AlreadyHeld;
            else if (_active >= _options.MaxConcurrentTransfers && !_bids.ContainsKey(r.Transaction)) code = (byte)TargetOutcome.Busy;
            else
            {
                _bids.Remove(r.Transaction);
                var session = new ReceiveSession(r.Transaction, in r, source, port, _time.GetTimestamp());
                _sessions[r.Transaction] = session;
                _active++;
                if (session.Count == 0) StartWrite(session);
            }
        }
        int n = ChunkMessage.Write(reply, MessageType.Ready, r.Transaction, r.ChunkId, code: code);
        _transport.Send(source, port, reply[..n]);
    }

    private void OnData(IpAddress source, IpAddress destination, ReadOnlySpan<byte> d)
    {
        var s = DataMessage.TryRead(d, out var m);
        if (s != ReadStatus.Ok) { Drop(s); return; }
        lock (_gate)
        {
            if (!_sessions.TryGetValue(m.Transaction, out var session)) { Counters.Drop(DropReason.UnknownTransaction); return; }
            if (destination != session.Group && destination != _transport.Address) { Counters.Drop(DropReason.WrongGroup); return; }
            if (source != session.Client) { Counters.Drop(DropReason.WrongSource); return; }
            if (session.Accept(in m, Counters) is { } reason) { Counters.Drop(reason); return; }
            Counters.Data();
            session.LastActivity = _time.GetTimestamp();
            if (session.Complete) StartWrite(session);
        }
    }

    /// <summary>Verifies and writes a complete chunk off the receive thread, then reports the outcome. Under the gate.</summary>
    private void StartWrite(ReceiveSession session)
    {
        session.State = SessionState.Writing;
        Interlocked.Increment(ref _background);
        var task = Task.Run(async () =>
        {
            try { await VerifyAndWriteAsync(session).ConfigureAwait(false); }
            finally { Interlocked.Decrement(ref _background); }
        });
        _writes.Add(task);
        if (_writes.Count > 64) _writes.RemoveAll(t => t.IsCompleted);
    }

    private async Task VerifyAndWriteAsync(ReceiveSession session)
    {
        var content = session.Buffer.AsMemory(0, (int)session.Size);
        TargetOutcome outcome;
        var id = ChunkId.From(session.ChunkId);
        if (!ChunkId.Matches(content.Span, session.ChunkId))
        {
            Counters.Drop(DropReason.HashMismatch);
            lock (_gate)
            {
                if (session.Resets < _options.HashMismatchRetries)
                {
                    session.Reset();
                    session.LastActivity = _time.GetTimestamp();
                    return;
                }
            }
            outcome = TargetOutcome.HashMismatch;
        }
        else
        {
            try
            {
                await _store.WriteAsync(id, content, _stopping.Token).ConfigureAwait(false);
                Counters.StoredOne();
                outcome = TargetOutcome.Stored;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
            {
                outcome = TargetOutcome.WriteFailed;
            }
        }
        lock (_gate)
        {
            session.Outcome = outcome;
            session.State = SessionState.Done;
            session.LastActivity = _time.GetTimestamp();
            session.Dispose();
            _active--;
        }
        SendOutcome(session);
        if (outcome == TargetOutcome.Stored) ChunkStored?.Invoke(id);
    }

    private void SendOutcome(ReceiveSession session)
    {
        Span<byte> reply = stackalloc byte[ChunkMessage.Length];
        int n = ChunkMessage.Write(reply, MessageType.Outcome, session.Transaction, session.ChunkId, code: (byte)session.Outcome);
        _transport.Send(session.Client, session.ClientPort, reply[..n]);
    }

    private void OnPoll(IpAddress source, ushort port, ReadOnlySpan<byte> d)
    {
        var s = PollMessage.TryRead(d, out ulong tx, out int round);
        if (s != ReadStatus.Ok) { Drop(s); return; }
        ReceiveSession? done = null;
        Span<byte> ack = stackalloc byte[AckMessage.FixedLength + 8 * 160];
        int n = 0;
        lock (_gate)
        {
            if (!_sessions.TryGetValue(tx, out var session)) { Counters.Drop(DropReason.UnknownTransaction); return; }
            if (source != session.Client) { Counters.Drop(DropReason.WrongSource); return; }
            session.LastActivity = _time.GetTimestamp();
            if (session.State == SessionState.Done) done = session;
            else
            {
                AckMessage.WriteFixed(ack, MessageType.Ack, tx, round, session.State == SessionState.Writing ? AckState.Writing : AckState.Receiving, session.Received);
                // 160 ranges keep an Ack under a 1500-byte MTU.
                int ranges = 0;
                bool truncated = false;
                if (session.State != SessionState.Writing) ranges = session.WriteRanges(ack, 160, out truncated);
                n = AckMessage.Finish(ack, ranges, truncated);
            }
        }
        if (done is not null) SendOutcome(done);
        else _transport.Send(source, port, ack[..n]);
    }

    private void OnGetRequest(IpAddress source, ushort port, ReadOnlySpan<byte> d)
    {
        var s = ChunkMessage.TryRead(d, out var m);
        if (s != ReadStatus.Ok || m.Type != MessageType.GetRequest) { Drop(s == ReadStatus.Ok ? ReadStatus.NotOurs : s); return; }
        var id = ChunkId.From(m.ChunkId);
        var content = _store.Read(id);
        if (content is null) return;   // only holders answer: silence is "not here"
        Span<byte> reply = stackalloc byte[ChunkMessage.Length];
        int n = ChunkMessage.Write(reply, MessageType.GetHave, m.Transaction, m.ChunkId, value: (uint)_options.GetDatagramPayload, size: content.Length);
        lock (_gate) _served[m.Transaction] = (content, _time.GetTimestamp());
        _transport.Send(source, port, reply[..n]);
    }

    private readonly Dictionary<ulong, (byte[] Content, long At)> _served = [];

    private void OnGetFetch(IpAddress source, ushort port, ReadOnlySpan<byte> d)
    {
        var s = AckMessage.TryRead(d, out var m);
        if (s != ReadStatus.Ok || m.Type != MessageType.GetFetch) { Drop(s == ReadStatus.Ok ? ReadStatus.NotOurs : s); return; }
        byte[] content;
        lock (_gate)
        {
            if (!_served.TryGetValue(m.Transaction, out var entry)) { Counters.Drop(DropReason.UnknownTransaction); return; }
            content = entry.Content;
        }
        int payload = _options.GetDatagramPayload;
        int count = (content.Length + payload - 1) / payload;
        var ranges = new List<(int Start, int Count)>(m.RangeCount);
        for (int i = 0; i < m.RangeCount; i++)
        {
            var (start, c) = m.Range(i);
            if (start >= count) { Counters.Drop(DropReason.OutOfRange); return; }
            ranges.Add(((int)start, (int)Math.Min(c, (uint)(count - (int)start))));
        }
        ulong tx = m.Transaction;
        Interlocked.Increment(ref _background);
        _ = Task.Run(async () =>
        {
            try
            {
                var pacer = new Pacer(_options.GetRateBytesPerSecond, _time);
                var buffer = new byte[DataMessage.HeaderLength + payload];
                foreach (var (start, c) in ranges)
                    for (int i = start; i < start + c; i++)
                    {
                        int len = Math.Min(payload, content.Length - i * payload);
                        DataMessage.WriteHeader(buffer, MessageType.GetData, tx, (uint)i);
                        content.AsSpan(i * payload, len).CopyTo(buffer.AsSpan(DataMessage.HeaderLength));
                        _transport.Send(source, port, buffer.AsSpan(0, DataMessage.HeaderLength + len));
                        await pacer.WaitAsync(len, _stopping.Token).ConfigureAwait(false);
                    }
            }
            finally
            {
                Interlocked.Decrement(ref _background);
            }
        });
    }

    /// <summary>Abandons idle transfers and forgets finished ones after the linger time.</summary>
    private void Sweep()
    {
        lock (_gate)
        {
            long now = _time.GetTimestamp();
            foreach (var (tx, session) in _sessions.ToList())
            {
                var idle = _time.GetElapsedTime(session.LastActivity, now);
                if (session.State == SessionState.Receiving && idle > _options.IdleTimeout)
                {
                    session.Dispose();
                    _sessions.Remove(tx);
                    _active--;
                }
                else if (session.State == SessionState.Done && idle > _options.Linger) _sessions.Remove(tx);
            }
            foreach (var (tx, at) in _bids.ToList()) if (_time.GetElapsedTime(at, now) > _options.BidHold) _bids.Remove(tx);
            foreach (var (tx, e) in _served.ToList()) if (_time.GetElapsedTime(e.At, now) > _options.Linger) _served.Remove(tx);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _sweep.Dispose();
        Task[] writes;
        lock (_gate) writes = [.. _writes];
        try { await Task.WhenAll(writes).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false); } catch (TimeoutException) { }
        _stopping.Cancel();
        await _transport.DisposeAsync().ConfigureAwait(false);
        lock (_gate)
        {
            foreach (var s in _sessions.Values) if (s.State == SessionState.Receiving) s.Dispose();
            _sessions.Clear();
        }
        _stopping.Dispose();
    }
}

/// <summary>Why a server said "not now".</summary>
public enum NotNowReason : byte
{
    Busy = 1,
    NoSpace = 2,
}
