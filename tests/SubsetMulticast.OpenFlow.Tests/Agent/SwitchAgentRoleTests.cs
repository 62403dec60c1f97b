using SubsetMulticast.Core.Addressing;
using SubsetMulticast.OpenFlow.Agent;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;
using static SubsetMulticast.OpenFlow.Tests.Connections.ListenerTests;

namespace SubsetMulticast.OpenFlow.Tests.Agent;

/// <summary>
/// The emulated switch with several controllers, as Open vSwitch behaves (ofproto's handle_role_request and
/// reject_slave_controller): every connection starts EQUAL; a MASTER demotes the other master; MASTER/SLAVE requests
/// carry generation ids and an older one is refused ROLE_REQUEST_FAILED/STALE; a slave's writes are refused
/// BAD_REQUEST/IS_SLAVE; packet-ins go to masters and equals, and to a slave only when its SET_ASYNC asks.
/// </summary>
public class SwitchAgentRoleTests
{
    private static async Task<(OpenFlowListener[] Controllers, OpenFlowSession[] Sessions, FakeSwitch Switch)> ThreeControllersAsync(ulong dpid)
    {
        var controllers = new[] { StartListener(), StartListener(), StartListener() };
        var sw = new FakeSwitch(dpid);
        foreach (var c in controllers) await sw.Agent.AddControllerAsync(c.LocalEndpoint);
        var sessions = new OpenFlowSession[3];
        for (int i = 0; i < 3; i++)
        {
            var c = controllers[i];
            await Until(() => c.TryGetSwitch(sw.SwitchId, out var s) && s.IsReady, $"controller {i}'s handshake");
            c.TryGetSwitch(sw.SwitchId, out sessions[i]!);
        }
        return (controllers, sessions, sw);
    }

    private static GroupMod Group(uint id, uint port) => new(GroupModCommand.Add, GroupType.All, id, [new OfpBucket([new OutputAction(port)])]);

    [Fact]
    public async Task Roles_MasterDemotesMaster_SlaveWritesRefused_StaleGenerationRefused()
    {
        var (controllers, s, sw) = await ThreeControllersAsync(0x51);
        try
        {
            Assert.Equal(3, sw.Agent.Controllers.Count);
            Assert.All(sw.Agent.Controllers, c => Assert.Equal(ControllerRole.Equal, c.Role));

            var r0 = Assert.IsType<RoleReply>(await s[0].RequestAsync(new RoleRequest(ControllerRole.Master, 5)));
            Assert.Equal((ControllerRole.Master, 5UL), (r0.Role, r0.GenerationId));
            var r1 = Assert.IsType<RoleReply>(await s[1].RequestAsync(new RoleRequest(ControllerRole.Slave, 5)));
            Assert.Equal(ControllerRole.Slave, r1.Role);

            // The slave may not write; the master and an EQUAL may.
            var refused = await s[1].ApplyWithBarrierAsync([Group(0x5300_0001, 1)]);
            Assert.Equal("BAD_REQUEST/IS_SLAVE", Assert.Single(refused).Name);
            Assert.Empty(await s[0].ApplyWithBarrierAsync([Group(0x5300_0002, 2)]));
            Assert.Empty(await s[2].ApplyWithBarrierAsync([Group(0x5300_0003, 3)]));
            Assert.Equal([0x5300_0002u, 0x5300_0003u], sw.Groups.Keys.Order());
            var bundle = await s[1].ApplyInBundleAsync([Group(0x5300_0004, 1)]);
            Assert.NotEqual(BundleOutcome.Committed, bundle.Outcome);

            // A newer master takes over: the old one is a slave now, and cannot come back with its old generation.
            var r1m = Assert.IsType<RoleReply>(await s[1].RequestAsync(new RoleRequest(ControllerRole.Master, 6)));
            Assert.Equal((ControllerRole.Master, 6UL), (r1m.Role, r1m.GenerationId));
            Assert.Equal("BAD_REQUEST/IS_SLAVE", Assert.Single(await s[0].ApplyWithBarrierAsync([Group(0x5300_0005, 1)])).Name);
            var stale = await Assert.ThrowsAsync<OpenFlowErrorException>(() => s[0].RequestAsync(new RoleRequest(ControllerRole.Master, 5)));
            Assert.Equal("ROLE_REQUEST_FAILED/STALE", stale.Error.Name);
            var now = Assert.IsType<RoleReply>(await s[0].RequestAsync(new RoleRequest(ControllerRole.NoChange, 0)));
            Assert.Equal(ControllerRole.Slave, now.Role);
            // Generations compare as a signed difference: a wrapped-around id is newer.
            var wrapped = Assert.IsType<RoleReply>(await s[0].RequestAsync(new RoleRequest(ControllerRole.Master, 6UL + (1UL << 63) - 1)));
            Assert.Equal(ControllerRole.Master, wrapped.Role);
            Assert.Equal(1, sw.Agent.Controllers.Count(c => c.Role == ControllerRole.Master));
        }
        finally
        {
            await sw.DisposeAsync();
            foreach (var c in controllers) await c.DisposeAsync();
        }
    }

    [Fact]
    public async Task PacketIns_ReachMastersAndEquals_AndASlaveOnlyWhenItsAsyncConfigAsks()
    {
        var (controllers, s, sw) = await ThreeControllersAsync(0x52);
        var got = new int[3];
        for (int i = 0; i < 3; i++)
        {
            int k = i;
            controllers[i].PacketInReceived += (_, _) => Interlocked.Increment(ref got[k]);
        }
        try
        {
            await s[0].RequestAsync(new RoleRequest(ControllerRole.Master, 1));
            await s[1].RequestAsync(new RoleRequest(ControllerRole.Slave, 1));
            await sw.Agent.SendPacketInAsync(1, new byte[60]);
            await Until(() => Volatile.Read(ref got[0]) == 1 && Volatile.Read(ref got[2]) == 1, "the master's and the equal's packet-in");
            await s[0].BarrierAsync(); await s[1].BarrierAsync();
            Assert.Equal(0, Volatile.Read(ref got[1]));

            await s[1].SendAsync(SetAsync.EverythingToSlavesToo() with { Xid = s[1].NextXid() });
            await s[1].BarrierAsync(); // the switch has taken the SET_ASYNC
            await sw.Agent.SendPacketInAsync(1, new byte[60]);
            await Until(() => Volatile.Read(ref got[1]) == 1 && Volatile.Read(ref got[0]) == 2, "the slave's packet-in once it asked");
        }
        finally
        {
            await sw.DisposeAsync();
            foreach (var c in controllers) await c.DisposeAsync();
        }
    }
}
