namespace SubsetMulticast.Core.Southbound;

/// <summary>
/// Pushed mode (draft §7.1): the same signed instruction goes to every switch's forwarding control
/// agent, and each computes its own portset from its own tables. Like <see cref="ISouthbound"/>, one
/// call is one transaction: every agent accepts, or every agent that changed is put back.
/// </summary>
public interface IPushTarget
{
    ValueTask<SouthboundResult> PushAsync(ReadOnlyMemory<byte> instruction, CancellationToken cancellationToken);
}
