namespace SubsetMulticast.Core.Southbound;

/// <summary>
/// A way to program switches (emulator, OpenFlow, SNMP). One call is one transaction: every change
/// is applied and confirmed, or — if any switch refuses — every switch already changed is put back
/// (<see cref="SwitchChange.Inverse"/>) before the call returns a failure. Implementations apply the
/// changes to different switches in parallel: one round trip, not one per switch.
/// </summary>
public interface ISouthbound
{
    string Name { get; }

    ValueTask<SouthboundResult> ApplyAsync(IReadOnlyList<SwitchChange> changes, CancellationToken cancellationToken);
}

/// <summary>The outcome of a transaction. On failure, <see cref="Failures"/> names each switch that refused and why.</summary>
public sealed record SouthboundResult(bool Succeeded, IReadOnlyList<SwitchFailure> Failures)
{
    public static readonly SouthboundResult Success = new(true, []);
    public static SouthboundResult Failed(params SwitchFailure[] failures) => new(false, failures);
}

public sealed record SwitchFailure(string SwitchId, string Reason);
