using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.Planning;
using SubsetMulticast.Core.ReferenceGroups;
using SubsetMulticast.Core.Southbound;

namespace SubsetMulticast.Core.Lifecycle;

/// <summary>
/// Creates, refreshes, supersedes, releases and expires rendezvous groups as two-phase transactions:
/// Prepare validates, plans and reserves (address, group) without touching any switch or record;
/// the caller applies <see cref="GroupTransaction.Changes"/> through a southbound and then calls
/// <see cref="Commit"/>, or <see cref="Abort"/> which leaves everything as it was. No I/O here.
/// </summary>
public sealed class GroupLifecycle
{
    [ThreadStatic] private static PlanBuffer? t_buffer;

    private readonly object _gate = new();
    private readonly LifecycleOptions _options;
    private readonly ReferenceGroupTable _references;
    private readonly HostTable _hosts;
    private readonly IGroupStore _store;
    private readonly TimeProvider _time;
    private readonly Dictionary<ushort, VlanBlocks> _vlans;
    private readonly Dictionary<(VlanId, IpAddress), string> _byAddress = new();
    private readonly HashSet<string> _busy = new(StringComparer.Ordinal);
    // Another controller's record for an address that a transaction of ours still holds (typically our release of the
    // old group, still waiting for the masters' confirmation, while another node has already reused the address):
    // kept, newest per id, and taken in once that transaction settles. Dropping it lost the new group on this node for
    // good — the watch does not deliver it again ("node n3 lost acknowledged groups", issue 12).
    private readonly Dictionary<string, RendezvousGroup> _waiting = new(StringComparer.Ordinal);
    private long _nextId;
    // No committed group expires before this: the sweep scans the store only once it has passed, not every tick
    // (a million live groups made every one-second sweep a full scan under the lock). Lowered on every commit
    // and abort, recomputed by each scan.
    private DateTimeOffset _earliestExpiry = DateTimeOffset.MaxValue;

    public GroupLifecycle(LifecycleOptions options, ReferenceGroupTable references, HostTable hosts, IGroupStore store, TimeProvider time)
    {
        _options = options;
        _references = references;
        _hosts = hosts;
        _store = store;
        _time = time;
        _vlans = options.Vlans.ToDictionary(v => v.Vlan.Value);
        // A rendezvous address is never learned as a reference group (nobody should join one; if a host does, it is ignored).
        foreach (var v in options.Vlans)
        {
            if (v.V4 is { } b4) references.ExcludeBlock(b4);
            if (v.V6 is { } b6) references.ExcludeBlock(b6);
        }
        foreach (var g in store.All())
        {
            _vlans[g.Vlan.Value].For(g.Address)?.TryReserve(g.Address);
            _byAddress[(g.Vlan, g.Address)] = g.Id;
            // Ids continue after the store's highest, so a restarted controller never hands out a live id again.
            NoteId(g.Id);
            if (g.Expires < _earliestExpiry) _earliestExpiry = g.Expires;
        }
    }

    public IReadOnlyCollection<ushort> AllowedVlans => _vlans.Keys;
    public IGroupStore Store => _store;

    /// <summary>How long a released address stays out of use (<see cref="LifecycleOptions.ReleaseHoldDown"/>).</summary>
    public TimeSpan HoldDown => _options.ReleaseHoldDown;

