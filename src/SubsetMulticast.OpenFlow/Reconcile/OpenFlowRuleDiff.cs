using System.Globalization;
using SubsetMulticast.Core.Audit;
using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.OpenFlow.Reconcile;

/// <summary>
/// What a switch should hold in our cookie and group-id spaces: the flows and groups the southbound's own
/// rule-building code emits to install each intended rule (<see cref="Southbound.OpenFlowSouthbound.IntendedState"/>),
/// so a change of per-group layout there flows through reconcile and audit alike.
/// </summary>
public sealed class IntendedSwitchState
{
    private readonly Dictionary<FlowKey, FlowStatsEntry> _flows = new();
    private readonly Dictionary<uint, GroupDescEntry> _groups = new();

    public IReadOnlyDictionary<FlowKey, FlowStatsEntry> Flows => _flows;
    public IReadOnlyDictionary<uint, GroupDescEntry> Groups => _groups;

    /// <summary>Takes one install message: a GROUP_MOD (ADD/MODIFY) becomes a group, a FLOW_MOD ADD a flow; anything else is ignored.</summary>
    public void Add(OfpMessage message)
    {
        switch (message)
        {
            case GroupMod { Command: GroupModCommand.Add or GroupModCommand.Modify } g:
                _groups[g.GroupId] = new GroupDescEntry(g.GroupType, g.GroupId, g.Buckets);
                break;
            case FlowMod { Command: FlowModCommand.Add } f:
                _flows[new FlowKey(f.TableId, f.Priority, f.Match)] = new FlowStatsEntry(f.TableId, f.Priority, f.Cookie, f.Match, f.Instructions)
                { IdleTimeout = f.IdleTimeout, HardTimeout = f.HardTimeout };
                break;
        }
    }
}

/// <summary>A flow's identity in a table (OpenFlow 1.3.5 §6.4: table, priority and match make a flow "identical").</summary>
public readonly record struct FlowKey(byte TableId, ushort Priority, OfpMatch Match)
{
    public bool Equals(FlowKey other) => TableId == other.TableId && Priority == other.Priority && Match.SameAs(other.Match);

    public override int GetHashCode() => HashCode.Combine(TableId, Priority, Match.EthType, Match.VlanVid, Match.Ipv4Dst, Match.Ipv6Dst, Match.InPort, Match.Extra.Length);

    public override string ToString() => $"table {TableId} priority {Priority} {Match}";
}

/// <summary>
/// The difference between a switch's intended and observed flows and groups, in the audit's categories, and the
/// messages that converge the switch. Pure: no I/O, so reconcile, audit and their tests share it.
/// </summary>
public sealed class OpenFlowRuleDiff
{
    private readonly List<(RuleAuditCategory Category, FlowKey Key, FlowStatsEntry? Want, FlowStatsEntry? Have)> _flows = [];
    private readonly List<(RuleAuditCategory Category, uint Id, GroupDescEntry? Want, GroupDescEntry? Have)> _groups = [];

    public int Expected { get; private init; }
    public int Observed { get; private init; }
    public int Matched { get; private set; }

    /// <summary>Findings other than matched, in a stable order (groups by id, then flows as the intended and observed lists give them).</summary>
    public int Differences => _flows.Count + _groups.Count;

    /// <summary>
    /// Compares. <paramref name="observedFlows"/> and <paramref name="observedGroups"/> must already be limited to our
    /// spaces (cookie prefix, group-id prefix): anything else on the switch is not ours to judge.
    /// </summary>
    public static OpenFlowRuleDiff Compare(IntendedSwitchState intended, IEnumerable<FlowStatsEntry> observedFlows, IEnumerable<GroupDescEntry> observedGroups)
    {
        var haveFlows = new Dictionary<FlowKey, FlowStatsEntry>();
        foreach (var f in observedFlows) haveFlows[new FlowKey(f.TableId, f.Priority, f.Match)] = f;
        var haveGroups = new Dictionary<uint, GroupDescEntry>();
        foreach (var g in observedGroups) haveGroups[g.GroupId] = g;

        var diff = new OpenFlowRuleDiff
        {
            Expected = intended.Flows.Count + intended.Groups.Count,
            Observed = haveFlows.Count + haveGroups.Count,
        };
        foreach (var (id, want) in intended.Groups.OrderBy(g => g.Key))
        {
            if (!haveGroups.TryGetValue(id, out var have)) diff._groups.Add((RuleAuditCategory.Missing, id, want, null));
            else if (have.GroupType != want.GroupType || !have.Buckets.SequenceEqual(want.Buckets)) diff._groups.Add((RuleAuditCategory.Modified, id, want, have));
            else diff.Matched++;
        }
        foreach (var (id, have) in haveGroups.OrderBy(g => g.Key))
            if (!intended.Groups.ContainsKey(id)) diff._groups.Add((RuleAuditCategory.Extra, id, null, have));
        foreach (var (key, want) in intended.Flows)
        {
            if (!haveFlows.TryGetValue(key, out var have)) diff._flows.Add((RuleAuditCategory.Missing, key, want, null));
            else if (have.Cookie != want.Cookie || !have.Instructions.SequenceEqual(want.Instructions)) diff._flows.Add((RuleAuditCategory.Modified, key, want, have));
            else diff.Matched++;
        }
        foreach (var (key, have) in haveFlows)
            if (!intended.Flows.ContainsKey(key)) diff._flows.Add((RuleAuditCategory.Extra, key, null, have));
        return diff;
    }

