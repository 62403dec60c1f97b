using Microsoft.Extensions.Logging;
using SubsetMulticast.Controller.Dashboard;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.Controller.Observability;

namespace SubsetMulticast.Controller.Groups;

/// <summary>
/// A group as a create or refresh left it, with the time from the request's start to the answer (the switches'
/// confirmation in confirmed mode, the write in optimistic mode, the look-up in persistent mode) and the mode
/// that applied (a persistent request no set covers is set up confirmed).
/// </summary>
public sealed record GroupResult(RendezvousGroup Group, long SetupMicros, SetupMode Setup = SetupMode.Confirmed);

/// <summary>
/// A release: the switches confirmed it at <paramref name="ConfirmedAt"/>; their fast paths have certainly
/// forgotten the group by <paramref name="StoppedBy"/> (the hold-down's end), when the address becomes reusable.
/// </summary>
public sealed record ReleaseResult(RendezvousGroup Group, DateTimeOffset ConfirmedAt, DateTimeOffset StoppedBy);

/// <summary>
/// Runs each group operation as one transaction: <see cref="GroupLifecycle"/> prepares it (validates, plans,
/// reserves), the applier sends it to every switch in one call, and the lifecycle commits it — or aborts it
/// when any switch refuses, so that nothing changed. Operations on different groups run concurrently: the
/// only shared lock is the lifecycle's short bookkeeping lock, never held across I/O.
/// </summary>
public sealed partial class GroupCoordinator
{
    private readonly GroupLifecycle _lifecycle;
    private readonly ITransactionApplier _applier;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly GroupChangeFeed? _changes;
    private readonly TsmMetrics? _metrics;
    private readonly IGroupJournal? _journal;

    /// <param name="changes">Where each committed change is published (the dashboard reads it); null publishes nothing.</param>
    /// <param name="metrics">The controller's instruments; null records nothing.</param>
    /// <param name="journal">Where each transaction is recorded durably before the switches change (etcd); null: the store is memory only.</param>
    internal GroupCoordinator(GroupLifecycle lifecycle, ITransactionApplier applier, TimeProvider time, ILogger<GroupCoordinator> log,
        GroupChangeFeed? changes = null, TsmMetrics? metrics = null, IGroupJournal? journal = null)
    {
        _journal = journal;
        _lifecycle = lifecycle;
        _applier = applier;
        _time = time;
        _log = log;
        _changes = changes;
        _metrics = metrics;
        _metrics?.Observe(this);
        Persistent = new PersistentSets(this, time);
    }

    public GroupLifecycle Lifecycle => _lifecycle;

    /// <summary>Persistent sets (draft §7.2) a <see cref="SetupMode.Persistent"/> create looks in.</summary>
    public PersistentSets Persistent { get; }

    public bool TryGet(string id, out RendezvousGroup group) => _lifecycle.Store.TryGet(id, out group);

    public IReadOnlyList<RendezvousGroup> All() => _lifecycle.Store.All();

    /// <summary>Creates a group, or supersedes the one at <see cref="CreateGroupRequest.Group"/>.</summary>
    /// <param name="startTimestamp">The request's start (<see cref="TimeProvider.GetTimestamp"/>); 0 for now.</param>
    public async ValueTask<Outcome<GroupResult>> CreateAsync(CreateGroupRequest request, CancellationToken cancellationToken, long startTimestamp = 0)
    {
        long start = startTimestamp != 0 ? startTimestamp : _time.GetTimestamp();
        if (request.Setup == SetupMode.Persistent)
        {
            if (Persistent.TryFind(request, out var installed)) return new GroupResult(installed, Micros(start), SetupMode.Persistent);
            request = request with { Setup = SetupMode.Confirmed };
        }
        Outcome<GroupTransaction> done = default;
        for (int attempt = 0; attempt < 5; attempt++)
        {
            var prepared = _lifecycle.PrepareCreate(request);
            if (!prepared.Succeeded) return Refused(prepared.Problem!, "create");
            if (SetupTrace.Current is { } trace) trace.Prepared = SetupTrace.Now;
            done = await ExecuteAsync(prepared.Value!, cancellationToken, request.Setup == SetupMode.Optimistic).ConfigureAwait(false);
            // An allocated address the shared store says another controller took meanwhile (a cluster): take the next one.
            if (done.Succeeded || request.Group is not null || done.Problem!.Kind != ProblemKind.GroupBusy) break;
        }
        _metrics?.GroupOperation("create", done.Problem);
        if (!done.Succeeded) return done.Problem!;
        _metrics?.GroupSetUp(_time.GetElapsedTime(start));
        var result = new GroupResult(done.Value!.After!, Micros(start), request.Setup);
        Log.Applied(_log, done.Value.Kind, result.Group.Id, result.Group.Address, result.Group.Switches.Count, result.SetupMicros);
        Publish(GroupChangeKind.Created, result.Group, result.SetupMicros, done.Value.Kind == TransactionKind.Supersede ? done.Value.Before?.Id : null);
        return result;
    }

