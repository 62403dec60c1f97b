using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Threading.Channels;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Transfer.Fec;
using SubsetMulticast.Transfer.Groups;
using SubsetMulticast.Transfer.Receiving;
using SubsetMulticast.Transfer.Storage;
using SubsetMulticast.Transfer.Transport;
using SubsetMulticast.Transfer.Wire;

namespace SubsetMulticast.Transfer.Sending;

/// <summary>
/// The client half (drafts/rendezvous-transfer.md §4.1). <see cref="PutAsync"/> is Replicast's put: a proposal to
/// the negotiating group, bids, the client picks targets. <see cref="PushAsync"/> is the MPI-style push to named
/// ranks of a reference group. Both then get a rendezvous group from the controller, tell each target (unicast
/// rendezvous), send the chunk once as paced datagrams (with optional parity and AES-GCM), poll for aggregate
/// acks, repair only what is missing by multicast in bounded rounds, fall back to unicast for stragglers, and
/// report every target's outcome. If the controller is unreachable or refuses, the chunk goes by unicast
/// fan-out and the result says why. <see cref="GetAsync"/> fetches a chunk from the first server that has it.
/// </summary>
public sealed class TransferClient : IDatagramSink, IAsyncDisposable
{
    private readonly IDatagramTransport _transport;
    private readonly IRendezvousGroups? _groups;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<ulong, Channel<Reply>> _waiting = new();
    private readonly ConcurrentDictionary<ulong, GetSession> _gets = new();
    private long _dropped;

    public TransferClient(IDatagramTransport transport, IRendezvousGroups? groups, TimeProvider? time = null)
    {
        _transport = transport;
        _groups = groups;
        _time = time ?? TimeProvider.System;
        _transport.Start(this);
    }

    /// <summary>Datagrams the client dropped (malformed, or for no transaction of ours).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public void OnDatagram(IpAddress source, ushort sourcePort, IpAddress destination, ReadOnlySpan<byte> payload)
    {
        if (TransferHeader.TryRead(payload, out var type, out ulong tx) != ReadStatus.Ok) { Interlocked.Increment(ref _dropped); return; }
        if (type == MessageType.GetData)
        {
            if (DataMessage.TryRead(payload, out var d) == ReadStatus.Ok && _gets.TryGetValue(tx, out var get)) get.Accept(d.Index, d.Payload);
            else Interlocked.Increment(ref _dropped);
            return;
        }
        if (!_waiting.TryGetValue(tx, out var channel)) { Interlocked.Increment(ref _dropped); return; }
        var reply = new Reply { Type = type, From = source };
        switch (type)
        {
            case MessageType.Bid when BidMessage.TryRead(payload, out var b) == ReadStatus.Ok:
                reply.Rate = b.RateBytesPerSecond; reply.Free = b.FreeBytes; reply.StartDelayMicros = b.StartDelayMicros;
                break;
            case MessageType.Ack when AckMessage.TryRead(payload, out var a) == ReadStatus.Ok:
                reply.Round = a.Round; reply.State = a.State & ~AckState.Truncated; reply.Received = a.Received; reply.Truncated = a.Truncated;
                reply.Ranges = new (uint, uint)[a.RangeCount];
                for (int i = 0; i < a.RangeCount; i++) reply.Ranges[i] = a.Range(i);
                break;
            case MessageType.AlreadyStored or MessageType.NotNow or MessageType.Ready or MessageType.Outcome or MessageType.GetHave
                when ChunkMessage.TryRead(payload, out var c) == ReadStatus.Ok:
                reply.Code = c.Code; reply.Value = c.Value; reply.Size = c.Size;
                break;
            default:
                Interlocked.Increment(ref _dropped);
                return;
        }
        channel.Writer.TryWrite(reply);
    }

    private Channel<Reply> Register(ulong tx) => _waiting[tx] = Channel.CreateUnbounded<Reply>(new UnboundedChannelOptions { SingleReader = true });

