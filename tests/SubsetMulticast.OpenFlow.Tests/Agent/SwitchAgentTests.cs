using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Protocol;
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
