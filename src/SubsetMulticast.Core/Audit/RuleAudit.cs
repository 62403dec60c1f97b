namespace SubsetMulticast.Core.Audit;

/// <summary>
/// What an audit found for one rule (or one piece of a rule: an OpenFlow group, a flow, an SNMP table row),
/// comparing what the controller intends a switch to hold with what the switch reports it holds.
/// </summary>
public enum RuleAuditCategory
{
    /// <summary>Intended and installed alike.</summary>
    Matched,
    /// <summary>Intended, not installed.</summary>
    Missing,
    /// <summary>Installed in the controller's space (cookie, group id, table row) but not intended.</summary>
    Extra,
    /// <summary>Same key, different contents (buckets, ports, actions).</summary>
    Modified,
    /// <summary>Intended, but the switch cannot be read (not connected, the read failed, the table hides it).</summary>
    Unverifiable,
}

/// <summary>What was done about a finding.</summary>
public enum RuleAuditAction { None, Repaired, RepairFailed }

/// <summary>One finding that is not <see cref="RuleAuditCategory.Matched"/> (matched rules are counted, not listed).</summary>
/// <param name="Kind">What the key names: "group", "flow", "static-multicast" …</param>
/// <param name="Key">The rule's identity on the switch ("group 0x53001234", "table 0 priority 1000 ipv4_dst=239.255.0.1").</param>
/// <param name="Expected">The intended contents; null for <see cref="RuleAuditCategory.Extra"/>.</param>
/// <param name="Observed">The installed contents; null for <see cref="RuleAuditCategory.Missing"/>.</param>
public sealed record RuleAuditItem(RuleAuditCategory Category, string Kind, string Key, string? Expected, string? Observed)
{
    public RuleAuditAction Action { get; init; }
}

/// <summary>One switch's audit: counts per category, the findings, when it ran, how long, and what was repaired.</summary>
public sealed record SwitchAuditReport(string SwitchId, string Adapter, DateTimeOffset StartedAt, TimeSpan Duration)
{
    public int Expected { get; init; }
    public int Observed { get; init; }
    public int Matched { get; init; }
    public int Missing { get; init; }
    public int Extra { get; init; }
    public int Modified { get; init; }
    public int Unverifiable { get; init; }
    public IReadOnlyList<RuleAuditItem> Items { get; init; } = [];

    /// <summary>Whether a repair was asked for; <see cref="Repaired"/> counts the findings it fixed.</summary>
    public bool RepairRequested { get; init; }
    public int Repaired { get; init; }

    /// <summary>"bundle", "batch", or why the repair failed; null when nothing was repaired.</summary>
    public string? RepairResult { get; init; }

    /// <summary>Why the switch could not be read (then every expected rule is <see cref="RuleAuditCategory.Unverifiable"/>).</summary>
    public string? Error { get; init; }

    /// <summary>True when nothing is missing, extra, modified or unverifiable.</summary>
    public bool InSync => Missing == 0 && Extra == 0 && Modified == 0 && Unverifiable == 0 && Error is null;

    /// <summary>Counts taken from <paramref name="items"/> (with <paramref name="matched"/> rules that matched).</summary>
    public SwitchAuditReport WithItems(IReadOnlyList<RuleAuditItem> items, int matched, int expected, int observed) => this with
    {
        Items = items,
        Matched = matched,
        Expected = expected,
        Observed = observed,
        Missing = items.Count(i => i.Category == RuleAuditCategory.Missing),
        Extra = items.Count(i => i.Category == RuleAuditCategory.Extra),
        Modified = items.Count(i => i.Category == RuleAuditCategory.Modified),
        Unverifiable = items.Count(i => i.Category == RuleAuditCategory.Unverifiable),
        Repaired = items.Count(i => i.Action == RuleAuditAction.Repaired),
    };
}

/// <summary>
/// The seam every southbound adapter implements so that one audit covers the whole fabric: OpenFlow reads flows and
/// groups back, SNMP reads the static multicast table back. Implementations compare with the rules they themselves
/// would write (the adapter's own rule-building code), so a change of layout needs no change here.
/// </summary>
public interface IRuleAuditAdapter
{
    /// <summary>"openflow", "snmp" …</summary>
    string Name { get; }

    /// <summary>The switches this adapter can be asked about (connected ones and those it holds rules for).</summary>
    IReadOnlyList<string> Switches { get; }

    /// <summary>
    /// Audits one switch; with <paramref name="repair"/>, also converges it (missing installed, modified rewritten,
    /// extra removed) and marks each item it fixed. Never throws for a switch that cannot be read: the report says why.
    /// </summary>
    Task<SwitchAuditReport> AuditAsync(string switchId, bool repair, CancellationToken cancellationToken);
}
