using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.OpenFlow.Reconcile;

namespace SubsetMulticast.OpenFlow.Southbound;

/// <summary>How a <see cref="GroupRule"/> is written to a switch.</summary>
public enum RuleEncoding
{
    /// <summary>An ALL group (one bucket per port) and a flow applying it: two messages per switch and change.</summary>
    GroupAndFlow,

    /// <summary>
    /// One flow whose actions output to the ports: one message per switch and change (issue 14, fewer switch
    /// messages per group). Same match, priority and cookie as <see cref="GroupAndFlow"/>'s flow, so the subset rule
    /// is unchanged: an address without its flow still takes the unregistered-group flow (router ports only), and a
    /// release deletes the one flow. A supersede rewrites the flow in place (ADD of an identical match replaces its actions).
    /// </summary>
    Flow,
}

/// <summary>Where our rules live on a switch.</summary>
public sealed class OpenFlowSouthboundOptions
{
    /// <summary>How each rule is written (<see cref="RuleEncoding"/>); reconciliation converts a switch written the other way.</summary>
    public RuleEncoding Encoding { get; set; } = RuleEncoding.GroupAndFlow;

    /// <summary>The high 16 bits of every flow cookie we install ("SM").</summary>
    public ushort CookiePrefix { get; set; } = CookieSpaces.GroupRules;

    /// <summary>The high 8 bits of every group id we allocate ('S').</summary>
    public byte GroupIdPrefix { get; set; } = CookieSpaces.GroupIdPrefix;

    public byte TableId { get; set; }
    public ushort Priority { get; set; } = 1000;

    /// <summary>Reconcile each switch as it connects, on its own; false when a <see cref="Bootstrap.SwitchBootstrap"/> runs <see cref="OpenFlowSouthbound.ReconcileOnConnectAsync"/> in its order.</summary>
    public bool ReconcileOnConnect { get; set; } = true;

    public ulong CookieMask => CookieSpaces.Mask;
    public ulong CookieBase => CookieSpaces.Base(CookiePrefix);
}

/// <summary>What <see cref="OpenFlowSouthbound.ConvergeAsync"/> found and did: <see cref="Method"/> "bundle"/"batch" when it sent a repair, <see cref="Error"/> when the switch refused it.</summary>
public sealed record ConvergeResult(OpenFlowRuleDiff Diff, string? Method, string? Error);

/// <summary>How reconciliation converged one switch, counted per flow and per group.</summary>
public sealed record ReconcileResult(string SwitchId, int Added, int Modified, int Removed, int Kept)
{
    /// <summary>"bundle" (one atomic ONF bundle), "batch" (the switch took no bundles), or null when nothing needed changing.</summary>
    public string? Method { get; init; }
}

/// <summary>
/// <see cref="ISouthbound"/> over OpenFlow 1.3. A <see cref="GroupRule"/> becomes one ALL group (one bucket
/// per port, each an OUTPUT action) plus one flow matching (vlan_vid when the VLAN is not 0, eth_type,
/// ipv4_dst/ipv6_dst = the group) whose instruction applies the group. Each switch's messages are followed
/// by a barrier; all switches are written before any barrier is awaited (one round trip), and concurrent
/// transactions to one switch share its writes and barriers (<see cref="OpenFlowSession.Submit"/>). An ERROR
/// from any switch fails the transaction and every switch already changed is put back.
/// When a switch (re)connects, its flows in our cookie space and its groups in our id space are read and
/// converged to the intended state.
/// </summary>
public sealed class OpenFlowSouthbound : IStagedSouthbound, IDisposable
{
    private readonly OpenFlowListener _listener;
    private readonly OpenFlowSouthboundOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Dictionary<(ushort Vlan, IpAddress Group), GroupRule>> _intended = new();
    private readonly ConcurrentDictionary<string, SwitchGate> _switchLocks = new();
    private readonly ConcurrentDictionary<(ushort Vlan, IpAddress Group), uint> _groupIds = new();
    private readonly ConcurrentDictionary<uint, (ushort Vlan, IpAddress Group)> _groupOwners = new();
    private readonly object _allocLock = new();