    /// <summary>Re-resolves the members (IP → MAC → port) and renews the lease.</summary>
    public async ValueTask<Outcome<GroupResult>> RefreshAsync(string id, CancellationToken cancellationToken, long startTimestamp = 0)
    {
        long start = startTimestamp != 0 ? startTimestamp : _time.GetTimestamp();
        var prepared = _lifecycle.PrepareRefresh(id);
        if (!prepared.Succeeded) return Refused(prepared.Problem!, "refresh");
        var done = await ExecuteAsync(prepared.Value!, cancellationToken).ConfigureAwait(false);
        _metrics?.GroupOperation("refresh", done.Problem);
        if (!done.Succeeded) return done.Problem!;
        _metrics?.GroupSetUp(_time.GetElapsedTime(start));
        var result = new GroupResult(done.Value!.After!, Micros(start));
        Log.Applied(_log, TransactionKind.Refresh, id, result.Group.Address, result.Group.Switches.Count, result.SetupMicros);
        Publish(GroupChangeKind.Refreshed, result.Group, result.SetupMicros);
        return result;
    }

    /// <summary>Removes the group from every switch and frees its address. Returns the released record.</summary>
    public async ValueTask<Outcome<RendezvousGroup>> ReleaseAsync(string id, CancellationToken cancellationToken)
    {
        var done = await ReleaseWithReportAsync(id, cancellationToken).ConfigureAwait(false);
        return done.Succeeded ? done.Value!.Group : done.Problem!;
    }

    /// <summary>
    /// Removes the group from every switch and frees its address after the hold-down; says when the switches
    /// confirmed and by when delivery has certainly stopped. A persistent set's group is released with its set only.
    /// </summary>
    public ValueTask<Outcome<ReleaseResult>> ReleaseWithReportAsync(string id, CancellationToken cancellationToken)
    {
        if (_lifecycle.Store.TryGet(id, out var g) && g.Pinned)
            return ValueTask.FromResult<Outcome<ReleaseResult>>(Refused(new TsmProblem(ProblemKind.GroupBusy,
                $"Group {id} belongs to a persistent set and stays installed; delete the set to release it."), "release"));
        return ReleaseAnyAsync(id, cancellationToken);
    }

    internal async ValueTask<Outcome<ReleaseResult>> ReleaseAnyAsync(string id, CancellationToken cancellationToken)
    {
        long start = _time.GetTimestamp();
        var prepared = _lifecycle.PrepareRelease(id);
        if (!prepared.Succeeded) return Refused(prepared.Problem!, "release");
        var done = await ExecuteAsync(prepared.Value!, cancellationToken).ConfigureAwait(false);
        _metrics?.GroupOperation("release", done.Problem);
        if (!done.Succeeded) return done.Problem!;
        var group = done.Value!.Before!;
        Log.Applied(_log, TransactionKind.Release, id, group.Address, group.Switches.Count, Micros(start));
        Publish(GroupChangeKind.Released, group, null);
        var stoppedBy = done.Value.ReusableAt ?? _time.GetUtcNow();
        return new ReleaseResult(group, stoppedBy - _lifecycle.HoldDown, stoppedBy);
    }

