using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.ReferenceGroups;

namespace SubsetMulticast.Core.Planning;

/// <summary>
/// Controller-computed mode: (reference group, members) → the portset of every switch that needs a rule.
/// Members are resolved IP → MAC → edge port; those whose edge port is not a member port of the
/// reference group are ignored and reported. For each switch with a reference entry the draft's rule
/// (<see cref="PortsetRule"/>) is applied with "port toward" taken along the spanning tree; a switch
/// whose result equals its router ports (what it does for unregistered groups anyway) gets no rule, and
/// neither does a switch without a reference entry, for the same reason. No I/O, no allocation.
/// </summary>
public sealed class SubsetPlanner(FabricTopology topology, HostTable hosts)
{
    public FabricTopology Topology { get; } = topology;

    public void Plan(ReferenceGroup reference, ReadOnlySpan<IpAddress> members, PlanBuffer buffer)
    {
        buffer.Reset(members.Length);
        ResolveMembers(reference, members, buffer);
        if (buffer.EffectiveCount == 0) return;
        var tree = Topology.Tree;
        var locations = buffer.EffectiveLocations.AsSpan(0, buffer.EffectiveCount);
        for (int i = 0; i < reference.SwitchCount; i++)
        {
            int sw = reference.SwitchAt(i);
            var forwarding = reference.ForwardingPortsAt(i);
            var set = buffer.BeginSwitch(Math.Min(forwarding.Length, locations.Length + 1) + 1);
            int count = 0;
            foreach (var at in locations)
                count = PortsetRule.AddIfReferenced(set, count, tree.PortToward(sw, at), forwarding);
            if (!PortsetRule.IsUnregisteredDefault(set[..count], reference.RouterPortsAt(i)))
                buffer.CommitSwitch(sw, count);
        }
    }

    private void ResolveMembers(ReferenceGroup reference, ReadOnlySpan<IpAddress> members, PlanBuffer buffer)
    {
        foreach (var ip in members)
        {
            if (buffer.Effective.Contains(ip) || ContainsIgnored(buffer, ip)) continue;
            if (!hosts.TryResolve(reference.Vlan, ip, out var host)) buffer.AddIgnored(ip, IgnoreReason.UnknownHost);
            else if (!reference.HasMemberPort(host.Port.Switch, host.Port.Port)) buffer.AddIgnored(ip, IgnoreReason.NotInReferenceGroup);
            else buffer.AddEffective(ip, host.Port);
        }
    }

    private static bool ContainsIgnored(PlanBuffer buffer, IpAddress ip)
    {
        foreach (var (m, _) in buffer.Ignored) if (m == ip) return true;
        return false;
    }
}