    public OpenFlowSouthbound(OpenFlowListener listener, OpenFlowSouthboundOptions? options = null, ILoggerFactory? loggers = null)
    {
        _listener = listener;
        _options = options ?? new OpenFlowSouthboundOptions();
        _logger = (loggers ?? NullLoggerFactory.Instance).CreateLogger("SubsetMulticast.OpenFlow.Southbound");
        if (_options.ReconcileOnConnect) _listener.SwitchConnected += OnSwitchConnected;
    }

    public string Name => "openflow";

    /// <summary>Raised after each reconciliation (success or failure: null result and the reason).</summary>
    public event Action<string, ReconcileResult?, string?>? Reconciled;

    /// <summary>The rules we intend <paramref name="switchId"/> to hold.</summary>
    public IReadOnlyList<GroupRule> IntendedRules(string switchId)
    {
        if (!_intended.TryGetValue(switchId, out var d)) return [];
        lock (d) return d.Values.ToList();
    }

    /// <summary>
    /// The group id for (vlan, group): FNV-1a of the pair in the low 24 bits under <see cref="OpenFlowSouthboundOptions.GroupIdPrefix"/>,
    /// probing upwards on a collision; recorded, so the same pair always gets the same id in this process.
    /// </summary>
    public uint GroupIdFor(VlanId vlan, IpAddress group)
    {
        var key = (vlan.Value, group);
        if (_groupIds.TryGetValue(key, out var id)) return id;
        lock (_allocLock)
        {
            if (_groupIds.TryGetValue(key, out id)) return id;
            uint hash = 2166136261;
            void Mix(ulong v, int bytes) { for (int i = 0; i < bytes; i++) { hash ^= (byte)(v >> (8 * i)); hash *= 16777619; } }
            Mix(vlan.Value, 2); Mix(group.High, 8); Mix(group.Low, 8);
            uint low = hash & 0x00FF_FFFF;
            for (int probe = 0; probe < 0x0100_0000; probe++)
            {
                id = ((uint)_options.GroupIdPrefix << 24) | ((low + (uint)probe) & 0x00FF_FFFF);
                if (_groupOwners.TryAdd(id, key)) { _groupIds[key] = id; return id; }
            }
            throw new InvalidOperationException("OpenFlow group id space exhausted.");
        }
    }

    public bool IsOurGroup(uint groupId) => (groupId >> 24) == _options.GroupIdPrefix;
    public bool IsOurCookie(ulong cookie) => (cookie & _options.CookieMask) == _options.CookieBase;

    public async ValueTask<SouthboundResult> ApplyAsync(IReadOnlyList<SwitchChange> changes, CancellationToken cancellationToken)
    {
        var trace = SetupTrace.Current;
        if (trace is not null) trace.Planned = SetupTrace.Now;
        var staged = await StageAsync(changes, cancellationToken).ConfigureAwait(false);
        if (staged.Failure is { } early) return early;
        if (trace is not null) MarkSubmitted(trace, staged);
        try
        {
            var failures = await ConfirmAsync(staged.Writes!, cancellationToken).ConfigureAwait(false);
            if (trace is not null) MarkConfirmed(trace, staged);
            if (failures.Count == 0)
            {
                foreach (var w in staged.Writes!) Record(w.SwitchId, w.Changes);
                return SouthboundResult.Success;
            }
            await RollBackAsync(this, staged.Writes!).ConfigureAwait(false);
            return new SouthboundResult(false, failures);
        }
        finally { staged.Exit(); }
    }

