namespace SubsetMulticast.Controller.Dashboard;

/// <summary>One switch's audit verdict: whether what it holds matches what the controller says it should.</summary>
public sealed record SwitchAuditView(string Switch, string Status, string? Detail, DateTimeOffset? At);

/// <summary>
/// The seam for a per-switch audit (comparing each switch's installed rules with the live groups). None exists
/// yet; when one does, it registers an implementation and the dashboard colours each switch by its status.
/// Until then <see cref="NoSwitchAudit"/> says so and the dashboard shows "no audit".
/// </summary>
public interface ISwitchAudit
{
    /// <summary>False when there is no audit at all; otherwise the latest verdict per switch (switches not yet audited are absent).</summary>
    bool TryRead(out IReadOnlyList<SwitchAuditView> verdicts);
}

public sealed class NoSwitchAudit : ISwitchAudit
{
    public bool TryRead(out IReadOnlyList<SwitchAuditView> verdicts)
    {
        verdicts = [];
        return false;
    }
}