    public Outcome<GroupTransaction> PrepareCreate(CreateGroupRequest request)
    {
        if (!_vlans.TryGetValue(request.Vlan.Value, out var blocks))
            return new TsmProblem(ProblemKind.VlanNotAllowed, $"VLAN {request.Vlan} is not one of the transactional-multicast VLANs ({string.Join(", ", _vlans.Keys.Order())}).");
        if (request.Members.Count == 0)
            return new TsmProblem(ProblemKind.EmptyMemberList, "A rendezvous group needs at least one member.");
        if (request.Members.Count > _options.MaxMembers)
            return new TsmProblem(ProblemKind.TooManyMembers, $"{request.Members.Count} members; at most {_options.MaxMembers}.");
        var ttl = request.Ttl ?? _options.DefaultTtl;
        if (!request.Pinned && (ttl <= TimeSpan.Zero || ttl > _options.MaxTtl))
            return new TsmProblem(ProblemKind.InvalidRequest, $"ttl must be between 1 ms and {_options.MaxTtl.TotalMilliseconds:0} ms.");
        var block = blocks.For(request.Reference);
        if (block is null)
            return new TsmProblem(ProblemKind.AddressFamilyMismatch, $"VLAN {request.Vlan} has no {(request.Reference.IsV4 ? "IPv4" : "IPv6")} block for reference group {request.Reference}.");
        foreach (var m in request.Members)
            if (m.IsV4 != request.Reference.IsV4 || m.IsMulticast || m.IsUnspecified)
                return new TsmProblem(ProblemKind.AddressFamilyMismatch, $"Member {m} is not a unicast address of the reference group's family.");
        if (request.Group is { } wanted && !block.Contains(wanted))
            return new TsmProblem(ProblemKind.AddressOutsideBlock, $"{wanted} is not in VLAN {request.Vlan}'s block {block}.");
        if (!_references.TryGet(request.Vlan, request.Reference, out var reference))
            return new TsmProblem(ProblemKind.UnknownReferenceGroup, $"No reference group {request.Reference} on VLAN {request.Vlan}: no switch has learned members for it.");

        var plan = PlanFor(reference, request.Members, out var effective, out var ignored);
        if (effective.Count == 0)
            return new TsmProblem(ProblemKind.NoMemberInReferenceGroup,
                $"None of the members is in reference group {request.Reference}: {string.Join(", ", ignored.Select(i => $"{i.Member} ({i.Reason})"))}.");

        var now = _time.GetUtcNow();
        lock (_gate)
        {
            block.ReleaseDue(now.UtcTicks);
            RendezvousGroup? before = null;
            IpAddress address;
            bool reserved;
            if (request.Group is { } g)
            {
                address = g;
                if (_byAddress.TryGetValue((request.Vlan, g), out var holder))
                {
                    if (_busy.Contains(holder)) return new TsmProblem(ProblemKind.GroupBusy, $"Group {holder} at {g} has a transaction in progress.");
                    _store.TryGet(holder, out before!);
                    reserved = false;
                }
                else if (!block.TryReserve(g))
                    return new TsmProblem(ProblemKind.GroupBusy, block.IsHeldDown(g)
                        ? $"{g} was released less than {_options.ReleaseHoldDown.TotalMilliseconds:0.#} ms ago and is held down until every switch has certainly forgotten it; retry shortly."
                        : $"{g} is being set up by another request.");
                else reserved = true;
            }
            else
            {
                if (!block.TryAllocate(out address))
                    return new TsmProblem(ProblemKind.BlockExhausted, $"All {block.Size} addresses of VLAN {request.Vlan}'s block {block} are in use; release a group or retry.");
                reserved = true;
            }
            var id = $"{_options.IdPrefix}{++_nextId:x8}";
            var after = new RendezvousGroup(id, request.Vlan, request.Reference, address, [.. request.Members], effective, ignored,
                plan, ttl, now, request.Pinned ? DateTimeOffset.MaxValue : now + ttl, 1) { Pinned = request.Pinned, Owner = request.Owner };
            if (before is not null) _busy.Add(before.Id);
            _busy.Add(id);
            return new GroupTransaction(before is null ? TransactionKind.Create : TransactionKind.Supersede, before, after, Diff(before, after), reserved);
        }
    }