    public async ValueTask<StagedApply> ApplyStagedAsync(IReadOnlyList<SwitchChange> changes, CancellationToken cancellationToken)
    {
        var trace = SetupTrace.Current;
        if (trace is not null) trace.Planned = SetupTrace.Now;
        var staged = await StageAsync(changes, cancellationToken).ConfigureAwait(false);
        if (staged.Failure is { } early) return new StagedApply(early, Task.FromResult(early));
        if (trace is not null) MarkSubmitted(trace, staged);
        var failures = new List<SwitchFailure>();
        foreach (var w in staged.Writes!)
        {
            try { await w.Write.Written.ConfigureAwait(false); }
            catch (Exception ex) when (ex is OpenFlowSessionException or TimeoutException) { failures.Add(new SwitchFailure(w.SwitchId, ex.Message)); }
        }
        if (trace is not null)
        {
            trace.Written = staged.Writes!.Max(w => w.Write.WrittenAt);
            trace.Resumed = SetupTrace.Now;
        }
        if (failures.Count > 0)
        {
            // Nothing confirmed yet and the caller is told "refused": put every switch back before answering.
            try { await ConfirmAsync(staged.Writes!, CancellationToken.None).ConfigureAwait(false); }
            finally
            {
                await RollBackAsync(this, staged.Writes!).ConfigureAwait(false);
                staged.Exit();
            }
            var refused = new SouthboundResult(false, failures);
            return new StagedApply(refused, Task.FromResult(refused));
        }
        // Recorded as intended now: a reconnect in between must restore what the client was told is set up.
        foreach (var w in staged.Writes!) Record(w.SwitchId, w.Changes);
        return new StagedApply(SouthboundResult.Success, ConfirmLaterAsync(staged));
    }

    private static void MarkSubmitted(SetupTrace trace, Staged staged)
    {
        trace.Submitted = SetupTrace.Now;
        int n = 0;
        foreach (var w in staged.Writes!) n += w.Write.Messages.Count;
        trace.Messages = n;
    }

    /// <summary>Every switch answered: the last flush, the last barrier reply and the longest flush → reply of one switch.</summary>
    private static void MarkConfirmed(SetupTrace trace, Staged staged)
    {
        trace.Resumed = SetupTrace.Now;
        long written = 0, confirmed = 0, longest = 0;
        foreach (var w in staged.Writes!)
        {
            written = Math.Max(written, w.Write.WrittenAt);
            confirmed = Math.Max(confirmed, w.Write.ConfirmedAt);
            if (w.Write.WrittenAt != 0 && w.Write.ConfirmedAt != 0) longest = Math.Max(longest, w.Write.ConfirmedAt - w.Write.WrittenAt);
        }
        trace.Written = written;
        trace.Confirmed = confirmed;
        trace.MaxBarrierTicks = longest;
    }

    private async Task<SouthboundResult> ConfirmLaterAsync(Staged staged)
    {
        try
        {
            var failures = await ConfirmAsync(staged.Writes!, CancellationToken.None).ConfigureAwait(false);
            return failures.Count == 0 ? SouthboundResult.Success : new SouthboundResult(false, failures);
        }
        finally { staged.Exit(); }
    }

    /// <summary>Takes each switch's gate (shared, in ordinal order) and submits its messages; does not wait for any switch.</summary>
    private async ValueTask<Staged> StageAsync(IReadOnlyList<SwitchChange> changes, CancellationToken ct)
    {
        // A transaction touches a handful of switches, usually one change each: grouped and ordered in a small list
        // (insertion sort) rather than a SortedDictionary — fewer allocations on every create and release.
        var bySwitch = new List<(string SwitchId, List<SwitchChange> Changes)>(changes.Count);
        for (int c = 0; c < changes.Count; c++)
        {
            var change = changes[c];
            int at = bySwitch.Count;
            bool found = false;
            for (int i = 0; i < bySwitch.Count; i++)
            {
                int cmp = string.CompareOrdinal(bySwitch[i].SwitchId, change.SwitchId);
                if (cmp == 0) { bySwitch[i].Changes.Add(change); found = true; break; }
                if (cmp > 0) { at = i; break; }
            }
            if (!found) bySwitch.Insert(at, (change.SwitchId, [change]));
        }
        var sessions = new OpenFlowSession[bySwitch.Count];
        List<SwitchFailure>? missing = null;
        for (int i = 0; i < bySwitch.Count; i++)
        {
            if (_listener.TryGetSwitch(bySwitch[i].SwitchId, out var s)) sessions[i] = s;
            else (missing ??= []).Add(new SwitchFailure(bySwitch[i].SwitchId, "switch is not connected"));
        }
        if (missing is not null) return new Staged(new SouthboundResult(false, missing));

        var staged = new Staged(bySwitch.Count);
        try
        {
            for (int i = 0; i < bySwitch.Count; i++)
            {
                var gate = Gate(bySwitch[i].SwitchId);
                var entered = gate.EnterSharedAsync(ct);
                // Uncontended (no reconciliation waiting): entered at once, no await.
                if (!entered.IsCompletedSuccessfully) await entered.ConfigureAwait(false);
                staged.Held.Add(gate);
            }
        }
        catch
        {
            staged.Exit();
            throw;
        }
        staged.Writes = new List<StagedWrite>(bySwitch.Count);
        for (int i = 0; i < bySwitch.Count; i++)
        {
            var (id, list) = bySwitch[i];
            staged.Writes.Add(new StagedWrite(id, list, sessions[i], sessions[i].Submit(MessagesFor(id, list, rollback: false))));
        }
        return staged;
    }