    /// <summary>The findings as audit items (groups first).</summary>
    public List<RuleAuditItem> Items(RuleAuditAction action = RuleAuditAction.None)
    {
        var items = new List<RuleAuditItem>(Differences);
        foreach (var (c, id, want, have) in _groups)
            items.Add(new RuleAuditItem(c, "group", GroupKey(id), want is null ? null : Describe(want), have is null ? null : Describe(have)) { Action = action });
        foreach (var (c, key, want, have) in _flows)
            items.Add(new RuleAuditItem(c, "flow", key.ToString(), want is null ? null : Describe(want), have is null ? null : Describe(have)) { Action = action });
        return items;
    }

    /// <summary>Counts per category (added = missing, modified, removed = extra) for the reconcile log.</summary>
    public (int Missing, int Modified, int Extra) Counts()
    {
        int missing = 0, modified = 0, extra = 0;
        foreach (var c in _groups.Select(g => g.Category).Concat(_flows.Select(f => f.Category)))
        {
            if (c == RuleAuditCategory.Missing) missing++;
            else if (c == RuleAuditCategory.Modified) modified++;
            else if (c == RuleAuditCategory.Extra) extra++;
        }
        return (missing, modified, extra);
    }

    /// <summary>
    /// The messages that converge the switch, in an order that is valid one by one (an ORDERED bundle applies them so):
    /// groups added or rewritten before the flows that point at them, flows removed before the groups they used.
    /// Rules that already match get no message, so their counters and forwarding are never touched.
    /// </summary>
    public List<OfpMessage> RepairMessages()
    {
        var messages = new List<OfpMessage>(Differences);
        foreach (var (c, id, want, _) in _groups)
            if (c is RuleAuditCategory.Missing or RuleAuditCategory.Modified)
                messages.Add(new GroupMod(c == RuleAuditCategory.Missing ? GroupModCommand.Add : GroupModCommand.Modify, want!.GroupType, id, want.Buckets));
        foreach (var (c, _, want, _) in _flows)
            if (c is RuleAuditCategory.Missing or RuleAuditCategory.Modified)
                // ADD of an identical (table, priority, match) replaces the flow: cookie and instructions in one step.
                messages.Add(new FlowMod(FlowModCommand.Add, want!.Match, want.Instructions)
                { Cookie = want.Cookie, TableId = want.TableId, Priority = want.Priority, IdleTimeout = want.IdleTimeout, HardTimeout = want.HardTimeout });
        foreach (var (c, _, _, have) in _flows)
            if (c == RuleAuditCategory.Extra)
                messages.Add(new FlowMod(FlowModCommand.DeleteStrict, have!.Match, [])
                { Cookie = have.Cookie, CookieMask = ulong.MaxValue, TableId = have.TableId, Priority = have.Priority });
        foreach (var (c, id, _, have) in _groups)
            if (c == RuleAuditCategory.Extra)
                messages.Add(new GroupMod(GroupModCommand.Delete, have!.GroupType, id, []));
        return messages;
    }

    public static string GroupKey(uint id) => "group 0x" + id.ToString("x8", CultureInfo.InvariantCulture);

    private static string Describe(GroupDescEntry g) =>
        $"type={g.GroupType.ToString().ToLowerInvariant()} buckets={string.Join(',', g.Buckets.Select(b => string.Join('+', b.Actions.Select(DescribeAction))))}";

    private static string Describe(FlowStatsEntry f) =>
        $"cookie=0x{f.Cookie.ToString("x16", CultureInfo.InvariantCulture)} actions={string.Join(',', f.Instructions.Select(DescribeInstruction))}";

    private static string DescribeInstruction(OfpInstruction i) => i switch
    {
        ApplyActions a => "apply(" + string.Join(',', a.Actions.Select(DescribeAction)) + ")",
        _ => i.GetType().Name,
    };

    private static string DescribeAction(OfpAction a) => a switch
    {
        OutputAction o => "output:" + o.Port.ToString(CultureInfo.InvariantCulture),
        GroupAction g => "group:0x" + g.GroupId.ToString("x8", CultureInfo.InvariantCulture),
        _ => a.GetType().Name,
    };
}
