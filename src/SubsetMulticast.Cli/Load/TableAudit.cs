using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.OpenFlow.Agent;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.OpenFlow.Southbound;

namespace SubsetMulticast.Cli.Load;

/// <summary>
/// Compares what the emulated OpenFlow switches hold with what the controller says is live: every live group's
/// rule on each of its switches (the ALL group with exactly its portset, and a flow of ours sending to it), and
/// nothing else of ours — so a released group, or a refused transaction's part on a switch that accepted it,
/// shows up as an extra group or an orphan flow.
/// </summary>
public static class TableAudit
{
    public static TableCheck Check(IEnumerable<RendezvousGroup> live, OpenFlowSouthbound southbound, IReadOnlyList<OpenFlowSwitchAgent> agents)
    {
        var expected = new Dictionary<(string Switch, uint Group), IReadOnlyList<uint>>();
        foreach (var g in live)
            foreach (var s in g.Switches) expected[(s.SwitchId, southbound.GroupIdFor(g.Vlan, g.Address))] = s.Ports;
        int matched = 0, missing = 0, extra = 0, wrong = 0, orphan = 0, missingFlows = 0, flows = 0;
        var onSwitch = new HashSet<(string, uint)>();
        var flowed = new HashSet<(string, uint)>();
        foreach (var agent in agents)
        {
            var tables = agent.Groups;
            foreach (var (gid, mod) in tables)
            {
                if (!southbound.IsOurGroup(gid)) continue;
                if (!expected.TryGetValue((agent.SwitchId, gid), out var ports)) { extra++; continue; }
                onSwitch.Add((agent.SwitchId, gid));
                var have = mod.Buckets.SelectMany(b => b.Actions).OfType<OutputAction>().Select(a => a.Port).Order().ToArray();
                if (have.SequenceEqual(ports.Order())) matched++; else wrong++;
            }
            foreach (var f in agent.Flows)
            {
                flows++;
                if (!southbound.IsOurCookie(f.Cookie)) continue;
                var gid = f.Instructions.OfType<ApplyActions>().SelectMany(a => a.Actions).OfType<GroupAction>().Select(a => a.GroupId).FirstOrDefault();
                if (!tables.ContainsKey(gid) || !expected.ContainsKey((agent.SwitchId, gid))) orphan++;
                else flowed.Add((agent.SwitchId, gid));
            }
        }
        foreach (var key in expected.Keys)
        {
            if (!onSwitch.Contains(key)) missing++;
            else if (!flowed.Contains(key)) missingFlows++;
        }
        return new TableCheck(agents.Count, expected.Count, matched, missing, extra, wrong, orphan, true, missingFlows) { FlowsOnSwitches = flows };
    }
}
