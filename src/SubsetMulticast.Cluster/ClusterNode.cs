using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Cluster.Etcd;
using SubsetMulticast.Controller.OpenFlowFabric;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Bootstrap;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.OpenFlow.Southbound;

namespace SubsetMulticast.Cluster;

/// <summary>Who is master of a switch: the node, and the generation id (the etcd revision its claim was created at).</summary>
public readonly record struct Mastership(string Node, ulong Generation);

/// <summary>
/// One controller of a cluster. Everything shared lives in etcd under the store's prefix:
/// <list type="bullet">
/// <item><c>nodes/{node}</c> on the node's lease (TTL <see cref="ClusterOptions.NodeTtlSeconds"/>, kept alive while it runs);</item>
/// <item><c>masters/{switch}</c> = node, on the master's lease, created only if absent: a dead node's masterships vanish
/// with its lease. The key's create revision is the OpenFlow generation id of that mastership (revisions only grow,
/// so a deposed master's role request is STALE on the switch);</item>
/// <item><c>applied/{node}</c> = the store revision up to which the node has put every group change on the switches it
/// masters (confirmed by barriers);</item>
/// <item><c>groups/…</c>, <c>addresses/…</c>: the <see cref="EtcdGroupStore"/>.</item>
/// </list>
/// One watch over the prefix feeds one loop, in revision order: group records are taken into the lifecycle (any node
/// lists, refreshes and releases any group) and applied to the switches this node masters; a switch whose master key
/// disappears is claimed by the connected node ranked first for it (rendezvous hashing), the others a stagger later.
/// A new master sends ROLE_REQUEST MASTER with its generation, takes the stored groups as the switch's intended state
/// and reconciles it: rules that are right stay untouched. <see cref="ClusterSouthbound"/> answers a transaction once
/// every involved switch's master has applied its revision.
/// </summary>
public sealed partial class ClusterNode : IHostedService, IAsyncDisposable
{
    private readonly ClusterOptions _options;
    private readonly EtcdGroupStore _store;
    private readonly GroupLifecycle _lifecycle;
    private readonly OpenFlowListener _listener;
    private readonly OpenFlowSouthbound _southbound;
    private readonly StoredGroupRules _stored;
    private readonly Func<SwitchBootstrap> _bootstrap;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly GrpcChannel _channel;
    private readonly KV.KVClient _kv;
    private readonly Channel<object> _work = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, Mastership> _masters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _applied = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _nodes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ulong> _mine = new(StringComparer.Ordinal);
    // Switches etcd names this node master of, whose answer to our ROLE_REQUEST MASTER is awaited (off the loop): not
    // ours to write to until the switch confirms the role and generation.
    private readonly ConcurrentDictionary<string, (OpenFlowSession Session, ulong Generation)> _asking = new(StringComparer.Ordinal);
    // After a switch did not take our MASTER request: when this node may claim it again, and how many times in a row it
    // failed (a switch that answers every request with an error at once would otherwise be claimed in a tight loop).
    private readonly ConcurrentDictionary<string, (DateTimeOffset NotBefore, int Failures)> _claimBackoff = new(StringComparer.Ordinal);
    // The claim (generation) of each switch this node let go after the switch did not take the role: its key's put
    // event, when the watch delivers it after that, is no orphan to drop (and say) a second time.
    private readonly ConcurrentDictionary<string, ulong> _letGo = new(StringComparer.Ordinal);
    // The last way each switch answered a role request oddly (said once per kind, not once per attempt).
    private readonly ConcurrentDictionary<string, string> _roleTrouble = new(StringComparer.Ordinal);
    // Every group as etcd has it, in-flight ones included (the lifecycle's view holds a group of ours only once its
    // transaction commits, which waits for the masters — a new master restores from this one).
    private readonly ConcurrentDictionary<string, RendezvousGroup> _groups = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<bool>> _connecting = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _bootstrapping = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lease;
    private long _processed;
    // The revision to report as applied: advanced by group and mastership events only (reporting is itself a write,
    // whose event must not make another report).
    private long _reportable;
    private long _reported;
    private int _promoting;
    private Task? _loops;

    public ClusterNode(ClusterOptions options, EtcdGroupStore store, GroupLifecycle lifecycle, OpenFlowListener listener, OpenFlowSouthbound southbound,
        StoredGroupRules stored, Func<SwitchBootstrap> bootstrap, TimeProvider time, ILogger<ClusterNode> log)
    {
        _options = options;
        _store = store;
        _lifecycle = lifecycle;
        _listener = listener;
        _southbound = southbound;
        _stored = stored;
        _bootstrap = bootstrap;
        _time = time;
        _outage = new EtcdOutageLog(time);
        _log = log;
        _channel = GrpcChannel.ForAddress(store.Options.Endpoints.Split(',')[0].Trim());
        _kv = new KV.KVClient(_channel);
    }

    public string NodeId => _options.NodeId;
    private string Prefix => _store.Options.Prefix;

    /// <summary>The master of every switch that has one, as this node last saw it.</summary>
    public IReadOnlyDictionary<string, Mastership> Masters => _masters;

    /// <summary>The switches this node is master of.</summary>
    public IReadOnlyCollection<string> Mastered => [.. _mine.Keys];

    /// <summary>The live nodes (those whose lease is alive), as last seen.</summary>
    public IReadOnlyCollection<string> Nodes => [.. _nodes.Keys];

    public bool IsMaster(string switchId) => _mine.ContainsKey(switchId);

    /// <summary>True when the master of <paramref name="switchId"/> has applied every group change up to <paramref name="revision"/>.</summary>
    public bool Confirmed(string switchId, long revision) =>
        _masters.TryGetValue(switchId, out var m) && _applied.TryGetValue(m.Node, out var a) && Confirms(m, a, revision);

    /// <summary>
    /// Whether a master whose applied mark is <paramref name="applied"/> has put the change at <paramref name="revision"/>
    /// on its switch. The mark must reach the revision and also the master's own claim (its generation): a node reports
    /// only once the switches it has just taken are reconciled from the store, so a mark written before the claim speaks
    /// for other switches — taken for this one, a group created while the switch had no master was acknowledged before
    /// the new master had put it there, and was missing for good when that reconcile failed.
    /// </summary>
    internal static bool Confirms(Mastership master, long applied, long revision) =>
        applied >= revision && applied >= (long)master.Generation;

    /// <summary>Completes at the next change of masters or applied revisions (for <see cref="ClusterSouthbound"/>).</summary>
    public Task Changed => Volatile.Read(ref _changed).Task;

