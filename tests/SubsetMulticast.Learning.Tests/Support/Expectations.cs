using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.Planning;
using SubsetMulticast.Core.ReferenceGroups;

namespace SubsetMulticast.Learning.Tests.Support;

/// <summary>What the learned tables must say, computed from what the hosts did, and a walk of a plan through the fabric.</summary>
internal static class Expectations
{
    /// <summary>Per switch index, the ports toward the joined hosts along the tree (what flooded reports teach each switch).</summary>
    public static SortedDictionary<int, uint[]> MemberPorts(LearnerLab lab, IEnumerable<LabHost> joined)
    {
        var topology = lab.Learner.Topology;
        var result = new SortedDictionary<int, SortedSet<uint>>();
        foreach (var h in joined)
        {
            var at = lab.Ref(h.Switch, h.Port);
            foreach (var sw in topology.Switches)
            {
                if (!topology.Tree.SameComponent(sw.Index, at.Switch)) continue;
                uint p = topology.Tree.PortToward(sw.Index, at);
                if (p == SpanningTree.NoPort) continue;
                if (!result.TryGetValue(sw.Index, out var set)) result[sw.Index] = set = [];
                set.Add(p);
            }
        }
        return new SortedDictionary<int, uint[]>(result.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()));
    }

    public static SortedDictionary<int, uint[]> Learned(ReferenceGroupTable references, VlanId vlan, IpAddress group)
    {
        var result = new SortedDictionary<int, uint[]>();
        if (!references.TryGet(vlan, group, out var g)) return result;
        for (int i = 0; i < g.SwitchCount; i++) result[g.SwitchAt(i)] = g.MemberPortsAt(i).ToArray();
        return result;
    }

    /// <summary>
    /// Walks a datagram from <paramref name="sender"/> through the fabric: a switch with a rule sends to the
    /// rule's ports, one without forwards as unregistered multicast (to its router ports); never back out of
    /// the port it came in on. Returns the hosts (other than the sender) it reaches.
    /// </summary>
    public static SortedSet<int> Deliver(LearnerLab lab, PlanBuffer plan, VlanId vlan, LabHost sender)
    {
        var topology = lab.Learner.Topology;
        var rules = new Dictionary<int, uint[]>();
        for (int i = 0; i < plan.SwitchCount; i++) rules[plan.SwitchAt(i)] = plan.PortsAt(i).ToArray();
        var peer = new Dictionary<PortRef, PortRef>();
        foreach (var l in topology.Links) { peer[l.A] = l.B; peer[l.B] = l.A; }
        var hostAt = lab.Hosts.ToDictionary(h => lab.Ref(h.Switch, h.Port));
        var got = new SortedSet<int>();
        var seen = new HashSet<int>();
        var queue = new Queue<PortRef>();
        queue.Enqueue(lab.Ref(sender.Switch, sender.Port));
        while (queue.Count > 0)
        {
            var inPort = queue.Dequeue();
            Assert.True(seen.Add(inPort.Switch), $"switch {inPort.Switch} got the datagram twice (a loop)");
            var outs = rules.TryGetValue(inPort.Switch, out var r) ? r : lab.Learner.References.RouterPorts(vlan, inPort.Switch).ToArray();
            foreach (var p in outs)
            {
                if (p == inPort.Port) continue;
                var at = new PortRef(inPort.Switch, p);
                if (peer.TryGetValue(at, out var next)) queue.Enqueue(next);
                else if (hostAt.TryGetValue(at, out var h)) got.Add(h.Number);
            }
        }
        return got;
    }
}
