using SubsetMulticast.Core.Audit;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.OpenFlow.Southbound;

namespace SubsetMulticast.OpenFlow.Reconcile;

/// <summary>
/// The OpenFlow side of the rule audit: reads each switch's flows (our cookie space) and groups (our id space) with
/// multipart FLOW / GROUP_DESC, compares them with what the southbound's own rule-building code would install
/// (<see cref="OpenFlowSouthbound.IntendedState"/>), and with repair applies the difference in one ONF bundle — the
/// same path the reconcile on connect takes.
/// </summary>
public sealed class OpenFlowRuleAudit(OpenFlowListener listener, OpenFlowSouthbound southbound, TimeProvider? time = null) : IRuleAuditAdapter
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public string Name => "openflow";

    public IReadOnlyList<string> Switches =>
        [.. listener.Switches.Keys.Union(southbound.SwitchesWithRules, StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    public async Task<SwitchAuditReport> AuditAsync(string switchId, bool repair, CancellationToken cancellationToken)
    {
        var startedAt = _time.GetUtcNow();
        long start = _time.GetTimestamp();
        var report = new SwitchAuditReport(switchId, Name, startedAt, TimeSpan.Zero) { RepairRequested = repair };
        if (!listener.TryGetSwitch(switchId, out var session) || !session.IsReady)
            return Unverifiable(report, "switch is not connected", start);
        try
        {
            var c = await southbound.ConvergeAsync(session, repair, cancellationToken).ConfigureAwait(false);
            var action = c.Method is not null ? RuleAuditAction.Repaired : c.Error is not null ? RuleAuditAction.RepairFailed : RuleAuditAction.None;
            var items = c.Diff.Items(action);
            return report.WithItems(items, c.Diff.Matched, c.Diff.Expected, c.Diff.Observed) with
            {
                Duration = _time.GetElapsedTime(start),
                RepairResult = c.Error ?? c.Method ?? (repair ? "nothing to repair" : null),
            };
        }
        catch (Exception e) when (e is OpenFlowSessionException or TimeoutException or OpenFlowFormatException)
        {
            return Unverifiable(report, e.Message, start);
        }
    }

    /// <summary>A switch that cannot be read: every rule we intend it to hold is unverifiable.</summary>
    private SwitchAuditReport Unverifiable(SwitchAuditReport report, string error, long start)
    {
        var intended = southbound.IntendedState(report.SwitchId);
        var items = new List<RuleAuditItem>(intended.Groups.Count + intended.Flows.Count);
        foreach (var id in intended.Groups.Keys.Order())
            items.Add(new RuleAuditItem(RuleAuditCategory.Unverifiable, "group", OpenFlowRuleDiff.GroupKey(id), "intended", null));
        foreach (var key in intended.Flows.Keys)
            items.Add(new RuleAuditItem(RuleAuditCategory.Unverifiable, "flow", key.ToString(), "intended", null));
        return report.WithItems(items, 0, items.Count, 0) with { Duration = _time.GetElapsedTime(start), Error = error };
    }
}
