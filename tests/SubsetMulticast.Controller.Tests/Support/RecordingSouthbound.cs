using System.Collections.Concurrent;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;

namespace SubsetMulticast.Controller.Tests.Support;

/// <summary>
/// A southbound that keeps each switch's rules in a table, records every transaction it applied, and can be
/// told to refuse (the tests are about the service's transaction semantics, not about switches).
/// </summary>
public sealed class RecordingSouthbound : ISouthbound
{
    private readonly ConcurrentDictionary<(string Switch, ushort Vlan, IpAddress Group), GroupRule> _rules = new();
    private readonly ConcurrentQueue<IReadOnlyList<SwitchChange>> _applied = new();

    public string Name => "recording";

    /// <summary>When set, every transaction fails with this refusal and nothing changes.</summary>
    public SwitchFailure? FailWith { get; set; }

    /// <summary>When set, transactions wait for it before applying (to hold a group busy).</summary>
    public TaskCompletionSource? Gate { get; set; }

    /// <summary>Completed when a transaction reaches the gate.</summary>
    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Transactions => _applied.Count;
    public IReadOnlyList<IReadOnlyList<SwitchChange>> Applied => [.. _applied];

    public IReadOnlyDictionary<(string Switch, ushort Vlan, IpAddress Group), GroupRule> Rules => _rules;

    /// <summary>The switch's ports for the group; empty when it holds no rule.</summary>
    public uint[] PortsOf(string sw, ushort vlan, string group) =>
        _rules.TryGetValue((sw, vlan, IpAddress.Parse(group)), out var r) ? [.. r.Ports] : [];

    private int _inFlight;

    /// <summary>Transactions inside <see cref="ApplyAsync"/> right now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    public async ValueTask<SouthboundResult> ApplyAsync(IReadOnlyList<SwitchChange> changes, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            if (Gate is { } gate)
            {
                Entered.TrySetResult();
                await gate.Task.WaitAsync(cancellationToken);
            }
            return Apply(changes);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private SouthboundResult Apply(IReadOnlyList<SwitchChange> changes)
    {
        if (FailWith is { } failure) return SouthboundResult.Failed(failure);
        foreach (var c in changes)
        {
            var key = (c.SwitchId, (c.Next ?? c.Previous)!.Vlan.Value, (c.Next ?? c.Previous)!.Group);
            _rules.TryGetValue(key, out var held);
            if (!Equals(held?.Ports is null ? null : string.Join(",", held.Ports), c.Previous is null ? null : string.Join(",", c.Previous.Ports)))
                throw new InvalidOperationException($"{c.SwitchId}: change expects {c.Previous} but the switch holds {held}.");
            if (c.Next is null) _rules.TryRemove(key, out _); else _rules[key] = c.Next;
        }
        _applied.Enqueue(changes);
        return SouthboundResult.Success;
    }
}

/// <summary>Records every pushed instruction; can refuse.</summary>
public sealed class RecordingPushTarget : IPushTarget
{
    private readonly ConcurrentQueue<byte[]> _pushed = new();

    public SwitchFailure? FailWith { get; set; }
    public IReadOnlyList<byte[]> Pushed => [.. _pushed];

    public ValueTask<SouthboundResult> PushAsync(ReadOnlyMemory<byte> instruction, CancellationToken cancellationToken)
    {
        if (FailWith is { } f) return ValueTask.FromResult(SouthboundResult.Failed(f));
        _pushed.Enqueue(instruction.ToArray());
        return ValueTask.FromResult(SouthboundResult.Success);
    }
}
