using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.Persistent;

namespace SubsetMulticast.Controller.Groups;

/// <summary>A persistent set as installed: every k-of-n subset of <see cref="Members"/> on <see cref="Count"/> addresses from <see cref="First"/>.</summary>
public sealed record PersistentSetInfo(string Id, VlanId Vlan, IpAddress Reference, IReadOnlyList<IpAddress> Members, int K, IpAddress First, long Count);

/// <summary>
/// The draft's alternate method (§7.2): for a negotiating group of n members, one group for every k-of-n subset
/// is installed ahead — ordinary (pinned, lease-less) groups through the coordinator, so every one keeps the
/// subset rule and is confirmed by every switch — on consecutive addresses numbered by
/// <see cref="PersistentGroupSet"/>. A <see cref="SetupMode.Persistent"/> create then costs an O(k) rank
/// computation and a dictionary look-up: no switch is touched.
/// </summary>
public sealed class PersistentSets
{
    /// <summary>The most groups one set may install (C(20,3) = 1140; C(32,4) = 35,960).</summary>
    public const long MaxGroups = 65_536;

    private readonly GroupCoordinator _groups;
    private readonly object _gate = new();
    private readonly Dictionary<string, Entry> _sets = new(StringComparer.Ordinal);
    private Entry[] _snapshot = [];
    private long _nextId;

    internal PersistentSets(GroupCoordinator groups, TimeProvider time)
    {
        _groups = groups;
        _ = time;
    }

    private sealed record Entry(PersistentSetInfo Info, PersistentGroupSet Set, string[] GroupIds);

    public IReadOnlyList<PersistentSetInfo> All() => [.. Volatile.Read(ref _snapshot).Select(e => e.Info)];

    public bool TryGet(string id, out PersistentSetInfo info)
    {
        lock (_gate)
        {
            var found = _sets.TryGetValue(id, out var e);
            info = e?.Info!;
            return found;
        }
    }

    /// <summary>The installed group for exactly these members, if a set on the request's VLAN and reference covers them.</summary>
    public bool TryFind(CreateGroupRequest request, out RendezvousGroup group)
    {
        group = null!;
        if (request.Members is not IpAddress[] members) members = [.. request.Members];
        foreach (var e in Volatile.Read(ref _snapshot))
        {
            if (e.Info.Vlan != request.Vlan || e.Info.Reference != request.Reference) continue;
            if (e.Set.TryRank(members, out var rank) && _groups.TryGet(e.GroupIds[rank], out group)) return true;
        }
        return false;
    }

    /// <summary>Installs every k-of-n subset's group, all confirmed, or none (each one created is released again).</summary>
    public async Task<Outcome<PersistentSetInfo>> CreateAsync(VlanId vlan, IpAddress reference, IReadOnlyList<IpAddress> members, int k, CancellationToken cancellationToken)
    {
        PersistentGroupSet probe;
        try { probe = new PersistentGroupSet(members, k, reference); }
        catch (ArgumentException e) { return new TsmProblem(ProblemKind.InvalidRequest, e.Message); }
        if (probe.Count > MaxGroups)
            return new TsmProblem(ProblemKind.InvalidRequest, $"C({members.Count},{k}) = {probe.Count} groups; a persistent set holds at most {MaxGroups}.");
        if (!_groups.Lifecycle.TryFindFreeRun(vlan, reference, (int)probe.Count, out var first))
            return new TsmProblem(ProblemKind.BlockExhausted, $"VLAN {vlan}'s block for {reference} has no run of {probe.Count} free addresses.");
        var set = new PersistentGroupSet(members, k, first);
        var ids = new string[set.Count];
        TsmProblem? problem = null;
        await Parallel.ForAsync(0L, set.Count, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (rank, ct) =>
        {
            if (Volatile.Read(ref problem) is not null) return;
            var request = new CreateGroupRequest(vlan, reference, set.SubsetAt(rank), null, first.Add((ulong)rank)) { Pinned = true };
            var made = await _groups.CreateAsync(request, ct).ConfigureAwait(false);
            if (made.Succeeded) ids[rank] = made.Value!.Group.Id;
            else Interlocked.CompareExchange(ref problem, made.Problem, null);
        }).ConfigureAwait(false);
        if (problem is not null)
        {
            foreach (var id in ids) if (id is not null) await _groups.ReleaseAnyAsync(id, CancellationToken.None).ConfigureAwait(false);
            return new TsmProblem(problem.Kind, $"Persistent set not installed (every group made was released): {problem.Detail}");
        }
        lock (_gate)
        {
            var info = new PersistentSetInfo($"ps-{++_nextId:x4}", vlan, reference, [.. members], k, first, set.Count);
            _sets[info.Id] = new Entry(info, set, ids);
            _snapshot = [.. _sets.Values];
            return info;
        }
    }

    /// <summary>Releases every group of the set (each with the usual hold-down) and forgets the set.</summary>
    public async Task<Outcome<PersistentSetInfo>> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        Entry? entry;
        lock (_gate)
        {
            if (!_sets.Remove(id, out entry)) return new TsmProblem(ProblemKind.GroupNotFound, $"No persistent set '{id}'.");
            _snapshot = [.. _sets.Values];
        }
        TsmProblem? problem = null;
        await Parallel.ForEachAsync(entry.GroupIds, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (gid, _) =>
        {
            var done = await _groups.ReleaseAnyAsync(gid, cancellationToken).ConfigureAwait(false);
            if (!done.Succeeded && done.Problem!.Kind != ProblemKind.GroupNotFound) Interlocked.CompareExchange(ref problem, done.Problem, null);
        }).ConfigureAwait(false);
        return problem is null ? entry.Info : problem;
    }
}