    public Outcome<GroupTransaction> PrepareRefresh(string id)
    {
        var begun = Begin(id);
        if (!begun.Succeeded) return begun.Problem!;
        var group = begun.Value!;
        if (!_references.TryGet(group.Vlan, group.Reference, out var reference))
        {
            Unbusy(id);
            return new TsmProblem(ProblemKind.UnknownReferenceGroup, $"Reference group {group.Reference} on VLAN {group.Vlan} has gone; release the group.");
        }
        var plan = PlanFor(reference, group.Members, out var effective, out var ignored);
        if (effective.Count == 0)
        {
            Unbusy(id);
            return new TsmProblem(ProblemKind.NoMemberInReferenceGroup, $"No member of {group.Id} is in reference group {group.Reference} any more; release the group.");
        }
        var now = _time.GetUtcNow();
        var after = group with { Effective = effective, Ignored = ignored, Switches = plan, Expires = group.Pinned ? DateTimeOffset.MaxValue : now + group.Ttl, Version = group.Version + 1 };
        return new GroupTransaction(TransactionKind.Refresh, group, after, Diff(group, after), false);
    }

    public Outcome<GroupTransaction> PrepareRelease(string id)
    {
        var begun = Begin(id);
        if (!begun.Succeeded) return begun.Problem!;
        return new GroupTransaction(TransactionKind.Release, begun.Value, null, Diff(begun.Value, null), false);
    }

    /// <summary>Release transactions for every idle group whose lease has run out.</summary>
    public IReadOnlyList<GroupTransaction> PrepareExpired()
    {
        var now = _time.GetUtcNow();
        var result = new List<GroupTransaction>();
        lock (_gate)
        {
            if (now < _earliestExpiry) return result;
            var next = DateTimeOffset.MaxValue;
            foreach (var g in _store.All())
            {
                if (g.Expires > now || _busy.Contains(g.Id))
                {
                    // A busy one settles through Commit or Abort, which lower the mark again.
                    if (g.Expires > now && g.Expires < next) next = g.Expires;
                    continue;
                }
                _busy.Add(g.Id);
                result.Add(new GroupTransaction(TransactionKind.Expire, g, null, Diff(g, null), false));
            }
            _earliestExpiry = next;
        }
        return result;
    }

    public void Commit(GroupTransaction tx)
    {
        lock (_gate)
        {
            if (tx.Settled) throw new InvalidOperationException("The transaction is already settled.");
            tx.Settled = true;
            if (tx.Before is { } before)
            {
                _busy.Remove(before.Id);
                if (tx.After is null || tx.After.Id != before.Id)
                {
                    _store.Remove(before.Id);
                    _byAddress.Remove((before.Vlan, before.Address));
                    if (tx.After is null)
                    {
                        // Commit follows the switches' confirmation; the hold-down covers what their fast paths still remember.
                        var reusable = _time.GetUtcNow() + _options.ReleaseHoldDown;
                        tx.ReusableAt = reusable;
                        if (_options.ReleaseHoldDown > TimeSpan.Zero) _vlans[before.Vlan.Value].For(before.Address)?.Free(before.Address, reusable.UtcTicks);
                        else _vlans[before.Vlan.Value].For(before.Address)?.Free(before.Address);
                    }
                }
            }
            if (tx.After is { } after)
            {
                _busy.Remove(after.Id);
                _store.Put(after);
                if (after.Expires < _earliestExpiry) _earliestExpiry = after.Expires;
                _byAddress[(after.Vlan, after.Address)] = after.Id;
            }
            TakeWaiting();
        }
    }

    public void Abort(GroupTransaction tx)
    {
        lock (_gate)
        {
            if (tx.Settled) throw new InvalidOperationException("The transaction is already settled.");
            tx.Settled = true;
            if (tx.Before is { } before)
            {
                _busy.Remove(before.Id);
                // An aborted expiry or refresh leaves the group as it was: due again at its old time.
                if (before.Expires < _earliestExpiry) _earliestExpiry = before.Expires;
            }
            if (tx.After is { } after)
            {
                _busy.Remove(after.Id);
                // Not when another controller's group has meanwhile been taken in at that address (that is usually why the
                // store refused this one): the address is that group's now.
                if (tx.ReservedAddress && !_byAddress.ContainsKey((after.Vlan, after.Address))) _vlans[after.Vlan.Value].For(after.Address)?.Free(after.Address);
            }
            TakeWaiting();
        }
    }