    private void Signal() => Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var lease = new Lease.LeaseClient(_channel);
        _lease = (await lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = _options.NodeTtlSeconds }, deadline: deadline, cancellationToken: cancellationToken)).ID;
        await _kv.PutAsync(new PutRequest { Key = Utf8($"{Prefix}/nodes/{NodeId}"), Value = Utf8(_options.ApiUrl ?? ""), Lease = _lease },
            deadline: deadline, cancellationToken: cancellationToken);
        // The group view was loaded at some revision; masters, applied marks and nodes are read at that same revision and
        // the watch starts right after it, so nothing falls between.
        long at = _store.LoadedRevision;
        foreach (var g in _store.All()) _groups[g.Id] = g;
        foreach (var (kind, kv) in await RangeAsync(at, deadline, cancellationToken)) Take(kind, kv, deleted: false);
        _processed = at;
        _listener.SwitchDisconnected += OnDisconnected;
        _bootstrap().Completed += (sw, _, _) => BootstrapDone(sw);
        _loops = Task.WhenAll(Task.Run(() => KeepAliveAsync(_stop.Token)), Task.Run(() => WatchAsync(at + 1, _stop.Token)), Task.Run(() => LoopAsync(_stop.Token)),
            Task.Run(() => SweepAsync(_stop.Token)));
        _started.TrySetResult();
        Log.Joined(_log, NodeId, _nodes.Count, _masters.Count);
    }

    private async Task<List<(string Kind, Mvccpb.KeyValue Kv)>> RangeAsync(long revision, DateTime deadline, CancellationToken ct)
    {
        var result = new List<(string, Mvccpb.KeyValue)>();
        foreach (var kind in new[] { "masters", "applied", "nodes" })
        {
            var r = await _kv.RangeAsync(new RangeRequest { Key = Utf8($"{Prefix}/{kind}/"), RangeEnd = Utf8($"{Prefix}/{kind}0"), Revision = revision },
                deadline: deadline, cancellationToken: ct);
            foreach (var kv in r.Kvs) result.Add((kind, kv));
        }
        return result;
    }

    /// <summary>Takes one masters/applied/nodes key into the view (at start, and from the watch).</summary>
    private void Take(string kind, Mvccpb.KeyValue kv, bool deleted)
    {
        string key = kv.Key.ToStringUtf8();
        string name = key[(key.LastIndexOf('/') + 1)..];
        switch (kind)
        {
            case "masters":
                if (deleted) _masters.TryRemove(name, out _);
                else _masters[name] = new Mastership(kv.Value.ToStringUtf8(), (ulong)kv.CreateRevision);
                break;
            case "applied":
                if (deleted) _applied.TryRemove(name, out _);
                else if (long.TryParse(kv.Value.ToStringUtf8(), NumberStyles.None, CultureInfo.InvariantCulture, out var rev)) _applied[name] = rev;
                break;
            case "nodes":
                if (deleted) _nodes.TryRemove(name, out _);
                else _nodes[name] = true;
                break;
        }
        Signal();
    }

    // ---- the node lease ----
    private async Task KeepAliveAsync(CancellationToken ct)
    {
        var lease = new Lease.LeaseClient(_channel);
        var interval = TimeSpan.FromMilliseconds(Math.Max(100, _options.NodeTtlSeconds * 1000 / 4));
        while (!ct.IsCancellationRequested)
        {
            try
            {
                using var call = lease.LeaseKeepAlive(cancellationToken: ct);
                while (!ct.IsCancellationRequested)
                {
                    await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = _lease }, ct).ConfigureAwait(false);
                    using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    wait.CancelAfter(TimeSpan.FromSeconds(_options.NodeTtlSeconds));
                    if (!await call.ResponseStream.MoveNext(wait.Token).ConfigureAwait(false)) break;
                    if (call.ResponseStream.Current.TTL <= 0)
                    {
                        LostLease();
                        await RejoinAsync(lease, ct).ConfigureAwait(false);
                        break;
                    }
                    EtcdAnswers();
                    await Task.Delay(interval, _time, ct).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception e) when (e is RpcException or OperationCanceledException or IOException)
            {
                EtcdTrouble("lease keep-alive", e.Message);
                try { await Task.Delay(TimeSpan.FromMilliseconds(200), _time, ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <summary>
    /// Our lease is gone (etcd unreachable or this process starved past the TTL): every mastership and our applied mark
    /// went with it, so we write to no switch until we claim one again. The node does not stop: its watch goes on (it
    /// still lists every group and serves requests) and it joins again with a new lease.
    /// </summary>
    /// <summary>No longer master of <paramref name="switchId"/>: the switch's new master demotes us there; we stop writing now.</summary>
    private void Demote(string switchId)
    {
        Log.Demoted(_log, NodeId, switchId);
        if (_listener.TryGetSwitch(switchId, out var session)) session.Role = ControllerRole.Slave;
    }

    // ---- what the log says while etcd does not answer: one line when it starts, one per interval, one when it is back ----
    private readonly EtcdOutageLog _outage;

    /// <summary>An etcd call failed: said as <see cref="EtcdOutageLog"/> decides (the keep-alive and the watch retry every 200 ms).</summary>
    private void EtcdTrouble(string what, string error)
    {
        var f = _outage.Failed();
        if (f.Say == EtcdOutageLog.Say.First) Log.EtcdTrouble(_log, NodeId, what, error);
        else if (f.Say == EtcdOutageLog.Say.Still) Log.EtcdStillTrouble(_log, NodeId, f.Seconds, f.Failures, what, error);
        else Log.EtcdTroubleAgain(_log, NodeId, what, error);
    }

    /// <summary>etcd answered the keep-alive: a trouble, if there was one, is over.</summary>
    private void EtcdAnswers()
    {
        if (_outage.Answered(out double seconds, out int failures)) Log.EtcdBack(_log, NodeId, seconds, failures);
    }

    private void LostLease()
    {
        Log.LeaseLost(_log, NodeId);
        foreach (var sw in _mine.Keys.Concat(_asking.Keys)) if (_listener.TryGetSwitch(sw, out var session)) session.Role = ControllerRole.Slave;
        _mine.Clear();
        _asking.Clear();
        Interlocked.Exchange(ref _reported, 0);
    }

    private async Task RejoinAsync(Lease.LeaseClient lease, CancellationToken ct)
    {
        for (int attempt = 0; !ct.IsCancellationRequested; attempt++)
        {
            try
            {
                var deadline = DateTime.UtcNow.AddSeconds(2);
                long id = (await lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = _options.NodeTtlSeconds }, deadline: deadline, cancellationToken: ct)).ID;
                await _kv.PutAsync(new PutRequest { Key = Utf8($"{Prefix}/nodes/{NodeId}"), Value = Utf8(_options.ApiUrl ?? ""), Lease = id },
                    deadline: deadline, cancellationToken: ct);
                Interlocked.Exchange(ref _lease, id);
                Interlocked.Exchange(ref _reported, 0); // the mark went with the old lease: report again
                Log.Rejoined(_log, NodeId);
                return;
            }
            catch (RpcException e) when (!ct.IsCancellationRequested)
            {
                EtcdTrouble("rejoin", e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 100 * (attempt + 1))), _time, ct).ConfigureAwait(false);
            }
        }
    }

    private async Task SweepAsync(CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), _time, ct).ConfigureAwait(false);
                _work.Writer.TryWrite(new Sweep());
            }
        }
        catch (OperationCanceledException) { }
    }

    // ---- the watch ----
    private async Task WatchAsync(long from, CancellationToken ct)
    {
        var watch = new Watch.WatchClient(_channel);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                using var call = watch.Watch(cancellationToken: ct);
                await call.RequestStream.WriteAsync(new WatchRequest
                {
                    CreateRequest = new WatchCreateRequest { Key = Utf8(Prefix + "/"), RangeEnd = Utf8(Prefix + "0"), StartRevision = from, PrevKv = true },
                }, ct).ConfigureAwait(false);
                while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
                {
                    var r = call.ResponseStream.Current;
                    if (r.Canceled && r.CompactRevision > 0)
                    {
                        // etcd compacted its history past where the watch resumes (this node was cut off from etcd longer than
                        // the compaction interval): resuming from there fails the same way for ever. Catch up from a snapshot.
                        from = await ResyncAsync(from, ct).ConfigureAwait(false);
                        break;
                    }
                    if (r.Canceled) throw new RpcException(new Status(StatusCode.Aborted, $"watch cancelled: {r.CancelReason}"));
                    if (r.Events.Count == 0) continue;
                    await _work.Writer.WriteAsync(r, ct).ConfigureAwait(false);
                    // Resume after the last event delivered, not after the header's revision: etcd 3.4 sends a catching-up
                    // watcher at most 1,000 revisions per response with the store's current revision in the header, and a
                    // watch resumed from there would skip the rest.
                    from = r.Events[^1].Kv.ModRevision + 1;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception e) when (e is RpcException or IOException or OperationCanceledException)
            {
                EtcdTrouble("watch", e.Message);
                try { await Task.Delay(TimeSpan.FromMilliseconds(200), _time, ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <summary>
    /// The watch cannot resume at <paramref name="from"/>: etcd no longer holds that part of its history. Reads the groups
    /// and the masters, applied marks and nodes at one revision and queues them for the loop (<see cref="Snapshot"/>),
    /// behind whatever the watch delivered before. Returns the revision to watch on from.
    /// </summary>
    private async Task<long> ResyncAsync(long from, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var groups = await _kv.RangeAsync(new RangeRequest { Key = Utf8(Prefix + "/groups/"), RangeEnd = Utf8(Prefix + "/groups0") },
            deadline: deadline, cancellationToken: ct);
        long at = groups.Header.Revision;
        var rest = await RangeAsync(at, deadline, ct).ConfigureAwait(false);
        await _work.Writer.WriteAsync(new Snapshot(from, at, [.. groups.Kvs], rest), ct).ConfigureAwait(false);
        return at + 1;
    }

    /// <summary>
    /// What differs between the store at <see cref="Snapshot.At"/> and this node's view, as one batch of events — what the
    /// watch would have delivered: a put for every key there (a group this node knew carries its last known record as the
    /// previous value, so a switch the group left loses its rule), a delete for every key this node knows that is gone.
    /// Made on the loop, so the view has taken everything the watch delivered before the snapshot was read.
    /// </summary>
    private WatchResponse CatchUp(Snapshot snapshot)
    {
        long at = snapshot.At;
        var caughtUp = new WatchResponse { Header = new ResponseHeader { Revision = at } };
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var kv in snapshot.Groups)
        {
            string key = kv.Key.ToStringUtf8();
            present.Add(key);
            var e = new Mvccpb.Event { Type = Mvccpb.Event.Types.EventType.Put, Kv = kv };
            if (_groups.TryGetValue(key[(key.LastIndexOf('/') + 1)..], out var known))
            {
                // The record this node already took: nothing to replay. (Replaying it could also undo a release this node
                // committed after the snapshot was read, whose delete the watch has not delivered yet.)
                if (StoredGroup.TryParse(kv.Value.Span, out var stored) && stored.Version == known.Version) continue;
                e.PrevKv = Stored(key, known, at);
            }
            caughtUp.Events.Add(e);
        }
        foreach (var (_, kv) in snapshot.Rest)
        {
            present.Add(kv.Key.ToStringUtf8());
            caughtUp.Events.Add(new Mvccpb.Event { Type = Mvccpb.Event.Types.EventType.Put, Kv = kv });
        }
        foreach (var (id, known) in _groups)
            if (!present.Contains($"{Prefix}/groups/{id}")) caughtUp.Events.Add(Gone($"{Prefix}/groups/{id}", Stored($"{Prefix}/groups/{id}", known, at)));
        foreach (var (kind, names) in new (string, IEnumerable<string>)[] { ("masters", _masters.Keys), ("applied", _applied.Keys), ("nodes", _nodes.Keys) })
            foreach (var name in names)
                if (!present.Contains($"{Prefix}/{kind}/{name}")) caughtUp.Events.Add(Gone($"{Prefix}/{kind}/{name}", null));
        Log.Resynced(_log, NodeId, snapshot.From, at, caughtUp.Events.Count);
        return caughtUp;

        Mvccpb.Event Gone(string key, Mvccpb.KeyValue? previous) => new()
        {
            Type = Mvccpb.Event.Types.EventType.Delete,
            Kv = new Mvccpb.KeyValue { Key = Utf8(key), ModRevision = at },
            PrevKv = previous,
        };
    }

    private static Mvccpb.KeyValue Stored(string key, RendezvousGroup group, long revision) =>
        new() { Key = Utf8(key), Value = ByteString.CopyFrom(StoredGroup.From(group).ToJson()), ModRevision = revision };

    // ---- the one loop ----
    private sealed record Claim(string SwitchId);
    private sealed record Connected(OpenFlowSession Session);
    private sealed record Promoted(string SwitchId);
    private sealed record RoleAnswered(OpenFlowSession Session, ulong Generation, bool Confirmed);
    private sealed record Sweep;
    private sealed record Snapshot(long From, long At, List<Mvccpb.KeyValue> Groups, List<(string Kind, Mvccpb.KeyValue Kv)> Rest);

    private async Task LoopAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var item in _work.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                try
                {
                    switch (item)
                    {
                        case WatchResponse r: await OnWatchAsync(r, ct).ConfigureAwait(false); break;
                        case Snapshot c: await OnWatchAsync(CatchUp(c), ct).ConfigureAwait(false); break;
                        case Claim c: await ClaimAsync(c.SwitchId, ct).ConfigureAwait(false); break;
                        case Connected c: await OnConnectedAsync(c.Session, ct).ConfigureAwait(false); break;
                        case Promoted: Volatile.Write(ref _reportable, Volatile.Read(ref _processed)); break;
                        case RoleAnswered a: OnRoleAnswered(a); break;
                        case Sweep:
                            // A claim that failed (etcd slow, a switch that answered oddly) is tried again: no connected switch stays masterless.
                            foreach (var (id, session) in _listener.Switches)
                                if (session.IsReady && !_masters.ContainsKey(id)) ScheduleClaim(id);
                            break;
                    }
                }
                catch (Exception e) when (!ct.IsCancellationRequested)
                {
                    // One loop feeds the view every listing and every confirmation reads: a step that fails is logged and
                    // the loop goes on (an exception escaping here left a node listing a frozen set of groups).
                    Log.StepFailed(_log, NodeId, item.GetType().Name, e.Message);
                }
                try
                {
                    if (Volatile.Read(ref _promoting) == 0) await ReportAsync(ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is RpcException or IOException or TimeoutException && !ct.IsCancellationRequested)
                {
                    EtcdTrouble("report", e.Message); // the next item reports again
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    private async Task OnWatchAsync(WatchResponse r, CancellationToken ct)
    {
        var changes = new Dictionary<string, List<SwitchChange>>(StringComparer.Ordinal);
        bool relevant = false;
        // Node departures first: a dead node's masters keys go in the same revision, and its rank must not delay the claims.
        foreach (var e in r.Events.OrderBy(e => e.Kv.Key.ToStringUtf8().StartsWith(Prefix + "/nodes/", StringComparison.Ordinal) ? 0 : 1))
        {
            string key = e.Kv.Key.ToStringUtf8();
            if (!key.StartsWith(Prefix + "/", StringComparison.Ordinal)) continue;
            string rest = key[(Prefix.Length + 1)..];
            int slash = rest.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0) continue;
            string kind = rest[..slash];
            bool deleted = e.Type == Mvccpb.Event.Types.EventType.Delete;
            if (kind is "groups" or "masters") relevant = true;
            switch (kind)
            {
                case "groups":
                    OnGroup(e, deleted, changes);
                    break;
                case "masters":
                {
                    string sw = rest[(slash + 1)..];
                    var before = _masters.TryGetValue(sw, out var m) ? m : default(Mastership?);
                    Take(kind, e.Kv, deleted);
                    if (deleted)
                    {
                        _asking.TryRemove(sw, out _);
                        if (_mine.TryRemove(sw, out _)) Demote(sw);
                        if (_listener.TryGetSwitch(sw, out _)) ScheduleClaim(sw);
                    }
                    else if (_masters.TryGetValue(sw, out var now))
                    {
                        if (now.Node != NodeId)
                        {
                            _asking.TryRemove(sw, out _);
                            if (_mine.TryRemove(sw, out _)) Demote(sw);
                        }
                        else if (!_mine.ContainsKey(sw) && !(_asking.TryGetValue(sw, out var asked) && asked.Generation == now.Generation)
                            && !(_letGo.TryGetValue(sw, out var gone) && gone == now.Generation)) DropOrphan(sw, now.Generation);
                    }
                    _ = before;
                    break;
                }
                case "applied":
                case "nodes":
                    Take(kind, e.Kv, deleted);
                    break;
            }
        }
        if (changes.Count > 0) await ApplyAsync(changes, ct).ConfigureAwait(false);
        Volatile.Write(ref _processed, r.Header.Revision);
        if (relevant) Volatile.Write(ref _reportable, r.Header.Revision);
    }

    /// <summary>A group record changed: the lifecycle learns it; the switches we master get its rules.</summary>
    private void OnGroup(Mvccpb.Event e, bool deleted, Dictionary<string, List<SwitchChange>> changes)
    {
        RendezvousGroup? next = null, previous = null;
        if (!deleted)
        {
            if (!StoredGroup.TryParse(e.Kv.Value.Span, out var g)) { Log.Unreadable(_log, e.Kv.Key.ToStringUtf8()); return; }
            next = g;
            _groups[g.Id] = g;
            _lifecycle.Observe(g);
            _store.NoteLease(g.Id, e.Kv.Lease);
        }
        if (e.PrevKv is { } prev && StoredGroup.TryParse(prev.Value.Span, out var p)) previous = p;
        if (deleted && previous is not null)
        {
            _groups.TryRemove(previous.Id, out _);
            _lifecycle.ObserveRemoved(previous.Id);
        }
        var touched = new HashSet<string>(StringComparer.Ordinal);
        if (next is not null) foreach (var s in next.Switches) touched.Add(s.SwitchId);
        if (previous is not null) foreach (var s in previous.Switches) touched.Add(s.SwitchId);
        var who = next ?? previous;
        if (who is null) return;
        foreach (var sw in touched)
        {
            if (!_mine.ContainsKey(sw)) continue;
            // What the switch holds for this address is what we last put there (the southbound's record).
            GroupRule? held = _southbound.IntendedRules(sw).FirstOrDefault(x => x.Vlan == who.Vlan && x.Group == who.Address);
            GroupRule? wanted = next?.Switches.FirstOrDefault(s => s.SwitchId == sw) is { } ports ? next.RuleFor(ports) : null;
            if (held is null && wanted is null) continue;
            if (held is not null && wanted is not null && held.SamePorts(wanted)) continue;
            if (!changes.TryGetValue(sw, out var list)) changes[sw] = list = [];
            list.Add(new SwitchChange(sw, held, wanted));
        }
    }

    private async Task ApplyAsync(Dictionary<string, List<SwitchChange>> changes, CancellationToken ct)
    {
        await Task.WhenAll(changes.Select(async kv =>
        {
            var r = await _southbound.ApplyAsync(kv.Value, ct).ConfigureAwait(false);
            if (r.Succeeded || !_mine.ContainsKey(kv.Key) || !_listener.TryGetSwitch(kv.Key, out var session)) return;
            // The switch refused (or its state was not what we recorded): converge it on the store instead.
            Log.Reconciling(_log, NodeId, kv.Key, string.Join("; ", r.Failures.Select(f => f.Reason)));
            Restore(kv.Key);
            await ConvergeMasteredAsync(session, ct).ConfigureAwait(false);
        })).ConfigureAwait(false);
    }

    private async Task ReportAsync(CancellationToken ct)
    {
        long processed = Volatile.Read(ref _reportable);
        if (processed <= Interlocked.Read(ref _reported)) return;
        await _kv.PutAsync(new PutRequest { Key = Utf8($"{Prefix}/applied/{NodeId}"), Value = Utf8(processed.ToString(CultureInfo.InvariantCulture)), Lease = Interlocked.Read(ref _lease) },
            deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: ct);
        Interlocked.Exchange(ref _reported, processed);
    }

    // ---- mastership ----

    /// <summary>Rank of this node for <paramref name="switchId"/> among the live nodes (0 = first choice): rendezvous hashing.</summary>
    internal int RankFor(string switchId)
    {
        static ulong Score(string sw, string node)
        {
            ulong h = 14695981039346656037;
            foreach (char c in sw) { h ^= c; h *= 1099511628211; }
            h ^= '|'; h *= 1099511628211;
            foreach (char c in node) { h ^= c; h *= 1099511628211; }
            return h;
        }
        ulong mine = Score(switchId, NodeId);
        return _nodes.Keys.Count(n => n != NodeId && Score(switchId, n) > mine);
    }

    /// <summary>The longest a node waits before claiming again a switch that did not take its MASTER request.</summary>
    internal static readonly TimeSpan MaxClaimBackoff = TimeSpan.FromSeconds(4);

    private void ScheduleClaim(string switchId)
    {
        var delay = _options.ClaimStagger * RankFor(switchId);
        if (_claimBackoff.TryGetValue(switchId, out var backoff) && backoff.NotBefore - _time.GetUtcNow() is var left && left > delay) delay = left;
        if (delay <= TimeSpan.Zero) { _work.Writer.TryWrite(new Claim(switchId)); return; }
        _ = Task.Delay(delay, _time, _stop.Token).ContinueWith(t => { if (!t.IsCanceled) _work.Writer.TryWrite(new Claim(switchId)); }, TaskScheduler.Default);
    }

    /// <summary>Tries to become master of a masterless switch we are connected to.</summary>
    private async Task ClaimAsync(string switchId, CancellationToken ct)
    {
        if (_masters.ContainsKey(switchId) || !_listener.TryGetSwitch(switchId, out var session)) { Decided(switchId); return; }
        string key = $"{Prefix}/masters/{switchId}";
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = Utf8(key), Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Utf8(key), Value = Utf8(NodeId), Lease = _lease } });
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = Utf8(key) } });
        TxnResponse r;
        try { r = await _kv.TxnAsync(txn, deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: ct); }
        catch (RpcException e) when (!ct.IsCancellationRequested)
        {
            // Committed or not, we cannot tell: if the key is ours, its watch event finds us not acting as master and drops
            // it (DropOrphan); if not, the sweep claims again.
            EtcdTrouble($"claim of {switchId}", e.Message);
            Decided(switchId);
            return;
        }
        if (!r.Succeeded)
        {
            var kv = r.Responses[0].ResponseRange.Kvs.FirstOrDefault();
            if (kv is not null)
            {
                _masters[switchId] = new Mastership(kv.Value.ToStringUtf8(), (ulong)kv.CreateRevision);
                SlaveQuietly(session, (ulong)kv.CreateRevision);
            }
            Decided(switchId);
            return;
        }
        ulong generation = (ulong)r.Header.Revision;
        _masters[switchId] = new Mastership(NodeId, generation);
        Signal();
        AskMaster(session, generation);
    }

    /// <summary>
    /// Sends ROLE_REQUEST MASTER with <paramref name="generation"/> and goes on: the answer comes back to the loop as
    /// <see cref="RoleAnswered"/>. Awaited in the loop, a switch that never answered held every other switch's claims
    /// and every watch event for the request's timeout. Until the switch confirms, the node is not its master (no
    /// writes, <see cref="IsMaster"/> false) and reports no applied mark, which would confirm transactions on it.
    /// </summary>
    private void AskMaster(OpenFlowSession session, ulong generation)
    {
        _asking[session.SwitchId] = (session, generation);
        Interlocked.Increment(ref _promoting);
        _ = Task.Run(async () =>
        {
            bool confirmed = false;
            try { confirmed = await RequestRoleAsync(session, ControllerRole.Master, generation).ConfigureAwait(false); }
            finally { _work.Writer.TryWrite(new RoleAnswered(session, generation, confirmed)); }
        }, CancellationToken.None);
    }

    /// <summary>The switch answered our MASTER request (or did not, in time): the node becomes its master, or lets etcd's claim go.</summary>
    private void OnRoleAnswered(RoleAnswered a)
    {
        string sw = a.Session.SwitchId;
        try
        {
            bool current = _asking.TryGetValue(sw, out var asked) && asked.Session == a.Session && asked.Generation == a.Generation
                && _asking.TryRemove(new KeyValuePair<string, (OpenFlowSession, ulong)>(sw, asked));
            bool stillOurs = _masters.TryGetValue(sw, out var m) && m.Node == NodeId && m.Generation == a.Generation;
            if (!current || !stillOurs || a.Session.IsClosed)
            {
                // Overtaken meanwhile (the key went, another node claimed, our lease was lost, the switch reconnected): that path decided.
                if (!_mine.ContainsKey(sw) && !a.Session.IsClosed) a.Session.Role = ControllerRole.Slave;
                Decided(sw);
                return;
            }
            if (!a.Confirmed)
            {
                // The switch did not take us as master: we write nothing to it, and our key would keep the others from
                // claiming it. It goes; the switch is claimed again (by whichever node ranks first) on the next sweep.
                a.Session.Role = ControllerRole.Slave;
                int failures = _claimBackoff.TryGetValue(sw, out var b) ? b.Failures + 1 : 1;
                var wait = TimeSpan.FromMilliseconds(Math.Min(MaxClaimBackoff.TotalMilliseconds, 250 * Math.Pow(2, Math.Min(failures, 10))));
                _claimBackoff[sw] = (_time.GetUtcNow() + wait, failures);
                _letGo[sw] = a.Generation;
                DropOrphan(sw, a.Generation, quiet: true);
                Decided(sw);
                return;
            }
            _claimBackoff.TryRemove(sw, out _);
            _mine[sw] = a.Generation;
            a.Session.Role = ControllerRole.Master;
            Log.Promoted(_log, NodeId, sw, a.Generation);
            Restore(sw);
            if (_bootstrapping.ContainsKey(sw)) { Decided(sw); return; } // the bootstrap goes on with the writing steps
            // Taken over from a dead node (or claimed again after a refusal): converge it (rules that are right stay untouched).
            Interlocked.Increment(ref _promoting);
            var session = a.Session;
            _ = Task.Run(async () =>
            {
                try { await RunWritingStepsAsync(session).ConfigureAwait(false); }
                finally
                {
                    Interlocked.Decrement(ref _promoting);
                    _work.Writer.TryWrite(new Promoted(sw)); // lets the loop report
                }
            }, CancellationToken.None);
        }
        finally { Interlocked.Decrement(ref _promoting); }
    }

    /// <summary>The southbound intends <paramref name="switchId"/> to hold exactly the rules etcd's groups give it.</summary>
    private void Restore(string switchId)
    {
        var rules = new List<GroupRule>();
        foreach (var g in _groups.Values)
            foreach (var s in g.Switches)
                if (s.SwitchId == switchId) rules.Add(g.RuleFor(s));
        _southbound.RestoreIntended(switchId, rules);
    }

    private async Task RunWritingStepsAsync(OpenFlowSession session)
    {
        foreach (var step in _bootstrap().Steps)
        {
            if (step.Order < BootstrapOrder.Reconcile || step is not MasterOnlyStep gated) continue;
            try { await gated.Inner.RunAsync(session, _stop.Token).ConfigureAwait(false); }
            catch (Exception e) when (e is OpenFlowSessionException or TimeoutException or OperationCanceledException or OpenFlowFormatException)
            {
                Log.StepFailed(_log, NodeId, step.Name, e.Message);
            }
        }
    }

    /// <summary>
    /// The reconcile of a switch this node masters (the bootstrap's step, a takeover, a refused change): the switch is
    /// brought to the store's groups, or — when it cannot be, after a few tries — the mastership is given up before this
    /// node reports another applied mark, so no transaction is confirmed for a switch that does not hold it. Another
    /// node (or this one, on its next sweep) then claims the switch and reconciles it again.
    /// </summary>
    internal async Task<bool> ConvergeMasteredAsync(OpenFlowSession session, CancellationToken ct)
    {
        string sw = session.SwitchId;
        for (int attempt = 1; attempt <= 3; attempt++)
        {
            if (!_mine.ContainsKey(sw) || session.IsClosed) return true;
            if (await _southbound.ReconcileOnConnectAsync(session).ConfigureAwait(false)) return true;
            if (ct.IsCancellationRequested) return true;
        }
        await ResignAsync(sw).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// etcd names this node master of <paramref name="switchId"/> but the node does not act as its master: a claim whose
    /// transaction committed while its answer was lost (a gRPC deadline under load), or a MASTER request the switch
    /// refused STALE. Nobody else claims a switch whose key exists, and this node's applied marks would confirm every
    /// transaction on it while nobody writes there — the switch stayed masterless for good and acknowledged groups were
    /// missing on it (tsm cluster-failover, 2026-12-02). The key goes (only that claim of it), so the switch is claimed
    /// again the ordinary way.
    /// </summary>
    /// <param name="quiet">Not said: the caller said why already (a switch that did not take the role), once per kind of answer.</param>
    private void DropOrphan(string switchId, ulong generation, bool quiet = false)
    {
        string key = $"{Prefix}/masters/{switchId}";
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = Utf8(key), Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = (long)generation });
        txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = Utf8(key) } });
        _ = Task.Run(async () =>
        {
            for (int attempt = 0; attempt < 10 && !_stop.IsCancellationRequested; attempt++)
            {
                try
                {
                    var r = await _kv.TxnAsync(txn, deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: _stop.Token).ConfigureAwait(false);
                    // Said only when the key was there: a put event processed late (the loop behind, our lease lost since)
                    // finds that claim gone already, which is no news.
                    if (r.Succeeded && !quiet) Log.Orphaned(_log, NodeId, switchId, generation);
                    return;
                }
                catch (RpcException e)
                {
                    Log.StepFailed(_log, NodeId, "dropping an orphaned mastership", e.Message);
                    try { await Task.Delay(TimeSpan.FromMilliseconds(200), _time, _stop.Token).ConfigureAwait(false); }
                    catch (OperationCanceledException) { return; }
                }
            }
        }, CancellationToken.None);
    }

    /// <summary>Gives up the mastership of <paramref name="switchId"/>: our masters key goes (only if still ours).</summary>
    private async Task ResignAsync(string switchId)
    {
        if (!_mine.TryRemove(switchId, out _)) return;
        Log.Resigned(_log, NodeId, switchId);
        if (_listener.TryGetSwitch(switchId, out var session)) session.Role = ControllerRole.Slave;
        string key = $"{Prefix}/masters/{switchId}";
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = Utf8(key), Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = Utf8(NodeId) });
        txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = Utf8(key) } });
        for (int attempt = 0; attempt < 10 && !_stop.IsCancellationRequested; attempt++)
        {
            try
            {
                await _kv.TxnAsync(txn, deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: _stop.Token).ConfigureAwait(false);
                return;
            }
            catch (RpcException e)
            {
                Log.StepFailed(_log, NodeId, "resign", e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(200), _time, _stop.Token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Asks the switch for <paramref name="role"/>; true when it took it: a ROLE_REPLY naming that role and, for MASTER, our
    /// generation. Anything else is false and said (once per kind of answer per switch, not per attempt): an error
    /// (ROLE_REQUEST_FAILED/STALE — a newer master claimed it —, BAD_ROLE…), no answer within
    /// <see cref="ClusterOptions.RoleTimeout"/>, a reply with another role or generation (the switch holds someone
    /// else's claim, or ours is not what it recorded). A switch without roles (BAD_REQUEST/BAD_TYPE, ROLE_REQUEST_FAILED/
    /// UNSUP) treats every controller as EQUAL: then the etcd mastership alone keeps the others from writing, and true.
    /// </summary>
    private async Task<bool> RequestRoleAsync(OpenFlowSession session, ControllerRole role, ulong generation)
    {
        // A slave-to-be stops its periodic writes at once; a master-to-be writes only once the switch has confirmed.
        if (role != ControllerRole.Master) session.Role = role;
        string sw = session.SwitchId;
        try
        {
            var reply = await session.RequestAsync(new RoleRequest(role, generation), _stop.Token, _options.RoleTimeout).ConfigureAwait(false);
            if (reply is RoleReply rr && rr.Role == role && (role != ControllerRole.Master || rr.GenerationId == generation))
            {
                if (_roleTrouble.TryRemove(sw, out _)) Log.RoleAnsweredAgain(_log, NodeId, sw, role);
                return true;
            }
            if (reply is RoleReply odd)
                RoleTrouble(sw, role, $"reply-{odd.Role}-{odd.GenerationId == generation}",
                    $"ROLE_REPLY {odd.Role} generation {odd.GenerationId} (asked {role} generation {generation})");
            else RoleTrouble(sw, role, reply.Type.ToString(), $"an unexpected {reply.Type}");
            return false;
        }
        catch (OpenFlowErrorException e)
        {
            bool roleless = (e.Error.ErrorType == BadRequest && e.Error.Code == BadType) || (e.Error.ErrorType == RoleRequestFailed && e.Error.Code == Unsupported);
            RoleTrouble(sw, role, e.Error.Name, roleless
                ? $"{e.Message}: it has no roles (every controller is EQUAL), so etcd's mastership alone decides who writes"
                : e.Error.ErrorType == RoleRequestFailed && e.Error.Code == Stale ? $"{e.Message}: a newer master claimed it" : e.Message);
            return roleless;
        }
        catch (Exception e) when (e is OpenFlowSessionException or TimeoutException)
        {
            RoleTrouble(sw, role, e is TimeoutException ? "timeout" : "session", e is TimeoutException ? $"no answer within {_options.RoleTimeout.TotalSeconds:0.#} s" : e.Message);
            return false;
        }
    }

    private void RoleTrouble(string switchId, ControllerRole role, string kind, string detail)
    {
        string key = $"{role}:{kind}";
        if (_roleTrouble.TryGetValue(switchId, out var last) && last == key) { Log.RoleTroubleAgain(_log, NodeId, switchId, role, detail); return; }
        _roleTrouble[switchId] = key;
        Log.RoleRefused(_log, NodeId, switchId, role, detail);
    }

    /// <summary>
    /// Tells the switch we are SLAVE without holding the loop for the answer (it is sent at once, so a later MASTER
    /// request of ours follows it on the connection). Awaited in the loop, one round trip per switch of 100 held the
    /// watch events back by seconds under load, and switches' bootstraps timed out waiting for their role.
    /// </summary>
    private void SlaveQuietly(OpenFlowSession session, ulong generation) =>
        _ = RequestRoleAsync(session, ControllerRole.Slave, generation).ContinueWith(t => _ = t.Exception, TaskScheduler.Default);

    private void Decided(string switchId)
    {
        if (_connecting.TryRemove(switchId, out var tcs)) tcs.TrySetResult(_mine.ContainsKey(switchId));
    }

    /// <summary>The bootstrap's first step: slaves get packet-ins too; then this node's role on the switch is settled.</summary>
    internal async Task<bool> OnSwitchConnectingAsync(OpenFlowSession session, CancellationToken ct)
    {
        await _started.Task.WaitAsync(ct).ConfigureAwait(false);
        await session.SendAsync(SetAsync.EverythingToSlavesToo() with { Xid = session.NextXid() }, ct).ConfigureAwait(false);
        var decided = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _connecting[session.SwitchId] = decided;
        _bootstrapping[session.SwitchId] = true;
        Interlocked.Increment(ref _promoting);
        await _work.Writer.WriteAsync(new Connected(session), ct).ConfigureAwait(false);
        try { await decided.Task.WaitAsync(TimeSpan.FromSeconds(10), _time, ct).ConfigureAwait(false); }
        catch (TimeoutException)
        {
            // The loop is behind (a loaded machine, many switches at once): the switch goes on with its bootstrap — the
            // learner must still see it — and the role is settled when the loop gets there. A claim after this point
            // runs the writing steps itself, as for a takeover. (Failing the step left the switch unlearned for good.)
            Log.RoleUndecided(_log, NodeId, session.SwitchId);
            BootstrapDone(session.SwitchId);
        }
        return true;
    }

    private async Task OnConnectedAsync(OpenFlowSession session, CancellationToken ct)
    {
        string sw = session.SwitchId;
        if (_masters.TryGetValue(sw, out var m))
        {
            if (m.Node == NodeId)
            {
                // Claimed already on this very connection (the sweep saw it ready before its bootstrap got here): the answer
                // awaited decides, or has decided. (Asking again sent a second MASTER request for one claim.)
                if (_asking.TryGetValue(sw, out var asked) && asked.Session == session) return;
                if (_mine.ContainsKey(sw) && session.Role == ControllerRole.Master) { Decided(sw); return; }
                // Our mastership outlived a reconnect: claim the role again with the same generation (decided on the answer).
                _mine.TryRemove(sw, out _);
                AskMaster(session, m.Generation);
                return;
            }
            SlaveQuietly(session, m.Generation);
            Decided(sw);
            return;
        }
        ScheduleClaim(sw);
    }

    /// <summary>Called when a switch's bootstrap has run (as master or not): the loop may report again.</summary>
    internal void BootstrapDone(string switchId)
    {
        if (_bootstrapping.TryRemove(switchId, out _))
        {
            Interlocked.Decrement(ref _promoting);
            _work.Writer.TryWrite(new Promoted(switchId));
        }
    }

    private void OnDisconnected(OpenFlowSession session, string reason)
    {
        // Our mastership key stays (bound to our lease): the switch reconnects to us or, if it cannot reach us, the
        // others take over once they see it gone — they are connected and claim when the key goes. A node that lost
        // its switch gives the mastership up so a connected one can take it at once.
        if (_mine.TryRemove(session.SwitchId, out _) | _asking.TryRemove(session.SwitchId, out _))
            _ = _kv.DeleteRangeAsync(new DeleteRangeRequest { Key = Utf8($"{Prefix}/masters/{session.SwitchId}") }, deadline: DateTime.UtcNow.AddSeconds(2)).ResponseAsync
                .ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
        if (_bootstrapping.ContainsKey(session.SwitchId)) BootstrapDone(session.SwitchId);
        Decided(session.SwitchId);
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _listener.SwitchDisconnected -= OnDisconnected;
        // A clean stop hands the masterships over at once: revoking the lease deletes our keys.
        if (_lease != 0)
        {
            try { await new Lease.LeaseClient(_channel).LeaseRevokeAsync(new LeaseRevokeRequest { ID = _lease }, deadline: DateTime.UtcNow.AddSeconds(2)); }
            catch (RpcException) { }
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        _work.Writer.TryComplete();
        if (_loops is not null)
        {
            try { await _loops.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException or RpcException) { }
        }
        _channel.Dispose();
        _stop.Dispose();
    }

    private const ushort RoleRequestFailed = 11, Stale = 0, Unsupported = 1; // OFPET_ROLE_REQUEST_FAILED / OFPRRFC_STALE, OFPRRFC_UNSUP
    private const ushort BadRequest = 1, BadType = 1; // OFPET_BAD_REQUEST / OFPBRC_BAD_TYPE

    private static ByteString Utf8(string s) => ByteString.CopyFromUtf8(s);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1319, Level = LogLevel.Warning, Message = "Node {Node}: etcd compacted its history past revision {From} while the watch was away; caught up from the store at revision {At} ({Changes} keys read or gone)")]
        public static partial void Resynced(ILogger logger, string node, long from, long at, int changes);

        [LoggerMessage(EventId = 1300, Level = LogLevel.Information, Message = "Node {Node} joined the cluster: {Nodes} node(s) live, {Masters} switch(es) with a master")]
        public static partial void Joined(ILogger logger, string node, int nodes, int masters);

        [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "Node {Node} is master of {Switch} (generation {Generation})")]
        public static partial void Promoted(ILogger logger, string node, string @switch, ulong generation);

        [LoggerMessage(EventId = 1302, Level = LogLevel.Information, Message = "Node {Node} is no longer master of {Switch}")]
        public static partial void Demoted(ILogger logger, string node, string @switch);

        [LoggerMessage(EventId = 1303, Level = LogLevel.Warning, Message = "Node {Node}: {Switch} did not take role {Role}: {Error}; the node writes nothing to it and lets its claim go, and claims it again later (said again only if the answer changes)")]
        public static partial void RoleRefused(ILogger logger, string node, string @switch, ControllerRole role, string error);

        [LoggerMessage(EventId = 1304, Level = LogLevel.Debug, Message = "Node {Node}: {Switch} again did not take role {Role}: {Error}")]
        public static partial void RoleTroubleAgain(ILogger logger, string node, string @switch, ControllerRole role, string error);

        [LoggerMessage(EventId = 1315, Level = LogLevel.Information, Message = "Node {Node}: {Switch} answers role requests properly again (took {Role})")]
        public static partial void RoleAnsweredAgain(ILogger logger, string node, string @switch, ControllerRole role);

        [LoggerMessage(EventId = 1305, Level = LogLevel.Warning, Message = "Node {Node}: etcd does not answer ({What}: {Error}); retrying — new groups are refused with 503, masterships cannot change, switches keep forwarding what they have")]
        public static partial void EtcdTrouble(ILogger logger, string node, string what, string error);

        [LoggerMessage(EventId = 1316, Level = LogLevel.Warning, Message = "Node {Node}: etcd still does not answer after {Seconds:0} s ({Failures} failed calls since the last line; last {What}: {Error})")]
        public static partial void EtcdStillTrouble(ILogger logger, string node, double seconds, int failures, string what, string error);

        [LoggerMessage(EventId = 1317, Level = LogLevel.Debug, Message = "Node {Node}: etcd call failed again ({What}: {Error})")]
        public static partial void EtcdTroubleAgain(ILogger logger, string node, string what, string error);

        [LoggerMessage(EventId = 1318, Level = LogLevel.Information, Message = "Node {Node}: etcd answers again after {Seconds:0.0} s ({Failures} failed calls meanwhile)")]
        public static partial void EtcdBack(ILogger logger, string node, double seconds, int failures);

        [LoggerMessage(EventId = 1306, Level = LogLevel.Error, Message = "Node {Node} lost its etcd lease: it masters no switch until it claims one again")]
        public static partial void LeaseLost(ILogger logger, string node);

        [LoggerMessage(EventId = 1308, Level = LogLevel.Warning, Message = "Node {Node}: {Step} failed: {Error}")]
        public static partial void StepFailed(ILogger logger, string node, string step, string error);

        [LoggerMessage(EventId = 1309, Level = LogLevel.Warning, Message = "Ignoring unreadable group record {Key} from a peer")]
        public static partial void Unreadable(ILogger logger, string key);

        [LoggerMessage(EventId = 1310, Level = LogLevel.Warning, Message = "Node {Node}: {Switch} refused a group change ({Reasons}); reconciling it with the store")]
        public static partial void Reconciling(ILogger logger, string node, string @switch, string reasons);

        [LoggerMessage(EventId = 1311, Level = LogLevel.Warning, Message = "Node {Node} could not reconcile {Switch} with the store: it gives up the mastership")]
        public static partial void Resigned(ILogger logger, string node, string @switch);

        [LoggerMessage(EventId = 1313, Level = LogLevel.Warning, Message = "Node {Node}: etcd names it master of {Switch} (generation {Generation}) but it did not act as its master; that claim was dropped so the switch is claimed again")]
        public static partial void Orphaned(ILogger logger, string node, string @switch, ulong generation);

        [LoggerMessage(EventId = 1314, Level = LogLevel.Warning, Message = "Node {Node}: {Switch}'s role not settled within 10 s; its bootstrap goes on and the role follows")]
        public static partial void RoleUndecided(ILogger logger, string node, string @switch);

        [LoggerMessage(EventId = 1312, Level = LogLevel.Information, Message = "Node {Node} joined the cluster again with a new lease")]
        public static partial void Rejoined(ILogger logger, string node);
    }
}

/// <summary>A bootstrap step that writes to the switch: run only by the switch's master (a slave's writes are refused IS_SLAVE).</summary>
internal sealed class MasterOnlyStep(ISwitchBootstrapStep inner, Func<ClusterNode> node) : ISwitchBootstrapStep
{
    public ISwitchBootstrapStep Inner => inner;
    public int Order => inner.Order;
    public string Name => inner.Name;
    public Task<bool> RunAsync(OpenFlowSession session, CancellationToken cancellationToken) =>
        node().IsMaster(session.SwitchId) ? inner.RunAsync(session, cancellationToken) : Task.FromResult(true);
}