    /// <summary>Waits for every switch's barrier; returns the switches that refused (empty: all applied).</summary>
    private static async Task<List<SwitchFailure>> ConfirmAsync(List<StagedWrite> writes, CancellationToken ct)
    {
        var failures = new List<SwitchFailure>();
        foreach (var w in writes)
        {
            try
            {
                var errors = await w.Write.Confirmed.WaitAsync(ct).ConfigureAwait(false);
                if (errors.Count > 0) failures.Add(new SwitchFailure(w.SwitchId, string.Join("; ", errors.Select(e => $"{e.Name} on {e.FailedType?.ToString() ?? "request"}"))));
            }
            catch (Exception ex) when (ex is OpenFlowSessionException or TimeoutException)
            { failures.Add(new SwitchFailure(w.SwitchId, ex.Message)); }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            { failures.Add(new SwitchFailure(w.SwitchId, "cancelled")); }
        }
        return failures;
    }

    /// <summary>Puts back every switch written to (the failed ones too: part of their batch may have applied). Best effort; reconciliation repairs the rest.</summary>
    private static async Task RollBackAsync(OpenFlowSouthbound self, List<StagedWrite> writes)
    {
        var undo = new List<SwitchWrite>(writes.Count);
        foreach (var w in writes)
        {
            var inverse = new List<SwitchChange>(w.Changes.Count);
            for (int i = w.Changes.Count - 1; i >= 0; i--) inverse.Add(w.Changes[i].Inverse());
            undo.Add(w.Session.Submit(self.MessagesFor(w.SwitchId, inverse, rollback: true)));
        }
        foreach (var u in undo)
        {
            try { await u.Confirmed.ConfigureAwait(false); }
            catch (Exception ex) when (ex is OpenFlowSessionException or TimeoutException) { }
        }
    }

    /// <summary>The messages for one switch's part of a transaction (ADD where the switch holds nothing for the address, else MODIFY).</summary>
    private List<OfpMessage> MessagesFor(string switchId, List<SwitchChange> changes, bool rollback)
    {
        var intended = _intended.GetOrAdd(switchId, _ => []);
        var messages = new List<OfpMessage>(changes.Count * 2);
        HashSet<(ushort, IpAddress)>? removed = null, added = null;
        // The sets only answer for a later change of the same list: a switch's part of a create or release is one change,
        // which needs neither (two sets per switch per transaction were 5 % of the bytes allocated under load).
        bool track = changes.Count > 1;
        for (int ci = 0; ci < changes.Count; ci++)
        {
            var c = changes[ci];
            var prevKey = c.Previous is null ? default((ushort, IpAddress)?) : Key(c.Previous);
            var nextKey = c.Next is null ? default((ushort, IpAddress)?) : Key(c.Next);
            if (c.Previous is not null && (c.Next is null || prevKey != nextKey))
            {
                AddRemove(messages, c.Previous);
                if (track) (removed ??= []).Add(prevKey!.Value);
                added?.Remove(prevKey!.Value);
            }
            if (c.Next is not null)
            {
                bool held;
                lock (intended) held = intended.ContainsKey(nextKey!.Value);
                bool present = (held && removed?.Contains(nextKey.Value) != true) || added?.Contains(nextKey.Value) == true
                               || (c.Previous is not null && prevKey == nextKey);
                if (rollback && !present) AddInstall(messages, c.Next, GroupModCommand.Add); // may exist: ADD then MODIFY
                AddInstall(messages, c.Next, present || rollback ? GroupModCommand.Modify : GroupModCommand.Add);
                if (track) (added ??= []).Add(nextKey.Value);
                removed?.Remove(nextKey.Value);
            }
        }
        return messages;
    }

