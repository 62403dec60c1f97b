namespace SubsetMulticast.Core.Southbound;

/// <summary>
/// A southbound that can answer in two stages: when a transaction's messages are written to every switch,
/// and later when every switch has confirmed them. Optimistic setup answers the client at the first stage;
/// the subset rule still holds, because a switch without the rule yet forwards the address as unregistered
/// multicast (to its router ports only), never to a port outside the reference group.
/// </summary>
public interface IStagedSouthbound : ISouthbound
{
    /// <summary>
    /// Writes the changes and returns when they are on the wire. <see cref="StagedApply.Written"/> fails (with
    /// nothing left applied) when a switch is not connected or a write fails; otherwise
    /// <see cref="StagedApply.Confirmed"/> completes when every switch has answered. A refusal found then is
    /// NOT rolled back here: the caller undoes the whole transaction (e.g. by releasing the group).
    /// </summary>
    ValueTask<StagedApply> ApplyStagedAsync(IReadOnlyList<SwitchChange> changes, CancellationToken cancellationToken);
}

/// <summary>The two stages of <see cref="IStagedSouthbound.ApplyStagedAsync"/>.</summary>
public sealed record StagedApply(SouthboundResult Written, Task<SouthboundResult> Confirmed);