    /// <summary>Takes in the records that waited for a transaction of ours to settle (under the lock).</summary>
    private void TakeWaiting()
    {
        if (_waiting.Count == 0) return;
        var waiting = _waiting.Values.ToList();
        _waiting.Clear();
        foreach (var g in waiting) Observe(g); // one still blocked waits again
    }

    /// <summary>
    /// Takes in a group committed by another controller sharing the store (a cluster): its address is reserved and it
    /// is listed, refreshed, released and expired like one of ours. Ignored (false) while a transaction of ours holds
    /// it — its commit settles it — or when the record held is as new, or its VLAN is not ours.
    /// </summary>
    public bool Observe(RendezvousGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        lock (_gate)
        {
            if (_busy.Contains(group.Id) || !_vlans.TryGetValue(group.Vlan.Value, out var blocks)) return false;
            if (_store.TryGet(group.Id, out var had) && had.Version >= group.Version) return false;
            if (_waiting.TryGetValue(group.Id, out var older) && older.Version > group.Version) return false;
            if (_byAddress.TryGetValue((group.Vlan, group.Address), out var holder) && holder != group.Id)
            {
                if (_busy.Contains(holder))
                {
                    // Our transaction on the old holder settles first (a release of ours the other node has already seen).
                    _waiting[group.Id] = group;
                    return false;
                }
                // A supersede elsewhere: the address passed to a new group; the old record goes with it.
                _store.Remove(holder);
            }
            else if (had is null) blocks.For(group.Address)?.Claim(group.Address);
            _waiting.Remove(group.Id);
            _store.Put(group);
            _byAddress[(group.Vlan, group.Address)] = group.Id;
            if (group.Expires < _earliestExpiry) _earliestExpiry = group.Expires;
            NoteId(group.Id);
            return true;
        }
    }

    /// <summary>Forgets a group removed by another controller, or by its lease running out in the store; its address is freed after the hold-down.</summary>
    public bool ObserveRemoved(string id)
    {
        lock (_gate)
        {
            _waiting.Remove(id); // a record that waited is gone again
            if (_busy.Contains(id) || !_store.TryGet(id, out var g)) return false;
            _store.Remove(id);
            if (_byAddress.TryGetValue((g.Vlan, g.Address), out var holder) && holder == id)
            {
                _byAddress.Remove((g.Vlan, g.Address));
                var block = _vlans[g.Vlan.Value].For(g.Address);
                if (_options.ReleaseHoldDown > TimeSpan.Zero) block?.Free(g.Address, (_time.GetUtcNow() + _options.ReleaseHoldDown).UtcTicks);
                else block?.Free(g.Address);
            }
            return true;
        }
    }

    /// <summary>Ids continue after the highest of ours seen, so a restarted controller never hands out a live id again.</summary>
    private void NoteId(string id)
    {
        if (id.StartsWith(_options.IdPrefix, StringComparison.Ordinal) &&
            long.TryParse(id.AsSpan(_options.IdPrefix.Length), System.Globalization.NumberStyles.HexNumber, null, out var n) && n > _nextId)
            _nextId = n;
    }

    /// <summary>The id of the committed group holding <paramref name="address"/> on <paramref name="vlan"/> (push Release/Refresh name groups by address).</summary>
    public bool TryFindByAddress(VlanId vlan, IpAddress address, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? id)
    {
        lock (_gate) return _byAddress.TryGetValue((vlan, address), out id);
    }