    private void Record(string switchId, List<SwitchChange> changes)
    {
        var intended = _intended.GetOrAdd(switchId, _ => []);
        lock (intended)
        {
            foreach (var c in changes)
            {
                if (c.Previous is not null) intended.Remove(Key(c.Previous));
                if (c.Next is not null) intended[Key(c.Next)] = c.Next;
            }
        }
    }

    /// <summary>
    /// Takes <paramref name="rules"/> as everything <paramref name="switchId"/> is intended to hold, replacing what was
    /// recorded: a restarted controller's groups reloaded from its store, or a switch whose mastership this controller
    /// has just taken. The next reconciliation then keeps those rules where they are right instead of removing them.
    /// </summary>
    public void RestoreIntended(string switchId, IEnumerable<GroupRule> rules)
    {
        var intended = _intended.GetOrAdd(switchId, _ => []);
        lock (intended)
        {
            intended.Clear();
            foreach (var r in rules) intended[Key(r)] = r;
        }
    }

    /// <summary>Forgets rules recorded by an optimistic apply whose confirmation failed (the caller then releases the group).</summary>
    public void Unrecord(IReadOnlyList<SwitchChange> changes)
    {
        foreach (var g in changes.GroupBy(c => c.SwitchId))
            Record(g.Key, [.. g.Select(c => c.Inverse())]);
    }

    private sealed record StagedWrite(string SwitchId, List<SwitchChange> Changes, OpenFlowSession Session, SwitchWrite Write);

    private sealed class Staged
    {
        public Staged(SouthboundResult failure) { Failure = failure; Held = []; }
        public Staged(int switches) => Held = new List<SwitchGate>(switches);
        public SouthboundResult? Failure { get; }
        public List<StagedWrite>? Writes { get; set; }
        public List<SwitchGate> Held { get; }
        private int _exited;

        public void Exit()
        {
            if (Interlocked.Exchange(ref _exited, 1) != 0) return;
            foreach (var g in Held) g.ExitShared();
        }
    }

    private static (ushort, IpAddress) Key(GroupRule r) => (r.Vlan.Value, r.Group);

    private SwitchGate Gate(string switchId) => _switchLocks.GetOrAdd(switchId, _ => new SwitchGate());

    /// <summary>The flow match for a rule.</summary>
    public OfpMatch MatchFor(GroupRule rule) => new()
    {
        VlanVid = rule.Vlan.Value == 0 ? null : (ushort)(Ofp.VidPresent | rule.Vlan.Value),
        EthType = rule.Group.IsV4 ? (ushort)0x0800 : (ushort)0x86DD,
        Ipv4Dst = rule.Group.IsV4 ? rule.Group.V4 : null,
        Ipv6Dst = rule.Group.IsV4 ? null : rule.Group,
    };

    public ulong CookieFor(uint groupId) => _options.CookieBase | groupId;

    private static OfpBucket[] BucketsFor(GroupRule rule)
    {
        var ports = rule.Ports;
        var buckets = new OfpBucket[ports.Count];
        for (int i = 0; i < buckets.Length; i++) buckets[i] = new OfpBucket([new OutputAction(ports[i])]);
        return buckets;
    }

    internal IEnumerable<OfpMessage> InstallMessages(GroupRule rule, GroupModCommand command)
    {
        var messages = new List<OfpMessage>(2);
        AddInstall(messages, rule, command);
        return messages;
    }

    internal IEnumerable<OfpMessage> RemoveMessages(GroupRule rule)
    {
        var messages = new List<OfpMessage>(2);
        AddRemove(messages, rule);
        return messages;
    }

