using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.OpenFlow.Southbound;
using static SubsetMulticast.OpenFlow.Tests.Southbound.OpenFlowSouthboundTests;

namespace SubsetMulticast.OpenFlow.Tests.Southbound;

/// <summary>
/// <see cref="RuleEncoding.Flow"/> (issue 14, fewer switch messages per group): one FLOW_MOD per switch and change,
/// the ports as the flow's own OUTPUT actions, no group; the same match, priority and cookie space as the group
/// encoding, and reconciliation converts a switch written the other way.
/// </summary>
public class RuleEncodingTests
{
    private static readonly IpAddress G1 = IpAddress.Parse("239.1.1.7");
    private static OpenFlowSouthboundOptions FlowEncoding => new() { Encoding = RuleEncoding.Flow };

    private static uint[] OutputPorts(FlowMod flow) => [.. ((ApplyActions)Assert.Single(flow.Instructions)).Actions.Select(a => ((OutputAction)a).Port)];

    [Fact]
    public async Task Install_Repush_Remove_OneFlowModPerSwitchAndNoGroup()
    {
        var (l, sb, f) = await Fabric(2, FlowEncoding);
        try
        {
            var a0 = new GroupRule(new VlanId(10), G1, [1, 2, 3]);
            var a1 = new GroupRule(new VlanId(10), G1, [4]);
            var r = await sb.ApplyAsync([new SwitchChange(f[0].SwitchId, null, a0), new SwitchChange(f[1].SwitchId, null, a1)], default);
            Assert.True(r.Succeeded, string.Join(",", r.Failures));
            foreach (var x in f)
            {
                Assert.Empty(x.Groups);
                Assert.Equal(1, x.CountReceived<FlowMod>());
                Assert.Equal(0, x.CountReceived<GroupMod>());
            }
            var flow = Assert.Single(f[0].Flows);
            Assert.Equal([1u, 2u, 3u], OutputPorts(flow));
            Assert.Equal(G1.V4, flow.Match.Ipv4Dst);
            Assert.Equal((ushort)(0x1000 | 10), flow.Match.VlanVid);
            Assert.True(sb.IsOurCookie(flow.Cookie));

            // A supersede on the same address rewrites the flow in place: still one message, one flow.
            var b0 = a0 with { Ports = [2, 5] };
            Assert.True((await sb.ApplyAsync([new SwitchChange(f[0].SwitchId, a0, b0)], default)).Succeeded);
            Assert.Equal(2, f[0].CountReceived<FlowMod>());
            Assert.Equal([2u, 5u], OutputPorts(Assert.Single(f[0].Flows)));

            Assert.True((await sb.ApplyAsync([new SwitchChange(f[0].SwitchId, b0, null), new SwitchChange(f[1].SwitchId, a1, null)], default)).Succeeded);
            Assert.All(f, x => Assert.Empty(x.Flows));
            Assert.Equal(3, f[0].CountReceived<FlowMod>());
            Assert.Equal(0, f[0].CountReceived<GroupMod>());
            Assert.Empty(sb.IntendedRules(f[0].SwitchId));
        }
        finally { await Teardown(l, sb, f); }
    }

    [Fact]
    public async Task Reconcile_SwitchWrittenWithGroups_ConvertedToOneFlowWithoutLosingIt()
    {
        var (l, sb, f) = await Fabric(1, FlowEncoding);
        try
        {
            var rule = new GroupRule(new VlanId(0), G1, [1, 3]);
            Assert.True((await sb.ApplyAsync([new SwitchChange(f[0].SwitchId, null, rule)], default)).Succeeded);
            uint gid = sb.GroupIdFor(rule.Vlan, rule.Group);
            // As a controller with the group encoding left it: the same flow applying an ALL group.
            f[0].Mutate((groups, flows) =>
            {
                groups[gid] = new GroupMod(GroupModCommand.Add, GroupType.All, gid, [new OfpBucket([new OutputAction(1)]), new OfpBucket([new OutputAction(3)])]);
                flows[0] = flows[0] with { Instructions = [new ApplyActions([new GroupAction(gid)])] };
            });
            l.TryGetSwitch(f[0].SwitchId, out var session);
            var r = await sb.ReconcileAsync(session, default);
            Assert.Equal(1, r.Modified + r.Added);
            Assert.Empty(f[0].Groups);
            Assert.Equal([1u, 3u], OutputPorts(Assert.Single(f[0].Flows)));
        }
        finally { await Teardown(l, sb, f); }
    }
}