    /// <summary>
    /// Releases up to <paramref name="max"/> groups whose lease has run out, <paramref name="parallelism"/> at a
    /// time; the others stay for the next sweep. A sweep, once begun, runs to its end (a half-run sweep would
    /// leave groups marked busy). Returns how many were released.
    /// </summary>
    public async Task<int> ExpireDueAsync(int max, int parallelism)
    {
        var due = _lifecycle.PrepareExpired();
        if (due.Count == 0) return 0;
        for (int i = max; i < due.Count; i++) _lifecycle.Abort(due[i]);
        int released = 0;
        await Parallel.ForEachAsync(due.Take(max), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism) }, async (tx, ct) =>
        {
            var done = await ExecuteAsync(tx, ct).ConfigureAwait(false);
            _metrics?.GroupOperation("expire", done.Problem);
            if (done.Succeeded)
            {
                Interlocked.Increment(ref released);
                Log.Expired(_log, tx.Before!.Id, tx.Before.Address, tx.Before.Expires);
                Publish(GroupChangeKind.Expired, tx.Before, null);
            }
        }).ConfigureAwait(false);
        return released;
    }

    private async ValueTask<Outcome<GroupTransaction>> ExecuteAsync(GroupTransaction tx, CancellationToken cancellationToken, bool optimistic = false)
    {
        // Recorded before any switch changes: a controller killed after this point comes back with the group and
        // reconciles the switches to it; one killed before it has told nobody, and the switches were not touched.
        if (_journal is not null)
        {
            TsmProblem? unrecorded;
            try { unrecorded = await _journal.RecordAsync(tx, cancellationToken).ConfigureAwait(false); }
            catch
            {
                _lifecycle.Abort(tx);
                throw;
            }
            if (unrecorded is not null)
            {
                _lifecycle.Abort(tx);
                return unrecorded;
            }
        }
        SouthboundResult result;
        try
        {
            if (optimistic)
            {
                var staged = await _applier.ApplyStagedAsync(tx, cancellationToken).ConfigureAwait(false);
                result = staged.Written;
                if (result.Succeeded && !staged.Confirmed.IsCompleted) _ = UndoIfRefusedAsync(tx.After!, staged.Confirmed);
                else if (result.Succeeded) result = staged.Confirmed.Result;
            }
            else result = await _applier.ApplyAsync(tx, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (_journal is not null) await _journal.UndoAsync(tx, CancellationToken.None).ConfigureAwait(false);
            _lifecycle.Abort(tx);
            throw;
        }
        catch (Exception e)
        {
            result = SouthboundResult.Failed(new SwitchFailure(_applier.Name, $"{e.GetType().Name}: {e.Message}"));
        }
        if (result.Succeeded)
        {
            _lifecycle.Commit(tx);
            return tx;
        }
        if (_journal is not null) await _journal.UndoAsync(tx, CancellationToken.None).ConfigureAwait(false);
        _lifecycle.Abort(tx);
        var who = tx.After ?? tx.Before!;
        var reasons = result.Failures.Count == 0
            ? "no reason given"
            : string.Join("; ", result.Failures.Select(f => $"{f.SwitchId}: {f.Reason}"));
        var problem = new TsmProblem(ProblemKind.SouthboundFailed,
            $"{tx.Kind} of {who.Id} ({who.Address} on VLAN {who.Vlan}) through {_applier.Name}: {result.Failures.Count} switch(es) refused and every change was rolled back — {reasons}.");
        Log.SouthboundFailed(_log, tx.Kind, who.Id, _applier.Name, reasons);
        return problem;
    }

    /// <summary>
    /// An optimistic create was answered before the switches confirmed it; if one refuses after all, the group is
    /// released (the client finds it gone, as after an expiry) so that no switch keeps part of it.
    /// </summary>
    private async Task UndoIfRefusedAsync(RendezvousGroup group, Task<SouthboundResult> confirmed)
    {
        var result = await confirmed.ConfigureAwait(false);
        if (result.Succeeded) return;
        var reasons = string.Join("; ", result.Failures.Select(f => $"{f.SwitchId}: {f.Reason}"));
        Log.OptimisticRefused(_log, group.Id, group.Address, reasons);
        for (int attempt = 0; attempt < 100; attempt++)
        {
            var released = await ReleaseAnyAsync(group.Id, CancellationToken.None).ConfigureAwait(false);
            // Not found: the client released it meanwhile. Busy: its own release or refresh is running; try again.
            if (released.Succeeded || released.Problem!.Kind != ProblemKind.GroupBusy) return;
            await Task.Delay(TimeSpan.FromMilliseconds(10), _time).ConfigureAwait(false);
        }
    }

    private TsmProblem Refused(TsmProblem problem, string operation)
    {
        _metrics?.GroupOperation(operation, problem);
        Log.Refused(_log, operation, problem.Kind, problem.Detail);
        return problem;
    }

    private void Publish(GroupChangeKind kind, RendezvousGroup group, long? setupMicros, string? superseded = null) =>
        _changes?.Publish(new GroupChange(kind, group, setupMicros, _time.GetUtcNow(), superseded));

    private long Micros(long start) => (long)_time.GetElapsedTime(start).TotalMicroseconds;

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Debug, Message = "{Kind} {Id} at {Address}: {Switches} switch(es) in {Micros} µs")]
        public static partial void Applied(ILogger logger, TransactionKind kind, string id, Core.Addressing.IpAddress address, int switches, long micros);

        [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Lease of {Id} at {Address} ran out at {Expires:o}; released")]
        public static partial void Expired(ILogger logger, string id, Core.Addressing.IpAddress address, DateTimeOffset expires);

        [LoggerMessage(EventId = 102, Level = LogLevel.Debug, Message = "{Operation} refused ({Kind}): {Detail}")]
        public static partial void Refused(ILogger logger, string operation, ProblemKind kind, string detail);

        [LoggerMessage(EventId = 104, Level = LogLevel.Warning, Message = "Optimistic create of {Id} at {Address} was refused after the answer; releasing it: {Reasons}")]
        public static partial void OptimisticRefused(ILogger logger, string id, Core.Addressing.IpAddress address, string reasons);

        [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "{Kind} of {Id} failed in {Southbound} and was rolled back: {Reasons}")]
        public static partial void SouthboundFailed(ILogger logger, TransactionKind kind, string id, string southbound, string reasons);
    }
}