    /// <summary>Appends what installs <paramref name="rule"/> (the group, then the flow that applies it). No iterator, no LINQ: this runs for every switch of every create.</summary>
    private void AddInstall(List<OfpMessage> messages, GroupRule rule, GroupModCommand command)
    {
        uint gid = GroupIdFor(rule.Vlan, rule.Group);
        if (_options.Encoding == RuleEncoding.GroupAndFlow) messages.Add(new GroupMod(command, GroupType.All, gid, BucketsFor(rule)));
        messages.Add(FlowFor(rule, gid, FlowModCommand.Add));
    }

    private void AddRemove(List<OfpMessage> messages, GroupRule rule)
    {
        uint gid = GroupIdFor(rule.Vlan, rule.Group);
        messages.Add(FlowFor(rule, gid, FlowModCommand.DeleteStrict, ulong.MaxValue));
        if (_options.Encoding == RuleEncoding.GroupAndFlow) messages.Add(new GroupMod(GroupModCommand.Delete, GroupType.All, gid, []));
    }

    private FlowMod FlowFor(GroupRule rule, uint gid, FlowModCommand command, ulong? cookieMask = null)
    {
        IReadOnlyList<OfpInstruction> instructions;
        if (command != FlowModCommand.Add) instructions = [];
        else if (_options.Encoding == RuleEncoding.Flow)
        {
            var outputs = new OfpAction[rule.Ports.Count];
            for (int i = 0; i < outputs.Length; i++) outputs[i] = new OutputAction(rule.Ports[i]);
            instructions = [new ApplyActions(outputs)];
        }
        else instructions = [new ApplyActions([new GroupAction(gid)])];
        return new FlowMod(command, MatchFor(rule), instructions)
        { Cookie = CookieFor(gid), CookieMask = cookieMask ?? 0, TableId = _options.TableId, Priority = _options.Priority };
    }

    private void OnSwitchConnected(OpenFlowSession session) => _ = ReconcileOnConnectAsync(session);

    /// <summary>
    /// Reconciles a switch that (re)connected, logs and raises <see cref="Reconciled"/>; never throws for a switch that
    /// fails. Returns whether the switch now holds the intended state (a cluster node that cannot converge a switch it
    /// masters must not report it as applied).
    /// </summary>
    public async Task<bool> ReconcileOnConnectAsync(OpenFlowSession session)
    {
        try
        {
            var r = await ReconcileAsync(session, CancellationToken.None).ConfigureAwait(false);
            Log.ReconciledBy(_logger, r.SwitchId, r.Method ?? "nothing to do", r.Added, r.Modified, r.Removed, r.Kept);
            Reconciled?.Invoke(session.SwitchId, r, null);
            return true;
        }
        catch (Exception ex) when (ex is OpenFlowSessionException or TimeoutException or OpenFlowFormatException)
        {
            Log.ReconcileFailed(_logger, session.SwitchId, ex.Message);
            Reconciled?.Invoke(session.SwitchId, null, ex.Message);
            return false;
        }
    }

    /// <summary>
    /// What <paramref name="switchId"/> should hold in our spaces: the messages the transaction path would send to
    /// install each intended rule (<see cref="InstallMessages"/>), gathered into flows and groups.
    /// </summary>
    public IntendedSwitchState IntendedState(string switchId)
    {
        var state = new IntendedSwitchState();
        if (StandingMessages is { } standing)
            foreach (var m in standing(switchId)) state.Add(m);
        foreach (var rule in IntendedRules(switchId))
            foreach (var m in InstallMessages(rule, GroupModCommand.Add)) state.Add(m);
        return state;
    }

    /// <summary>
    /// Rules in our spaces that a switch holds whatever its groups (e.g. flows installed once per block address): the
    /// messages that install them, per switch. They are part of <see cref="IntendedState"/>, so reconcile and audit keep
    /// them rather than remove them as extra.
    /// </summary>
    public Func<string, IEnumerable<OfpMessage>>? StandingMessages { get; set; }

