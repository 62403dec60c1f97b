using System.Collections.Concurrent;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SubsetMulticast.Controller.Groups;
using SubsetMulticast.Core.Lifecycle;

namespace SubsetMulticast.Cluster.Etcd;

/// <summary>Where and how the group store talks to etcd.</summary>
public sealed record EtcdStoreOptions
{
    /// <summary>The etcd client URL, e.g. http://127.0.0.1:2379 (several, comma-separated, for a multi-member etcd).</summary>
    public required string Endpoints { get; init; }

    /// <summary>Every key of this controller (cluster) lives under this prefix.</summary>
    public string Prefix { get; init; } = "/tsm";

    /// <summary>How long one etcd call may take before the request that needed it is refused with 503.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// The group store on etcd. Reads are served from an in-memory view (<see cref="IGroupStore"/>, what the core's
/// lifecycle uses without I/O); every transaction is written through to etcd before any switch changes
/// (<see cref="IGroupJournal"/>). Keys, under <see cref="EtcdStoreOptions.Prefix"/>:
/// <list type="bullet">
/// <item><c>groups/{id}</c> — the group record (<see cref="StoredGroup"/> JSON);</item>
/// <item><c>addresses/{vlan}/{address}</c> — the id holding the address: created only if absent, so two controllers
/// never hand out one address;</item>
/// </list>
/// both bound to one etcd lease per group whose TTL is the group's remaining lease (rounded up to whole seconds,
/// at least etcd's 2 s minimum): etcd deletes an expired group even when no controller is alive. A persistent
/// set's pinned group has no lease. Loading (at start) reads every group back.
/// </summary>
public sealed partial class EtcdGroupStore : IGroupStore, IGroupJournal, IDisposable
{
    private readonly InMemoryGroupStore _view = new();
    private readonly ConcurrentDictionary<string, long> _leases = new(StringComparer.Ordinal);
    // The lease each recorded transaction's Before was on, for UndoAsync (a refresh moves the group to a new lease).
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<GroupTransaction, StrongBox> _beforeLeases = new();
    private sealed class StrongBox(long value) { public long Value { get; } = value; }
    private readonly EtcdClient _client;
    private readonly EtcdStoreOptions _options;
    private readonly TimeProvider _time;
    private ILogger _log;

    private EtcdGroupStore(EtcdClient client, EtcdStoreOptions options, TimeProvider time, ILogger log)
    {
        _client = client;
        _options = options;
        _time = time;
        _outage = new EtcdOutageLog(time);
        _log = log;
    }

    public EtcdClient Client => _client;

    /// <summary>
    /// Logs through <paramref name="factory"/> from now on, unless a logger was given to <see cref="OpenAsync"/>: the store
    /// is opened (and its groups loaded) before the controller's host, and its logging, exist.
    /// </summary>
    public void UseLogging(ILoggerFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (_log == NullLogger.Instance) _log = factory.CreateLogger<EtcdGroupStore>();
    }

    /// <summary>The etcd revision the view was last loaded at (a cluster node's watch starts right after it).</summary>
    public long LoadedRevision { get; private set; }

    /// <summary>The newest revision of this store's own writes: a transaction recorded by <see cref="RecordAsync"/> is at or before it.</summary>
    public long LastRevision => Interlocked.Read(ref _lastRevision);
    private long _lastRevision;

    private void NoteRevision(long revision)
    {
        long seen;
        while ((seen = Interlocked.Read(ref _lastRevision)) < revision && Interlocked.CompareExchange(ref _lastRevision, revision, seen) != seen) { }
    }

    /// <summary>The lease a group record was seen on (another controller's write, from a watch).</summary>
    internal void NoteLease(string id, long lease)
    {
        if (lease != 0) _leases[id] = lease;
    }
    public EtcdStoreOptions Options => _options;

