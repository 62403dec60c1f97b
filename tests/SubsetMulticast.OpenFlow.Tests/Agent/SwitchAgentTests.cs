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
}
