using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Agent;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.OpenFlow.Tests.Protocol;
using SubsetMulticast.OpenFlow.Southbound;
using static SubsetMulticast.OpenFlow.Tests.Connections.ListenerTests;

namespace SubsetMulticast.OpenFlow.Tests.Agent;

public class SwitchAgentTests
{
    [Fact]
    public async Task Forward_AfterSouthboundInstall_ReturnsGroupPortsMinusIngress()
    {
        await using var listener = StartListener();
        using var sb = new OpenFlowSouthbound(listener);
        await using var sw = new FakeSwitch(0x31);
        await sw.ConnectAsync(listener.LocalEndpoint);
        await Until(() => listener.TryGetSwitch(sw.SwitchId, out _), "handshake");
        var group = IpAddress.Parse("239.3.3.3");
        Assert.True((await sb.ApplyAsync([new SwitchChange(sw.SwitchId, null, new GroupRule(new VlanId(9), group, [1, 2, 3]))], default)).Succeeded);

        var packet = new OfpMatch { EthType = 0x0800, VlanVid = 0x1000 | 9, Ipv4Dst = group.V4 };
        Assert.Equal([1u, 3u], sw.Agent.Forward(2, packet));
        Assert.Null(sw.Agent.Forward(2, packet with { VlanVid = 0x1000 | 8 }));   // other VLAN: table miss
        Assert.Null(sw.Agent.Forward(2, packet with { Ipv4Dst = group.V4 + 1 })); // other group
    }

    [Fact]
    public async Task PrefixFlow_MatchesInsideItsBlockOnly_AndLosesToTheGroupRule()
    {
        await using var listener = StartListener();
        using var sb = new OpenFlowSouthbound(listener);
        await using var sw = new FakeSwitch(0x33);
        await sw.ConnectAsync(listener.LocalEndpoint);
        await Until(() => listener.TryGetSwitch(sw.SwitchId, out _), "handshake");
        listener.TryGetSwitch(sw.SwitchId, out var session);
        var group = IpAddress.Parse("239.255.3.3");
        Assert.True((await sb.ApplyAsync([new SwitchChange(sw.SwitchId, null, new GroupRule(new VlanId(0), group, [1, 3]))], default)).Succeeded);
        Assert.Empty(await session.ApplyWithBarrierAsync([.. Samples.All().OfType<FlowMod>().Where(f => f.Match == Samples.BlockV4 || f.Match == Samples.BlockV6)]));

        // The typed path (Forward) and the compiled data-plane path (Lookup) must agree.
        IReadOnlyList<uint>? Both(uint inPort, OfpMatch m)
        {
            var viaForward = sw.Agent.Forward(inPort, m);
            var d = sw.Agent.Lookup(new PacketFields(inPort, default, m.EthType ?? 0, m.VlanVid ?? 0, 17, m.Ipv4Dst ?? 0, m.Ipv6Dst ?? default, 9, 0));
            Assert.Equal(viaForward is not null, d.Matched);
            return viaForward;
        }
        var v4 = new OfpMatch { EthType = 0x0800, Ipv4Dst = group.V4 };
        Assert.Equal([3u], Both(1, v4));                                                           // the group rule wins
        Assert.Equal([1u], Both(2, v4 with { Ipv4Dst = IpAddress.Parse("239.255.200.1").V4 }));    // in the block, no rule: router port
        Assert.Null(Both(2, v4 with { Ipv4Dst = IpAddress.Parse("239.254.0.1").V4 }));             // outside the /16: table miss
        var v6 = new OfpMatch { EthType = 0x86DD, VlanVid = 0x1000 | 7, Ipv6Dst = IpAddress.Parse("ff15::7:abcd") };
        Assert.Equal([], Both(2, v6));                                                             // matched, drops
        Assert.Null(Both(2, v6 with { Ipv6Dst = IpAddress.Parse("ff15::8:1") }));
        Assert.Null(Both(2, v6 with { VlanVid = 0x1000 | 8 }));
    }

    [Fact]
    public async Task UnknownRequest_AgentAnswersBadRequestBadType()
    {
        await using var listener = StartListener();
        await using var sw = new FakeSwitch(0x32);
        await sw.ConnectAsync(listener.LocalEndpoint);
        await Until(() => listener.TryGetSwitch(sw.SwitchId, out _), "handshake");
        listener.TryGetSwitch(sw.SwitchId, out var session);
        var ex = await Assert.ThrowsAsync<SubsetMulticast.OpenFlow.Connections.OpenFlowErrorException>(() => session.MultipartAsync(new RawMultipartRequest(MultipartType.Desc, 0, [])));
        Assert.Equal("BAD_REQUEST/BAD_TYPE", ex.Error.Name);
    }

    [Fact]
    public async Task GroupDelete_TakesEveryFlowThatUsesIt_WhateverChangedTheFlowsBefore()
    {
        // The agent counts each group's flows so that a group delete with none (a release: the flow went first) skips
        // the table scan; the count must follow every way a flow comes, goes or changes its group.
        await using var listener = StartListener();
        await using var sw = new FakeSwitch(0x34);
        await sw.ConnectAsync(listener.LocalEndpoint);
        await Until(() => listener.TryGetSwitch(sw.SwitchId, out _), "handshake");
        listener.TryGetSwitch(sw.SwitchId, out var session);
        static OfpMatch To(string a) => new() { EthType = 0x0800, Ipv4Dst = IpAddress.Parse(a).V4 };
        static FlowMod Flow(FlowModCommand c, string a, uint gid) => new(c, To(a), [new ApplyActions([new GroupAction(gid)])]) { Priority = 1000 };
        Assert.Empty(await session.ApplyWithBarrierAsync([
            new GroupMod(GroupModCommand.Add, GroupType.All, 5, [new OfpBucket([new OutputAction(1)])]),
            new GroupMod(GroupModCommand.Add, GroupType.All, 6, [new OfpBucket([new OutputAction(2)])]),
            new GroupMod(GroupModCommand.Add, GroupType.All, 7, [new OfpBucket([new OutputAction(3)])]),
            Flow(FlowModCommand.Add, "239.0.0.2", 5),
            Flow(FlowModCommand.Add, "239.0.0.2", 6),         // replaces the flow above: now on group 6
            Flow(FlowModCommand.Add, "239.0.0.3", 6),
            Flow(FlowModCommand.ModifyStrict, "239.0.0.3", 5), // moved: group 5's only flow
            Flow(FlowModCommand.Add, "239.0.0.4", 5),
            new FlowMod(FlowModCommand.DeleteStrict, To("239.0.0.4"), []) { Priority = 1000 },
        ]));
        // Behind the controller's back: group 7's only flow, which no FLOW_MOD brought.
        sw.Agent.Mutate((_, flows) => flows.Add(Flow(FlowModCommand.Add, "239.0.0.5", 7)));
        string[] Left() => [.. sw.Agent.Flows.Select(f => IpAddress.FromV4(f.Match.Ipv4Dst!.Value).ToString()).Order()];

        Assert.Empty(await session.ApplyWithBarrierAsync([new GroupMod(GroupModCommand.Delete, GroupType.All, 5, [])]));
        Assert.Equal(["239.0.0.2", "239.0.0.5"], Left());
        Assert.Empty(await session.ApplyWithBarrierAsync([new GroupMod(GroupModCommand.Delete, GroupType.All, 7, [])]));
        Assert.Equal(["239.0.0.2"], Left());
        Assert.Empty(await session.ApplyWithBarrierAsync([new GroupMod(GroupModCommand.Delete, GroupType.All, 6, [])]));
        Assert.Empty(sw.Agent.Flows);
    }
}
