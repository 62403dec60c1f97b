using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Push;

namespace SubsetMulticast.Emulator.Switching;

/// <summary>What an agent did with one instruction; <see cref="Before"/> lets the caller undo it.</summary>
public readonly record struct AgentOutcome(bool Accepted, bool Changed, VlanId Vlan, IpAddress Group, uint[]? Before, string? Detail);

/// <summary>
/// A switch's forwarding control agent (draft §7.1): verifies a pushed instruction (HMAC, replay window),
/// then computes this switch's portset from this switch's own tables — never from the controller's.
/// </summary>
public sealed class ForwardingControlAgent(EmulatedSwitch sw, PushVerifier verifier)
{
    // The members last pushed per group, so a Refresh (which carries none) can re-resolve them.
    private readonly Dictionary<(ushort, IpAddress), IpAddress[]> _members = new();

    public EmulatedSwitch Switch => sw;
    public long Accepted { get; private set; }
    public long Refused { get; private set; }

    public AgentOutcome Handle(ReadOnlySpan<byte> datagram)
    {
        var verdict = verifier.Verify(datagram, out var instruction, out var detail);
        if (verdict != PushVerdict.Accepted)
        {
            Refused++;
            return new AgentOutcome(false, false, default, default, null, $"{verdict}: {detail}");
        }
        Accepted++;
        var vlan = instruction.Vlan;
        var group = instruction.Group;
        sw.TryGetTransactional(vlan, group, out var before);
        uint[]? after = null;
        if (instruction.Opcode is PushOpcode.PushMembership or PushOpcode.Refresh)
        {
            // Refresh carries no member list on the wire: the agent re-resolves the members it holds.
            var members = instruction.Opcode == PushOpcode.PushMembership ? ReadMembers(instruction) : _members.GetValueOrDefault((vlan.Value, group)) ?? [];
            if (instruction.Opcode == PushOpcode.PushMembership) _members[(vlan.Value, group)] = members;
            after = sw.ComputeLocalPortset(vlan, instruction.Reference, members);
        }
        else _members.Remove((vlan.Value, group));
        sw.SetTransactional(vlan, group, after);
        bool changed = !(before is null && after is null) && !(before is not null && after is not null && before.AsSpan().SequenceEqual(after));
        return new AgentOutcome(true, changed, vlan, group, before, null);
    }

    private static IpAddress[] ReadMembers(PushInstruction instruction)
    {
        var members = new IpAddress[instruction.MemberCount];
        for (int i = 0; i < members.Length; i++) members[i] = instruction.MemberAt(i);
        return members;
    }
}
