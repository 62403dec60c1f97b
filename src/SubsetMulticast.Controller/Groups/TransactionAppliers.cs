using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.Push;

namespace SubsetMulticast.Controller.Groups;

/// <summary>Sends one prepared transaction to the switches: all of it takes effect, or none of it.</summary>
internal interface ITransactionApplier
{
    string Name { get; }
    ValueTask<SouthboundResult> ApplyAsync(GroupTransaction tx, CancellationToken cancellationToken);

    /// <summary>Answers when written (optimistic setup); appliers that cannot tell written from confirmed answer when confirmed.</summary>
    async ValueTask<StagedApply> ApplyStagedAsync(GroupTransaction tx, CancellationToken cancellationToken)
    {
        var r = await ApplyAsync(tx, cancellationToken).ConfigureAwait(false);
        return new StagedApply(r, Task.FromResult(r));
    }
}

/// <summary>Controller-computed mode: each switch gets the rule the lifecycle computed for it.</summary>
internal sealed class ComputedApplier(ISouthbound southbound) : ITransactionApplier
{
    public string Name => southbound.Name;

    public ValueTask<SouthboundResult> ApplyAsync(GroupTransaction tx, CancellationToken cancellationToken) =>
        tx.Changes.Count == 0 ? ValueTask.FromResult(SouthboundResult.Success) : southbound.ApplyAsync(tx.Changes, cancellationToken);

    public async ValueTask<StagedApply> ApplyStagedAsync(GroupTransaction tx, CancellationToken cancellationToken)
    {
        if (tx.Changes.Count > 0 && southbound is IStagedSouthbound staged)
            return await staged.ApplyStagedAsync(tx.Changes, cancellationToken).ConfigureAwait(false);
        var r = await ApplyAsync(tx, cancellationToken).ConfigureAwait(false);
        return new StagedApply(r, Task.FromResult(r));
    }
}

/// <summary>
/// Pushed mode (draft §7.1): one signed instruction per transaction, the same for every agent, which computes
/// its own portset. A create or supersede pushes the effective members at the allocated address; a refresh
/// and a release name the group by address. Sequences start at the wall clock in microseconds, so a restarted
/// controller is not taken for a replay.
/// </summary>
internal sealed class PushedApplier : ITransactionApplier
{
    private readonly IPushTarget _target;
    private readonly PushKeyRing _keys;
    private readonly ushort _keyId;
    private readonly uint _senderId;
    private long _sequence;

    public PushedApplier(IPushTarget target, PushKeyRing keys, ushort keyId, uint senderId, TimeProvider time)
    {
        _target = target;
        _keys = keys;
        _keyId = keyId;
        _senderId = senderId;
        _sequence = Math.Max(1, time.GetUtcNow().ToUnixTimeMilliseconds() * 1000);
    }

    public string Name => "push";

    public ValueTask<SouthboundResult> ApplyAsync(GroupTransaction tx, CancellationToken cancellationToken)
    {
        var (opcode, group) = tx.Kind switch
        {
            TransactionKind.Create or TransactionKind.Supersede => (PushOpcode.PushMembership, tx.After!),
            TransactionKind.Refresh => (PushOpcode.Refresh, tx.After!),
            _ => (PushOpcode.Release, tx.Before!),
        };
        IpAddress[] members = opcode == PushOpcode.PushMembership ? [.. group.Effective] : [];
        var instruction = new byte[PushInstruction.LengthFor(group.Address.IsV6, members.Length)];
        ulong sequence = (ulong)Interlocked.Increment(ref _sequence);
        uint leaseMs = (uint)Math.Clamp(group.Ttl.TotalMilliseconds, 1, uint.MaxValue);
        PushInstructionWriter.Write(instruction, opcode, group.Vlan, _keyId, _senderId, sequence, leaseMs,
            group.Reference, group.Address, members, _keys);
        return _target.PushAsync(instruction, cancellationToken);
    }
}