    /// <summary>
    /// The first of <paramref name="count"/> consecutive free addresses in the block for <paramref name="reference"/>'s
    /// family on <paramref name="vlan"/> (a persistent set numbers its groups onto such a run). Nothing is reserved:
    /// the caller creates each group at its address, and a create that finds one taken fails like any other.
    /// </summary>
    public bool TryFindFreeRun(VlanId vlan, IpAddress reference, int count, out IpAddress first)
    {
        first = default;
        lock (_gate)
        {
            var block = _vlans.TryGetValue(vlan.Value, out var blocks) ? blocks.For(reference) : null;
            if (block is null) return false;
            block.ReleaseDue(_time.GetUtcNow().UtcTicks);
            return block.TryFindFreeRun(count, out first);
        }
    }

    /// <summary>Addresses in use in a VLAN's block for a family, for observability.</summary>
    public (int InUse, int Size)? BlockUsage(VlanId vlan, bool v4)
    {
        lock (_gate)
        {
            var b = _vlans.TryGetValue(vlan.Value, out var blocks) ? (v4 ? blocks.V4 : blocks.V6) : null;
            return b is null ? null : (b.InUse, b.Size);
        }
    }

    private Outcome<RendezvousGroup> Begin(string id)
    {
        lock (_gate)
        {
            if (!_store.TryGet(id, out var group)) return new TsmProblem(ProblemKind.GroupNotFound, $"No rendezvous group '{id}'.");
            if (!_busy.Add(id)) return new TsmProblem(ProblemKind.GroupBusy, $"Group {id} has a transaction in progress.");
            return group;
        }
    }

    private void Unbusy(string id)
    {
        lock (_gate) _busy.Remove(id);
    }

    private List<SwitchPorts> PlanFor(ReferenceGroup reference, IReadOnlyList<IpAddress> members, out List<IpAddress> effective, out List<IgnoredMember> ignored)
    {
        var buffer = t_buffer ??= new PlanBuffer();
        var planner = new SubsetPlanner(_references.Topology, _hosts);
        var span = members is IpAddress[] arr ? arr : members.ToArray();
        planner.Plan(reference, span, buffer);
        effective = new List<IpAddress>(buffer.EffectiveCount);
        foreach (var e in buffer.Effective) effective.Add(e);
        ignored = [];
        foreach (var (m, r) in buffer.Ignored) ignored.Add(new IgnoredMember(m, r));
        var topology = planner.Topology;
        var plan = new List<SwitchPorts>(buffer.SwitchCount);
        for (int i = 0; i < buffer.SwitchCount; i++)
            plan.Add(new SwitchPorts(topology.Switches[buffer.SwitchAt(i)].Id, buffer.PortsAt(i).ToArray()));
        return plan;
    }

    private static List<SwitchChange> Diff(RendezvousGroup? before, RendezvousGroup? after)
    {
        var changes = new List<SwitchChange>((before?.Switches.Count ?? 0) + (after?.Switches.Count ?? 0));
        // A supersede at the same address replaces rules in place; otherwise old and new rules are independent (and a
        // create or release, the common cases, needs no index of the old rules).
        bool sameAddress = before is not null && after is not null && before.Address == after.Address && before.Vlan == after.Vlan;
        var old = sameAddress ? before!.Switches.ToDictionary(s => s.SwitchId, StringComparer.Ordinal) : null;
        if (after is not null)
        {
            foreach (var s in after.Switches)
            {
                var next = after.RuleFor(s);
                if (old is not null && old.Remove(s.SwitchId, out var prev))
                {
                    var prevRule = before!.RuleFor(prev);
                    if (!next.SamePorts(prevRule)) changes.Add(new SwitchChange(s.SwitchId, prevRule, next));
                }
                else changes.Add(new SwitchChange(s.SwitchId, null, next));
            }
        }
        if (before is not null)
            foreach (var s in before.Switches)
                if (old is null || old.ContainsKey(s.SwitchId)) changes.Add(new SwitchChange(s.SwitchId, before.RuleFor(s), null));
        return changes;
    }
}