    /// <summary>Connects and loads every stored group; throws <see cref="EtcdUnavailableException"/> when etcd does not answer in time.</summary>
    public static async Task<EtcdGroupStore> OpenAsync(EtcdStoreOptions options, TimeProvider? time = null, ILogger? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var store = new EtcdGroupStore(new EtcdClient(options.Endpoints), options, time ?? TimeProvider.System, log ?? NullLogger.Instance);
        try
        {
            await store.LoadAsync(cancellationToken).ConfigureAwait(false);
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    internal string GroupKey(string id) => $"{_options.Prefix}/groups/{id}";
    internal string AddressKey(RendezvousGroup g) => $"{_options.Prefix}/addresses/{g.Vlan.Value}/{g.Address}";
    internal string GroupsPrefix => $"{_options.Prefix}/groups/";

    /// <summary>Replaces the view with what etcd holds now; returns the revision read at.</summary>
    public async Task<long> LoadAsync(CancellationToken cancellationToken = default)
    {
        var range = await CallAsync(d => _client.GetRangeAsync(GroupsPrefix, deadline: d, cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(false);
        foreach (var g in _view.All()) _view.Remove(g.Id);
        _leases.Clear();
        foreach (var kv in range.Kvs) Observe(kv);
        LoadedRevision = range.Header.Revision;
        NoteRevision(range.Header.Revision);
        return range.Header.Revision;
    }

    /// <summary>Takes a record read from etcd into the view (a load, or another controller's write seen by a watch); ignores one that does not parse.</summary>
    internal bool Observe(Mvccpb.KeyValue kv)
    {
        if (!StoredGroup.TryParse(kv.Value.Span, out var g) || GroupKey(g.Id) != kv.Key.ToStringUtf8())
        {
            Log.Unreadable(_log, kv.Key.ToStringUtf8());
            return false;
        }
        if (_view.TryGet(g.Id, out var had) && had.Version > g.Version) return false;
        _view.Put(g);
        if (kv.Lease != 0) _leases[g.Id] = kv.Lease;
        return true;
    }

    // ---- IGroupStore: the in-memory view the lifecycle reads and commits to ----
    public bool TryGet(string id, out RendezvousGroup group) => _view.TryGet(id, out group);
    public IReadOnlyList<RendezvousGroup> All() => _view.All();
    public void Put(RendezvousGroup group) => _view.Put(group);
    public bool Remove(string id) => _view.Remove(id);
    public IReadOnlyList<RendezvousGroup> Page(string? after, int limit) => _view.Page(after, limit);
    public int Count => _view.Count;

    // ---- IGroupJournal: written through before the switches change ----
    public async ValueTask<TsmProblem?> RecordAsync(GroupTransaction tx, CancellationToken cancellationToken)
    {
        if (tx.Before is { } held) _beforeLeases.AddOrUpdate(tx, new StrongBox(_leases.GetValueOrDefault(held.Id)));
        try
        {
            switch (tx.Kind)
            {
                case TransactionKind.Create:
                case TransactionKind.Supersede:
                case TransactionKind.Refresh:
                {
                    var after = tx.After!;
                    long lease = await GrantAsync(after, cancellationToken).ConfigureAwait(false);
                    var txn = new TxnRequest();
                    string addressKey = AddressKey(after);
                    // Create: the address must be free in etcd (another controller may hold it). Supersede and refresh:
                    // it must still be the previous holder's.
                    txn.Compare.Add(tx.Kind == TransactionKind.Create
                        ? new Compare { Key = Utf8(addressKey), Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 }
                        : new Compare { Key = Utf8(addressKey), Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = Utf8(tx.Before!.Id) });
                    if (tx.Before is { } before && before.Id != after.Id)
                        txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = Utf8(GroupKey(before.Id)) } });
                    txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Utf8(GroupKey(after.Id)), Value = ByteString.CopyFrom(StoredGroup.From(after).ToJson()), Lease = lease } });
                    txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Utf8(addressKey), Value = Utf8(after.Id), Lease = lease } });
                    var result = await CallAsync(d => _client.TransactionAsync(txn, deadline: d, cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(false);
                    NoteRevision(result.Header.Revision);
                    if (!result.Succeeded)
                    {
                        if (lease != 0) await RevokeQuietlyAsync(lease).ConfigureAwait(false);
                        return new TsmProblem(ProblemKind.GroupBusy, tx.Kind == TransactionKind.Create
                            ? $"{after.Address} on VLAN {after.Vlan} is held by another controller of the cluster; retry for another address."
                            : $"{after.Address} on VLAN {after.Vlan} is no longer held by {tx.Before!.Id} in the store.");
                    }
                    if (lease != 0) _leases[after.Id] = lease;
                    else _leases.TryRemove(after.Id, out _);
                    NoteAnswered();
                    return null;
                }
                default:
                {
                    var before = tx.Before!;
                    // The lease may have deleted both already (an expiry); deleting nothing is fine.
                    var txn = new TxnRequest();
                    txn.Compare.Add(new Compare { Key = Utf8(AddressKey(before)), Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = Utf8(before.Id) });
                    txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = Utf8(AddressKey(before)) } });
                    txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = Utf8(GroupKey(before.Id)) } });
                    txn.Failure.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = Utf8(GroupKey(before.Id)) } });
                    var deleted = await CallAsync(d => _client.TransactionAsync(txn, deadline: d, cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(false);
                    NoteRevision(deleted.Header.Revision);
                    NoteAnswered();
                    return null;
                }
            }
        }
        catch (EtcdUnavailableException e)
        {
            NoteRefused(tx.Kind, e.Message);
            return new TsmProblem(ProblemKind.StoreUnavailable, $"The group store (etcd at {_options.Endpoints}) did not record the {tx.Kind.ToString().ToLowerInvariant()}: {e.Message}. Nothing changed; retry when it is back.");
        }
    }

    public async ValueTask UndoAsync(GroupTransaction tx, CancellationToken cancellationToken)
    {
        try
        {
            // One operation per key (etcd refuses a transaction naming a key twice): what After added goes, unless Before puts it back.
            var txn = new TxnRequest();
            var before = tx.Before;
            if (tx.After is { } after)
            {
                if (before is null || before.Id != after.Id)
                    txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = Utf8(GroupKey(after.Id)) } });
                if (before is null || AddressKey(before) != AddressKey(after))
                    txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = Utf8(AddressKey(after)) } });
            }
            if (before is not null && tx.After is null)
            {
                // A release taken back: only if its address is still free in etcd. Another node may have seen the delete and
                // given the address to a new group meanwhile; putting the old holder back would leave two groups on it.
                txn.Compare.Add(new Compare { Key = Utf8(AddressKey(before)), Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
            }
            if (before is not null)
            {
                // Back on the lease it had, which is still alive unless the group has meanwhile expired.
                long lease = before.Pinned || !_beforeLeases.TryGetValue(tx, out var box) ? 0 : box.Value;
                txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Utf8(GroupKey(before.Id)), Value = ByteString.CopyFrom(StoredGroup.From(before).ToJson()), Lease = lease } });
                txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Utf8(AddressKey(before)), Value = Utf8(before.Id), Lease = lease } });
            }
            var undone = await CallAsync(d => _client.TransactionAsync(txn, deadline: d, cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(false);
            NoteRevision(undone.Header.Revision);
            if (tx.After is { } a && (tx.Before is null || tx.Before.Id != a.Id) && _leases.TryRemove(a.Id, out var l)) await RevokeQuietlyAsync(l).ConfigureAwait(false);
        }
        catch (Exception e) when (e is EtcdUnavailableException or RpcException)
        {
            // The record left behind expires with its lease; a restarted controller reconciles the switches to it.
            Log.UndoFailed(_log, tx.Kind, (tx.After ?? tx.Before)!.Id, e.Message);
        }
    }

    private async Task<long> GrantAsync(RendezvousGroup g, CancellationToken ct)
    {
        if (g.Pinned) return 0;
        var remaining = g.Expires - _time.GetUtcNow();
        long ttl = Math.Max(2, (long)Math.Ceiling(remaining.TotalSeconds));
        var r = await CallAsync(d => _client.LeaseGrantAsync(new LeaseGrantRequest { TTL = ttl }, deadline: d, cancellationToken: ct), ct).ConfigureAwait(false);
        return r.ID;
    }

    private async Task RevokeQuietlyAsync(long lease)
    {
        try { await CallAsync(d => _client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease }, deadline: d)).ConfigureAwait(false); }
        catch (EtcdUnavailableException) { } // it runs out by itself
    }

    /// <summary>One etcd call bounded by <see cref="EtcdStoreOptions.CallTimeout"/>; an unreachable, slow or failing etcd is <see cref="EtcdUnavailableException"/>.</summary>
    /// <remarks>The gRPC client's retry path sometimes reports a passed deadline as <see cref="OperationCanceledException"/>
    /// rather than DeadlineExceeded (seen once in CI against a dead port): unless <paramref name="cancellationToken"/> asked
    /// for it, that is the same unavailable etcd.</remarks>
    internal async Task<T> CallAsync<T>(Func<DateTime, Task<T>> call, CancellationToken cancellationToken = default)
    {
        try { return await call(DateTime.UtcNow + _options.CallTimeout).ConfigureAwait(false); }
        catch (RpcException e) when (e.StatusCode is not StatusCode.Cancelled || !cancellationToken.IsCancellationRequested)
        {
            throw new EtcdUnavailableException(e.StatusCode == StatusCode.DeadlineExceeded
                ? $"no answer within {_options.CallTimeout.TotalSeconds:0.#} s (DeadlineExceeded)"
                : string.IsNullOrEmpty(e.Status.Detail) ? e.StatusCode.ToString() : $"{e.StatusCode}: {e.Status.Detail}", e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        { throw new EtcdUnavailableException($"no answer within {_options.CallTimeout.TotalSeconds:0.#} s ({e.Message})", e); }
    }

    // ---- what the log says while etcd is away: one line when it goes, one per interval while it stays away, one when it is back ----
    private readonly EtcdOutageLog _outage;

    /// <summary>A transaction refused because etcd did not answer: said as <see cref="EtcdOutageLog"/> decides (a client retrying in a loop wrote one warning per request before).</summary>
    private void NoteRefused(TransactionKind kind, string reason)
    {
        var f = _outage.Failed();
        if (f.Say == EtcdOutageLog.Say.First) Log.Unavailable(_log, _options.Endpoints, kind, reason, _options.CallTimeout.TotalSeconds);
        else if (f.Say == EtcdOutageLog.Say.Still) Log.StillUnavailable(_log, _options.Endpoints, f.Seconds, f.Failures, reason);
    }

    /// <summary>etcd recorded a transaction: an outage, if there was one, is over.</summary>
    private void NoteAnswered()
    {
        if (_outage.Answered(out double seconds, out int refused)) Log.Answering(_log, _options.Endpoints, seconds, refused);
    }

    internal static ByteString Utf8(string s) => ByteString.CopyFromUtf8(s);

    /// <summary>The same view and leases, talking to another endpoint (tests: an etcd that went away).</summary>
    internal EtcdGroupStore WithEndpointForTest(string endpoints)
    {
        var moved = new EtcdGroupStore(new EtcdClient(endpoints), _options with { Endpoints = endpoints }, _time, _log);
        foreach (var g in _view.All()) moved._view.Put(g);
        return moved;
    }

    public void Dispose() => _client.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 1200, Level = LogLevel.Warning, Message = "Ignoring unreadable group record {Key} in etcd")]
        public static partial void Unreadable(ILogger logger, string key);

        [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "The group store (etcd at {Endpoints}) is unavailable: a {Kind} was not recorded ({Reason}); group changes are refused with 503 (each after at most {Timeout} s) until it answers, and the switches keep forwarding the groups they have")]
        public static partial void Unavailable(ILogger logger, string endpoints, TransactionKind kind, string reason, double timeout);

        [LoggerMessage(EventId = 1203, Level = LogLevel.Warning, Message = "The group store (etcd at {Endpoints}) is still unavailable after {Seconds:0} s: {Refused} group change(s) refused with 503 since the last line ({Reason})")]
        public static partial void StillUnavailable(ILogger logger, string endpoints, double seconds, int refused, string reason);

        [LoggerMessage(EventId = 1204, Level = LogLevel.Information, Message = "The group store (etcd at {Endpoints}) answers again after {Seconds:0.0} s; {Refused} group change(s) were refused with 503 meanwhile")]
        public static partial void Answering(ILogger logger, string endpoints, double seconds, int refused);

        [LoggerMessage(EventId = 1202, Level = LogLevel.Warning, Message = "Could not take the {Kind} of {Id} back out of etcd ({Reason}); it expires with its lease")]
        public static partial void UndoFailed(ILogger logger, TransactionKind kind, string id, string reason);
    }
}

/// <summary>etcd did not answer in time, or refused the call; what needed it did not happen.</summary>
public sealed class EtcdUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
