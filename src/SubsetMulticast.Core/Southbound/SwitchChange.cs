namespace SubsetMulticast.Core.Southbound;

/// <summary>
/// What one switch must do for one transaction. <see cref="Previous"/> is the rule the switch holds
/// now (null if none) and <see cref="Next"/> the rule it must hold after (null to remove), so an
/// adapter can undo a change on any switch without asking anyone.
/// </summary>
public sealed record SwitchChange(string SwitchId, GroupRule? Previous, GroupRule? Next)
{
    public ChangeKind Kind => (Previous, Next) switch
    {
        (null, not null) => ChangeKind.Install,
        (not null, null) => ChangeKind.Remove,
        _ => ChangeKind.Modify,
    };

    /// <summary>The change that puts the switch back as it was.</summary>
    public SwitchChange Inverse() => new(SwitchId, Next, Previous);
}

public enum ChangeKind { Install, Modify, Remove }
