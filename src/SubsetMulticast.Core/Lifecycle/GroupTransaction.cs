using SubsetMulticast.Core.Southbound;

namespace SubsetMulticast.Core.Lifecycle;

public enum TransactionKind { Create, Supersede, Refresh, Release, Expire }

/// <summary>
/// A prepared change to one group: the record before and after, and what each switch must do to get
/// there. It holds its address and its group until <see cref="GroupLifecycle.Commit"/> or
/// <see cref="GroupLifecycle.Abort"/>.
/// </summary>
public sealed class GroupTransaction
{
    internal GroupTransaction(TransactionKind kind, RendezvousGroup? before, RendezvousGroup? after, IReadOnlyList<SwitchChange> changes, bool reservedAddress)
    {
        Kind = kind;
        Before = before;
        After = after;
        Changes = changes;
        ReservedAddress = reservedAddress;
    }

    public TransactionKind Kind { get; }
    public RendezvousGroup? Before { get; }
    public RendezvousGroup? After { get; }
    public IReadOnlyList<SwitchChange> Changes { get; }
    internal bool ReservedAddress { get; }
    internal bool Settled { get; set; }

    /// <summary>For a committed release or expiry: when the address may be handed out again (end of the hold-down).</summary>
    public DateTimeOffset? ReusableAt { get; internal set; }
}
