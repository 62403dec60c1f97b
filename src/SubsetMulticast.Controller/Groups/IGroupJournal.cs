using SubsetMulticast.Core.Lifecycle;

namespace SubsetMulticast.Controller.Groups;

/// <summary>
/// The durable side of a group store (etcd): the core's <see cref="IGroupStore"/> is the in-memory view the
/// lifecycle reads and writes without I/O, and this is where <see cref="GroupCoordinator"/> writes each
/// transaction through, before any switch is changed. A transaction the journal cannot record is refused with
/// nothing changed (<see cref="ProblemKind.StoreUnavailable"/>, or <see cref="ProblemKind.GroupBusy"/> when
/// another controller holds the address); one the switches refuse is taken back out with <see cref="UndoAsync"/>.
/// </summary>
public interface IGroupJournal
{
    /// <summary>Records durably what <paramref name="tx"/> leaves (its <see cref="GroupTransaction.After"/>, or its
    /// <see cref="GroupTransaction.Before"/> gone). Null when recorded; the problem otherwise, with nothing recorded.</summary>
    ValueTask<TsmProblem?> RecordAsync(GroupTransaction tx, CancellationToken cancellationToken);

    /// <summary>Puts back what <see cref="RecordAsync"/> recorded for <paramref name="tx"/> (the switches refused it). Best effort:
    /// a record left behind expires with its lease.</summary>
    ValueTask UndoAsync(GroupTransaction tx, CancellationToken cancellationToken);
}