    private static ulong NewTransaction() => BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)) | 1;

    /// <summary>
    /// Reads replies until <paramref name="take"/> says it has all it needs or <paramref name="timeout"/> passes on the
    /// client's clock, cut at <paramref name="deadline"/> (then it throws <see cref="OperationCanceledException"/>).
    /// Replies already queued when the time is up still count: they arrived within it.
    /// </summary>
    private async Task CollectAsync(Channel<Reply> channel, TimeSpan timeout, Func<Reply, bool> take, Deadline deadline, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(deadline.Cut(timeout), _time);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            while (await channel.Reader.WaitToReadAsync(cts.Token).ConfigureAwait(false))
                while (channel.Reader.TryRead(out var r))
                    if (take(r)) return;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The round's time is up.
            while (channel.Reader.TryRead(out var r))
                if (take(r)) return;
            deadline.ThrowIfPassed();
        }
    }

    /// <summary>
    /// When an operation gives up, on the client's clock: a point in time, not a timer. Every wait is cut at it, so the
    /// client holds a timer only while it waits on one, and a fake clock in a test can tell a waiting client from a busy one.
    /// </summary>
    private readonly struct Deadline(TimeProvider time, long started, TimeSpan limit)
    {
        public static Deadline None => new(TimeProvider.System, 0, Timeout.InfiniteTimeSpan);

        public TimeSpan Remaining => limit == Timeout.InfiniteTimeSpan ? TimeSpan.MaxValue : limit - time.GetElapsedTime(started);

        public void ThrowIfPassed()
        {
            if (Remaining <= TimeSpan.Zero) throw new OperationCanceledException("The operation's deadline passed.");
        }

        /// <summary>The wait, or what is left before the deadline if that is shorter; throws if it has passed.</summary>
        public TimeSpan Cut(TimeSpan wait)
        {
            var left = Remaining;
            if (left <= TimeSpan.Zero) throw new OperationCanceledException("The operation's deadline passed.");
            return wait < left ? wait : left;
        }
    }

    // ---------------------------------------------------------------- put

    /// <summary>
    /// Puts a chunk on <see cref="PutOptions.Replicas"/> servers of the negotiating group, chosen by their bids.
    /// Servers that already hold it count toward the replicas.
    /// </summary>
    public async Task<PushResult> PutAsync(ReadOnlyMemory<byte> chunk, IpAddress negotiating, PutOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new PutOptions();
        long started = _time.GetTimestamp();
        byte[] id = SHA256.HashData(chunk.Span);
        ulong tx = NewTransaction();
        var channel = Register(tx);
        try
        {
            var bids = new Dictionary<IpAddress, Reply>();
            var held = new List<IpAddress>();
            var notNow = new Dictionary<IpAddress, Reply>();
            Span<byte> proposal = stackalloc byte[ProposalMessage.Length];
            int n = ProposalMessage.Write(proposal, tx, id, chunk.Length, (byte)options.Replicas);
            byte[] proposalBytes = proposal[..n].ToArray();
            int wanted = options.Replicas + options.SpareBids;
            for (int attempt = 0; attempt < options.ProposalAttempts && bids.Count + held.Count < options.Replicas; attempt++)
            {
                _transport.Send(negotiating, options.Push.ServerPort, proposalBytes);
                await CollectAsync(channel, options.BidTimeout * (attempt + 1), r =>
                {
                    switch (r.Type)
                    {
                        case MessageType.Bid: bids[r.From] = r; notNow.Remove(r.From); break;
                        case MessageType.AlreadyStored: if (!held.Contains(r.From)) held.Add(r.From); break;
                        case MessageType.NotNow: if (!bids.ContainsKey(r.From)) notNow[r.From] = r; break;
                    }
                    return bids.Count + held.Count >= wanted;
                }, Deadline.None, cancellationToken).ConfigureAwait(false);
            }
            var negotiation = _time.GetElapsedTime(started);
            int answers = bids.Count + held.Count + notNow.Count;
            var heldResults = held.Take(options.Replicas).Select(h => new TargetResult(h, TargetOutcome.AlreadyHeld, negotiation)).ToList();
            int need = options.Replicas - heldResults.Count;
            if (need <= 0)
                return new PushResult
                {
                    ChunkId = Convert.ToHexStringLower(id), Size = chunk.Length, Targets = heldResults, Required = options.Replicas,
                    Negotiation = negotiation, Total = negotiation, Bids = answers,
                };
            var chosen = bids.Values.OrderBy(b => b.StartDelayMicros).ThenByDescending(b => b.Rate).ThenBy(b => b.From).Take(need).ToList();
            if (chosen.Count == 0)
                return new PushResult
                {
                    ChunkId = Convert.ToHexStringLower(id), Size = chunk.Length, Required = options.Replicas,
                    Targets = [.. heldResults, .. notNow.Keys.Select(k => new TargetResult(k, TargetOutcome.Busy, negotiation))],
                    Negotiation = negotiation, Total = _time.GetElapsedTime(started), Bids = answers,
                };
            var push = options.Push with
            {
                RateBytesPerSecond = options.Push.RateBytesPerSecond ?? chosen.Min(b => b.Rate),
                MinAcks = need,
            };
            var result = await PushCoreAsync(chunk, id, tx, channel, [.. chosen.Select(b => b.From)], negotiating, push, null, cancellationToken).ConfigureAwait(false);
            return result with
            {
                Targets = [.. heldResults, .. result.Targets],
                Required = options.Replicas,
                Negotiation = negotiation,
                Total = _time.GetElapsedTime(started),
                Bids = answers,
            };
        }
        finally
        {
            _waiting.TryRemove(tx, out _);
        }
    }

    // ---------------------------------------------------------------- push

    /// <summary>
    /// Pushes a buffer to named members of a reference group (MPI-style: the ranks' addresses). Opens a rendezvous
    /// group for this push and releases it after; use <see cref="OpenAsync"/> to keep one for several pushes.
    /// </summary>
    public Task<PushResult> PushAsync(ReadOnlyMemory<byte> buffer, IReadOnlyList<IpAddress> to, IpAddress reference, PushOptions? options = null, CancellationToken cancellationToken = default)
        => PushOnceAsync(buffer, to, reference, options ?? new PushOptions(), null, cancellationToken);

    /// <summary>Opens a rendezvous group for <paramref name="to"/> that several pushes can use within its lease.</summary>
    public async Task<RendezvousGroupHandle> OpenAsync(IReadOnlyList<IpAddress> to, IpAddress reference, PushOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (_groups is null) throw new InvalidOperationException("This client has no controller to open groups with.");
        options ??= new PushOptions();
        var lease = await _groups.OpenAsync(options.Vlan, reference, to, options.GroupTtl, cancellationToken).ConfigureAwait(false);
        return new RendezvousGroupHandle(this, _groups, lease, reference, options);
    }

    internal async Task<PushResult> PushOnceAsync(ReadOnlyMemory<byte> buffer, IReadOnlyList<IpAddress> to, IpAddress reference, PushOptions options, RendezvousLease? lease, CancellationToken cancellationToken)
    {
        byte[] id = SHA256.HashData(buffer.Span);
        ulong tx = NewTransaction();
        var channel = Register(tx);
        try
        {
            return await PushCoreAsync(buffer, id, tx, channel, to, reference, options, lease, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _waiting.TryRemove(tx, out _);
        }
    }

    private async Task<PushResult> PushCoreAsync(ReadOnlyMemory<byte> chunk, byte[] id, ulong tx, Channel<Reply> channel, IReadOnlyList<IpAddress> targets,
        IpAddress reference, PushOptions o, RendezvousLease? lease, CancellationToken cancellationToken)
    {
        if (targets.Count == 0 || targets.Count > TransferHeader.MaxMembers) throw new ArgumentOutOfRangeException(nameof(targets), $"1 to {TransferHeader.MaxMembers} targets.");
        if (o.DatagramPayload is < 64 or > TransferHeader.MaxDatagramPayload) throw new ArgumentOutOfRangeException(nameof(o), "DatagramPayload must be 64 … 8800.");
        long started = _time.GetTimestamp();
        var deadline = new Deadline(_time, started, o.Deadline);
        int datagramsSent = 0, parity = 0, repairRounds = 0, retransmitted = 0, unicastRepair = 0;
        long transferStarted = started;
        TimeSpan setup = default;
        var outcomes = new Dictionary<IpAddress, (TargetOutcome Outcome, TimeSpan? At)>();
        foreach (var t in targets) outcomes[t] = (TargetOutcome.Pending, null);
        void Settle(IpAddress t, TargetOutcome outcome)
        {
            if (outcomes.TryGetValue(t, out var cur) && cur.Outcome == TargetOutcome.Pending) outcomes[t] = (outcome, _time.GetElapsedTime(started));
        }
        List<IpAddress> Pending(IEnumerable<IpAddress> among) => [.. among.Where(t => outcomes[t].Outcome == TargetOutcome.Pending)];

        // 1. The rendezvous group.
        string? fallback = null;
        bool ownLease = false;
        if (o.ForceUnicast) fallback = "unicast requested";
        else if (lease is null && _groups is null) fallback = "no controller configured";
        else if (lease is null)
        {
            try
            {
                // The controller is a real peer: its request is bounded on the wall clock by what is left of the deadline.
                using var request = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var left = deadline.Remaining;
                request.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
                lease = await _groups!.OpenAsync(o.Vlan, reference, targets, o.GroupTtl, request.Token).ConfigureAwait(false);
                ownLease = true;
            }
            catch (RendezvousUnavailableException e)
            {
                fallback = e.Message;
                if (!o.AllowUnicastFallback)
                {
                    foreach (var t in targets) Settle(t, TargetOutcome.TimedOut);
                    return Result();
                }
            }
        }
        bool multicast = lease is not null;
        var group = lease?.Group ?? default;
        if (lease is not null)
            foreach (var t in targets)
                if (lease.Ignored.ContainsKey(t) || !lease.Members.Contains(t)) Settle(t, TargetOutcome.NotInReference);
        setup = _time.GetElapsedTime(started);

        transferStarted = _time.GetTimestamp();
        try
        {
            // 2. Rendezvous: each target learns the transfer (group, size, FEC, key) by unicast and says ready.
            var members = Pending(targets);
            byte[] key = o.Encrypt ? RandomNumberGenerator.GetBytes(32) : [];
            int fecRate = o.Fec?.Rate ?? 0, fecLayers = o.Fec?.Layers ?? 0;
            var rendezvous = new byte[RendezvousMessage.GetLength(key.Length, members.Count)];
            if (members.Count > 0)
                RendezvousMessage.Write(rendezvous, tx, id, chunk.Length, multicast ? group : default, o.DatagramPayload, fecRate, fecLayers, key, members);
            var ready = new HashSet<IpAddress>();
            for (int attempt = 0; attempt < o.RendezvousAttempts && members.Any(m => !ready.Contains(m) && outcomes[m].Outcome == TargetOutcome.Pending); attempt++)
            {
                foreach (var m in members) if (!ready.Contains(m) && outcomes[m].Outcome == TargetOutcome.Pending) _transport.Send(m, o.ServerPort, rendezvous);
                await CollectAsync(channel, o.RoundTimeout * (attempt + 1), r =>
                {
                    if (!outcomes.ContainsKey(r.From)) return false;
                    if (r.Type == MessageType.Ready)
                    {
                        if (r.Code == 0) ready.Add(r.From); else Settle(r.From, (TargetOutcome)r.Code);
                    }
                    else if (r.Type == MessageType.Outcome) Settle(r.From, (TargetOutcome)r.Code);
                    return members.All(m => ready.Contains(m) || outcomes[m].Outcome != TargetOutcome.Pending);
                }, deadline, cancellationToken).ConfigureAwait(false);
            }
            foreach (var m in members) if (!ready.Contains(m)) Settle(m, TargetOutcome.TimedOut);
            var receivers = Pending(ready);
            if (receivers.Count == 0) return Result();

            // 3. The chunk, once, paced.
            long rate = o.RateBytesPerSecond ?? PushOptions.DefaultRateBytesPerSecond;
            var pacer = new Pacer(rate, _time);
            int count = (int)((chunk.Length + o.DatagramPayload - 1) / o.DatagramPayload);
            using var aes = key.Length > 0 ? new AesGcm(key, 16) : null;
            var datagram = new byte[DataMessage.HeaderLength + o.DatagramPayload + 16];
            var parityBuffer = new byte[o.DatagramPayload];
            LayeredXorParity? fec = o.Fec is { } f && count > 0 ? new LayeredXorParity(f.Rate, f.Layers, count) : null;

            async ValueTask SendIndex(uint index, IReadOnlyList<IpAddress> to)
            {
                ReadOnlySpan<byte> plain;
                MessageType type;
                if ((index & DataMessage.ParityBit) != 0)
                {
                    int layer = (int)((index >> 24) & 0x7F), g = (int)(index & 0xFF_FFFF);
                    fec!.Value.Encode(chunk.Span, o.DatagramPayload, layer, g, parityBuffer);
                    plain = parityBuffer;
                    type = MessageType.Parity;
                }
                else
                {
                    int offset = (int)index * o.DatagramPayload;
                    plain = chunk.Span.Slice(offset, Math.Min(o.DatagramPayload, chunk.Length - offset));
                    type = MessageType.Data;
                }
                DataMessage.WriteHeader(datagram, type, tx, index);
                int length = DataMessage.HeaderLength + plain.Length;
                if (aes is not null)
                {
                    Span<byte> nonce = stackalloc byte[12];
                    ReceiveSession.Nonce(nonce, tx, index);
                    aes.Encrypt(nonce, plain, datagram.AsSpan(DataMessage.HeaderLength, plain.Length), datagram.AsSpan(length, 16), datagram.AsSpan(0, DataMessage.HeaderLength));
                    length += 16;
                }
                else plain.CopyTo(datagram.AsSpan(DataMessage.HeaderLength));
                foreach (var t in to)
                {
                    _transport.Send(t, o.ServerPort, datagram.AsSpan(0, length));
                    datagramsSent++;
                    await pacer.WaitAsync(length, cancellationToken).ConfigureAwait(false);
                    deadline.ThrowIfPassed();
                }
            }

            IReadOnlyList<IpAddress> everyone = multicast ? [group] : receivers;
            for (int i = 0; i < count; i++)
            {
                await SendIndex((uint)i, everyone).ConfigureAwait(false);
                if (fec is not { } fc) continue;
                for (int l = 0; l < fc.Layers; l++)
                {
                    int g = fc.GroupOf(l, i);
                    int size = fc.GroupSize(l, g);
                    // Parity goes right after the group's last member, so a loss is rebuilt as soon as possible.
                    if (fc.Member(l, g, size - 1) == i)
                    {
                        await SendIndex(DataMessage.ParityIndex(l, g), everyone).ConfigureAwait(false);
                        parity += everyone.Count;
                    }
                }
            }

            // 4. Polls: aggregate acks; multicast repair of the union of what is missing (bounded rounds), then
            //    unicast per straggler (bounded rounds). A target that holds everything and is writing is re-polled
            //    until it reports, within WriteTimeout, and never repaired.
            var poll = new byte[PollMessage.Length];
            var lastMissing = new Dictionary<IpAddress, List<uint>>();
            // The fewest datagrams each target has reported missing: a round in which one of them got closer is progress.
            var fewestMissing = new Dictionary<IpAddress, int>();
            int pollRound = 0, multicastRounds = 0, unicastRounds = 0;
            var roundTimeout = o.RoundTimeout;
            long writeWaitStarted = 0;
            while (true)
            {
                var pending = Pending(receivers);
                if (pending.Count == 0) break;
                bool groupRound = multicast && multicastRounds < o.MaxRepairRounds;
                int pn = PollMessage.Write(poll, tx, pollRound);
                if (groupRound) _transport.Send(group, o.ServerPort, poll.AsSpan(0, pn));
                else foreach (var t in pending) _transport.Send(t, o.ServerPort, poll.AsSpan(0, pn));
                var answered = new Dictionary<IpAddress, Reply>();
                pollRound++;
                await CollectAsync(channel, roundTimeout, r =>
                {
                    if (!outcomes.ContainsKey(r.From)) return false;
                    if (r.Type == MessageType.Outcome) Settle(r.From, (TargetOutcome)r.Code);
                    // A late ack of an earlier round still says what the target held then: better than silence.
                    else if (r.Type == MessageType.Ack && (!answered.TryGetValue(r.From, out var prior) || prior.Round <= r.Round)) answered[r.From] = r;
                    return pending.All(t => answered.ContainsKey(t) || outcomes[t].Outcome != TargetOutcome.Pending);
                }, deadline, cancellationToken).ConfigureAwait(false);

                pending = Pending(receivers);
                if (pending.Count == 0) break;
                // Silence doubles the next round's wait (a loaded receiver, a slow path), up to 8 × RoundTimeout.
                roundTimeout = pending.Any(t => !answered.ContainsKey(t)) ? TimeSpan.FromTicks(Math.Min(roundTimeout.Ticks * 2, o.RoundTimeout.Ticks * 8)) : o.RoundTimeout;
                var union = new SortedSet<uint>();
                var needing = new List<IpAddress>();
                bool silent = false, progress = false;
                foreach (var t in pending)
                {
                    if (!answered.TryGetValue(t, out var a)) { silent = true; continue; }
                    if ((a.State & AckState.Writing) != 0) continue;
                    var missing = MissingFrom(a, count);
                    lastMissing[t] = missing;
                    if (missing.Count < fewestMissing.GetValueOrDefault(t, count)) { fewestMissing[t] = missing.Count; progress = true; }
                    union.UnionWith(missing);
                    needing.Add(t);
                }
                if (!silent && needing.Count == 0)
                {
                    // Everyone left is writing: wait a round for their outcome (it comes unasked), then re-poll, as it may be
                    // lost; never repair. Re-polling at once would spin against a server that is still writing.
                    if (writeWaitStarted == 0) writeWaitStarted = _time.GetTimestamp();
                    if (_time.GetElapsedTime(writeWaitStarted) > o.WriteTimeout) break;
                    await CollectAsync(channel, o.RoundTimeout, r =>
                    {
                        if (r.Type == MessageType.Outcome && outcomes.ContainsKey(r.From)) Settle(r.From, (TargetOutcome)r.Code);
                        return Pending(receivers).Count == 0;
                    }, deadline, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                writeWaitStarted = 0;
                if (groupRound)
                {
                    multicastRounds++;
                    if (union.Count == 0) continue;
                    repairRounds++;
                    foreach (uint i in union) await SendIndex(i, [group]).ConfigureAwait(false);
                    retransmitted += union.Count;
                }
                else
                {
                    // A straggler that recovers a little more every few rounds (a lossy link, a starved receiver dropping
                    // what its socket buffer cannot hold) is not given up on: only consecutive rounds in which nobody got
                    // closer count. Each round with progress lowers some target's count of missing datagrams, so those are
                    // bounded too, as is the whole push by its Deadline; a dead target ends it after MaxUnicastRounds.
                    if (progress) unicastRounds = 0;
                    else if (unicastRounds++ >= o.MaxUnicastRounds) break;
                    foreach (var t in needing)
                    {
                        foreach (uint i in lastMissing[t]) await SendIndex(i, [t]).ConfigureAwait(false);
                        unicastRepair += lastMissing[t].Count;
                    }
                }
            }
            foreach (var t in Pending(receivers)) Settle(t, TargetOutcome.TimedOut);
            return Result();
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            foreach (var t in targets) Settle(t, TargetOutcome.TimedOut);
            return Result();
        }
        finally
        {
            if (ownLease && lease is not null) await _groups!.ReleaseAsync(lease, CancellationToken.None).ConfigureAwait(false);
        }

        PushResult Result() => new()
        {
            ChunkId = Convert.ToHexStringLower(id),
            Size = chunk.Length,
            Targets = [.. targets.Select(t => new TargetResult(t, outcomes[t].Outcome, outcomes[t].At))],
            Required = o.MinAcks ?? targets.Count,
            UsedMulticast = lease is not null,
            FallbackReason = fallback,
            Group = lease?.Group.ToString(),
            Setup = setup,
            Transfer = _time.GetElapsedTime(transferStarted),
            Total = _time.GetElapsedTime(started),
            DatagramsSent = datagramsSent,
            ParityDatagrams = parity,
            RepairRounds = repairRounds,
            RetransmittedDatagrams = retransmitted,
            UnicastRepairDatagrams = unicastRepair,
        };
    }

    /// <summary>Datagram indices an ack does not list, below the end of its last range when the ack was truncated.</summary>
    private static List<uint> MissingFrom(Reply ack, int count)
    {
        var missing = new List<uint>();
        long limit = ack.Truncated && ack.Ranges.Length > 0 ? Math.Min(count, (long)ack.Ranges[^1].Start + ack.Ranges[^1].Count) : count;
        long next = 0;
        foreach (var (start, c) in ack.Ranges)
        {
            for (long i = next; i < Math.Min(start, limit); i++) missing.Add((uint)i);
            next = Math.Max(next, (long)start + c);
        }
        for (long i = next; i < limit; i++) missing.Add((uint)i);
        return missing;
    }

    // ---------------------------------------------------------------- get

    /// <summary>
    /// Fetches a chunk by id: asks the negotiating group who holds it, then fetches from the first holder by
    /// unicast, re-asking for missing datagrams, and verifies the hash (trying the next holder on a mismatch).
    /// Null when no holder delivered a chunk with the right hash.
    /// </summary>
    public async Task<byte[]?> GetAsync(ChunkId chunk, IpAddress negotiating, ushort serverPort = TransferPorts.Server, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var deadline = new Deadline(_time, _time.GetTimestamp(), timeout ?? TimeSpan.FromSeconds(30));
        byte[] id = chunk.ToBytes();
        ulong tx = NewTransaction();
        var channel = Register(tx);
        try
        {
            var request = new byte[ChunkMessage.Length];
            ChunkMessage.Write(request, MessageType.GetRequest, tx, id);
            var holders = new List<Reply>();
            for (int attempt = 0; attempt < 3 && holders.Count == 0; attempt++)
            {
                _transport.Send(negotiating, serverPort, request);
                await CollectAsync(channel, TimeSpan.FromMilliseconds(100 * (attempt + 1)), r =>
                {
                    if (r.Type == MessageType.GetHave && r.Value is > 0 and <= TransferHeader.MaxDatagramPayload && r.Size <= int.MaxValue) holders.Add(r);
                    return holders.Count > 0;
                }, deadline, cancellationToken).ConfigureAwait(false);
            }
            // Late answers from other holders are kept as alternatives.
            while (channel.Reader.TryRead(out var more)) if (more.Type == MessageType.GetHave) holders.Add(more);
            foreach (var holder in holders.DistinctBy(h => h.From))
            {
                var session = new GetSession(holder.Size, (int)holder.Value);
                if (session.Count == 0) session.Done.TrySetResult();
                _gets[tx] = session;
                try
                {
                    var fetch = new byte[AckMessage.FixedLength + 160 * 8];
                    for (int round = 0; round < 20 && !session.Done.Task.IsCompleted; round++)
                    {
                        var missing = session.Missing(160);
                        AckMessage.WriteFixed(fetch, MessageType.GetFetch, tx, round, AckState.Receiving, 0);
                        for (int i = 0; i < missing.Count; i++) AckMessage.WriteRange(fetch, i, missing[i].Start, missing[i].Count);
                        int n = AckMessage.Finish(fetch, missing.Count, false);
                        _transport.Send(holder.From, serverPort, fetch.AsSpan(0, n));
                        // Wait while datagrams keep coming; a quiet 100 ms ends the round.
                        while (!session.Done.Task.IsCompleted)
                        {
                            int before;
                            lock (session.Gate) before = session.Arrivals;
                            try
                            {
                                await session.Done.Task.WaitAsync(deadline.Cut(TimeSpan.FromMilliseconds(100)), _time, cancellationToken).ConfigureAwait(false);
                            }
                            catch (TimeoutException)
                            {
                                deadline.ThrowIfPassed();
                            }
                            lock (session.Gate) if (session.Arrivals == before) break;
                        }
                    }
                    if (session.Done.Task.IsCompleted && ChunkId.Matches(session.Buffer, id)) return session.Buffer;
                }
                finally
                {
                    _gets.TryRemove(tx, out _);
                }
            }
            return null;
        }
        finally
        {
            _waiting.TryRemove(tx, out _);
        }
    }

    public ValueTask DisposeAsync() => _transport.DisposeAsync();
}

/// <summary>A rendezvous group kept open for several pushes to the same members (≈ an MPI communicator); dispose releases it.</summary>
public sealed class RendezvousGroupHandle : IAsyncDisposable
{
    private readonly TransferClient _client;
    private readonly IRendezvousGroups _groups;
    private readonly IpAddress _reference;
    private readonly PushOptions _options;

    internal RendezvousGroupHandle(TransferClient client, IRendezvousGroups groups, RendezvousLease lease, IpAddress reference, PushOptions options)
    {
        _client = client; _groups = groups; Lease = lease; _reference = reference; _options = options;
    }

    public RendezvousLease Lease { get; }
    public IReadOnlyList<IpAddress> Members => Lease.Members;

    public Task<PushResult> PushAsync(ReadOnlyMemory<byte> buffer, PushOptions? options = null, CancellationToken cancellationToken = default) =>
        _client.PushOnceAsync(buffer, Lease.Members, _reference, options ?? _options, Lease, cancellationToken);

    public async ValueTask DisposeAsync() => await _groups.ReleaseAsync(Lease, CancellationToken.None).ConfigureAwait(false);
}
