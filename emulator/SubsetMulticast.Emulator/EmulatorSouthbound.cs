using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.Emulator.Switching;
using SubsetMulticast.Push;

namespace SubsetMulticast.Emulator;

/// <summary>
/// Programs the emulated switches. Controller-computed mode writes each switch's transactional table;
/// pushed mode hands the signed instruction to every switch's forwarding control agent, which checks it
/// and computes its own portset. Either way one call is one transaction: on any refusal every switch
/// already changed is put back before the call returns.
/// </summary>
public sealed class EmulatorSouthbound : ISouthbound, IPushTarget
{
    private readonly EmulatedFabric _fabric;
    private readonly ForwardingControlAgent[] _agents;

    public EmulatorSouthbound(EmulatedFabric fabric, PushKeyRing keys)
    {
        _fabric = fabric;
        // Each agent verifies on its own, with its own replay window, as separate switches would.
        _agents = [.. fabric.Switches.Select(s => new ForwardingControlAgent(s, new PushVerifier(keys)))];
    }

    public string Name => "emulator";

    public IReadOnlyList<ForwardingControlAgent> Agents => _agents;

    public ValueTask<SouthboundResult> ApplyAsync(IReadOnlyList<SwitchChange> changes, CancellationToken cancellationToken)
    {
        lock (_fabric.Gate)
        {
            var done = new List<SwitchChange>(changes.Count);
            foreach (var c in changes)
            {
                var s = _fabric.Switch(c.SwitchId);
                if (s.FailNextChange is { } reason)
                {
                    s.FailNextChange = null;
                    for (int i = done.Count - 1; i >= 0; i--) Apply(done[i].Inverse());
                    return ValueTask.FromResult(SouthboundResult.Failed(new SwitchFailure(c.SwitchId, reason)));
                }
                Apply(c);
                done.Add(c);
            }
            return ValueTask.FromResult(SouthboundResult.Success);
        }
    }

    private void Apply(SwitchChange c)
    {
        var s = _fabric.Switch(c.SwitchId);
        var rule = c.Next ?? c.Previous!;
        s.SetTransactional(rule.Vlan, rule.Group, c.Next is null ? null : [.. c.Next.Ports]);
    }

    public ValueTask<SouthboundResult> PushAsync(ReadOnlyMemory<byte> instruction, CancellationToken cancellationToken)
    {
        lock (_fabric.Gate)
        {
            var undo = new List<(EmulatedSwitch Switch, VlanId Vlan, IpAddress Group, uint[]? Before)>();
            foreach (var agent in _agents)
            {
                var outcome = agent.Handle(instruction.Span);
                if (!outcome.Accepted)
                {
                    for (int i = undo.Count - 1; i >= 0; i--) undo[i].Switch.SetTransactional(undo[i].Vlan, undo[i].Group, undo[i].Before);
                    return ValueTask.FromResult(SouthboundResult.Failed(new SwitchFailure(agent.Switch.Name, outcome.Detail ?? "refused")));
                }
                if (outcome.Changed) undo.Add((agent.Switch, outcome.Vlan, outcome.Group, outcome.Before));
            }
            return ValueTask.FromResult(SouthboundResult.Success);
        }
    }
}