    /// <summary>
    /// Before the first reconcile of any switch: awaited so that a controller that is still reloading its groups (from a
    /// store, after a restart) never reconciles a switch against an empty intended state and deletes live groups' rules.
    /// </summary>
    public Func<CancellationToken, Task>? IntendedStateReady { get; set; }

    /// <summary>
    /// Reads the switch's flows in our cookie space and its group descriptions, compares them with
    /// <see cref="IntendedState"/> and applies the difference in one atomic ONF bundle: the switch forwards on its old
    /// rules until the commit, and rules that are already right get no message at all (hitless). A switch that does not
    /// take bundles gets the same messages as one batch with one barrier.
    /// </summary>
    public async Task<ReconcileResult> ReconcileAsync(OpenFlowSession session, CancellationToken ct)
    {
        var c = await ConvergeAsync(session, repair: true, ct).ConfigureAwait(false);
        if (c.Error is not null) throw new OpenFlowSessionException(c.Error);
        var (missing, modified, extra) = c.Diff.Counts();
        return new ReconcileResult(session.SwitchId, missing, modified, extra, c.Diff.Matched) { Method = c.Method };
    }

    /// <summary>The switches we hold intended rules for (connected or not).</summary>
    public IReadOnlyList<string> SwitchesWithRules => [.. _intended.Where(kv => { lock (kv.Value) return kv.Value.Count > 0; }).Select(kv => kv.Key)];

    /// <summary>
    /// Reads the switch and compares it with the intended state; with <paramref name="repair"/>, converges it (bundle,
    /// else batch). Returns the difference found, how it was applied ("bundle", "batch", or null when nothing was sent)
    /// and, when the switch refused the repair, why (the bundle left it as it was). A read that fails throws.
    /// Holds the switch's gate exclusively, so no transaction interleaves with the read and the repair.
    /// </summary>
    public async Task<ConvergeResult> ConvergeAsync(OpenFlowSession session, bool repair, CancellationToken ct)
    {
        if (IntendedStateReady is { } ready) await ready(ct).ConfigureAwait(false);
        var gate = Gate(session.SwitchId);
        await gate.EnterExclusiveAsync(ct).ConfigureAwait(false);
        try
        {
            var intended = IntendedState(session.SwitchId);
            var flowParts = await session.MultipartAsync(new FlowStatsRequest(OfpMatch.Any)
            { TableId = _options.TableId, Cookie = _options.CookieBase, CookieMask = _options.CookieMask }, ct).ConfigureAwait(false);
            var groupParts = await session.MultipartAsync(new GroupDescRequest(), ct).ConfigureAwait(false);
            var flows = flowParts.OfType<FlowStatsReply>().SelectMany(p => p.Entries).Where(f => IsOurCookie(f.Cookie));
            var groups = groupParts.OfType<GroupDescReply>().SelectMany(p => p.Entries).Where(g => IsOurGroup(g.GroupId));
            var diff = OpenFlowRuleDiff.Compare(intended, flows, groups);
            if (!repair || diff.Differences == 0) return new ConvergeResult(diff, null, null);

            var messages = diff.RepairMessages();
            var bundle = await session.ApplyInBundleAsync(messages, ct).ConfigureAwait(false);
            if (bundle.Outcome == BundleOutcome.Committed) return new ConvergeResult(diff, "bundle", null);
            if (bundle.Outcome == BundleOutcome.Refused)
                return new ConvergeResult(diff, null, $"reconciliation refused: {string.Join("; ", bundle.Errors.Select(e => e.Name))}");
            Log.NoBundles(_logger, session.SwitchId, bundle.Errors.Count > 0 ? bundle.Errors[0].Name : "refused");
            var errors = await session.ApplyWithBarrierAsync(messages, ct).ConfigureAwait(false);
            return errors.Count > 0
                ? new ConvergeResult(diff, null, $"reconciliation refused: {string.Join("; ", errors.Select(e => e.Name))}")
                : new ConvergeResult(diff, "batch", null);
        }
        finally { gate.ExitExclusive(); }
    }

    public void Dispose() => _listener.SwitchConnected -= OnSwitchConnected;
}
