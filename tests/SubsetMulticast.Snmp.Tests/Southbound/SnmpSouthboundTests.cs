using System.Net;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.Emulator;
using SubsetMulticast.Emulator.Snmp;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.Snmp.Agent;
using SubsetMulticast.Snmp.Client;
using SubsetMulticast.Snmp.QBridge;
using SubsetMulticast.Snmp.Southbound;

namespace SubsetMulticast.Snmp.Tests.Southbound;

/// <summary>The SNMP southbound against the emulator's switches as real UDP agents (v2c and v3): install, modify, remove, read back, roll back.</summary>
public sealed class SnmpSouthboundTests : IAsyncLifetime
{
    private static readonly IpAddress Group = IpAddress.Parse("239.255.0.9");
    private EmulatedFabric _fabric = null!;
    private EmulatedSnmpAgents _agents = null!;
    private readonly SnmpClient _client = new();

    public Task InitializeAsync()
    {
        _fabric = new EmulatedFabric(FabricSpec.Parse("leaf-spine:1:2:3"));
        _fabric.Announce();
        _agents = EmulatedSnmpAgents.Start(_fabric, new IPEndPoint(IPAddress.Loopback, 0), new SnmpAgentOptions { Users = Emulator.EmulatorAgentTests.Users });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _agents.DisposeAsync();
        await _client.DisposeAsync();
    }

    private SnmpSwitch Switch(int i, bool v3, bool ieee = false) => new(_fabric.Switches[i].Name,
        v3 ? SnmpTarget.V3(_agents.Agents[i].Endpoint, Emulator.EmulatorAgentTests.Users[1]) : SnmpTarget.V2c(_agents.Agents[i].Endpoint, "private"),
        ieee ? new Ieee8021QBridgeDriver() : new QBridgeDriver(), _fabric.Switches[i].PortCount);

    private GroupRule Rule(params uint[] ports) => new(new VlanId(1), Group, ports);

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task Install_Modify_Remove_AcrossSwitches_ChangesForwarding(bool v3, bool ieee)
    {
        var sb = new SnmpSouthbound(_client, Enumerable.Range(0, _fabric.Switches.Count).Select(i => Switch(i, v3, ieee)));
        var leaf1 = _fabric.Switches.First(s => _fabric.Hosts.Count(h => h.Switch == s.Index) >= 3);
        var hosts = _fabric.Hosts.Where(h => h.Switch == leaf1.Index).ToArray();
        // On the hosts' leaf: ports of hosts 0 and 1.
        var install = new SwitchChange(leaf1.Name, null, Rule(hosts[0].Port, hosts[1].Port));
        var r = await sb.ApplyAsync([install], default);
        Assert.True(r.Succeeded, string.Join("; ", r.Failures));
        Assert.True(leaf1.TryGetStaticMac(new VlanId(1), MulticastMac.For(Group), out var ports));
        Assert.Equal([hosts[0].Port, hosts[1].Port], ports.Order());
        var delivered = _fabric.SendUdp(hosts[2], Group, new byte[32]);
        Assert.Equal([hosts[0].Index, hosts[1].Index], delivered.HostsReached().Order());

        var modify = new SwitchChange(leaf1.Name, install.Next, Rule(hosts[1].Port));
        Assert.True((await sb.ApplyAsync([modify], default)).Succeeded);
        Assert.Equal([hosts[1].Index], _fabric.SendUdp(hosts[2], Group, new byte[32]).HostsReached());

        Assert.True((await sb.ApplyAsync([new SwitchChange(leaf1.Name, modify.Next, null)], default)).Succeeded);
        Assert.False(leaf1.TryGetStaticMac(new VlanId(1), MulticastMac.For(Group), out _));
    }

    /// <summary>Acknowledges every SET and keeps nothing, as net-snmp's snmp-bridge-mib does.</summary>
    private sealed class IgnoringStore : IStaticMulticastStore
    {
        public int PortCount => 8;
        public IReadOnlyCollection<StaticMulticastRow> Rows() => [];
        public bool TryApply(IReadOnlyList<((int Vlan, ulong Mac) Key, StaticMulticastRow? Row)> changes, out string? error) { error = null; return true; }
    }

    [Fact]
    public async Task AnAgentThatIgnoresTheSet_FailsTheTransaction_AndTheOthersRollBack()
    {
        var liar = new SnmpAgent(new SnmpAgentOptions(), new MibTree([new StaticMulticastRegion(new IgnoringStore())]));
        await using var liarUdp = new SnmpUdpAgent(liar, new IPEndPoint(IPAddress.Loopback, 0));
        var switches = Enumerable.Range(0, _fabric.Switches.Count).Select(i => Switch(i, false))
            .Append(new SnmpSwitch("liar", SnmpTarget.V2c(liarUdp.Endpoint, "private"), new QBridgeDriver(), 8)).ToList();
        var sb = new SnmpSouthbound(_client, switches);
        var changes = _fabric.Switches.Select(s => new SwitchChange(s.Name, null, Rule(1))).Append(new SwitchChange("liar", null, Rule(1))).ToList();
        var r = await sb.ApplyAsync(changes, default);
        Assert.False(r.Succeeded);
        var failure = Assert.Single(r.Failures);
        Assert.Equal("liar", failure.SwitchId);
        Assert.Contains("ignored", failure.Reason);
        Assert.True(liar.Counters.Sets > 0);
        // Every real switch that took the entry had it taken back.
        Assert.All(_fabric.Switches, s => Assert.Empty(s.StaticMacEntries()));
    }

    [Fact]
    public async Task ARefusingSwitch_FailsTheTransaction_AndTheOthersRollBack()
    {
        var sb = new SnmpSouthbound(_client, Enumerable.Range(0, _fabric.Switches.Count).Select(i => Switch(i, false)));
        _fabric.Switches[^1].FailNextChange = "injected";
        var changes = _fabric.Switches.Select(s => new SwitchChange(s.Name, null, Rule(1, 2))).ToList();
        var r = await sb.ApplyAsync(changes, default);
        Assert.False(r.Succeeded);
        Assert.Equal(_fabric.Switches[^1].Name, Assert.Single(r.Failures).SwitchId);
        Assert.All(_fabric.Switches, s => Assert.Empty(s.StaticMacEntries()));
    }

    [Fact]
    public async Task Reader_PortsFdbGroupsLldp()
    {
        var leaf = _fabric.Switches[^1];
        var host = _fabric.Hosts.First(h => h.Switch == leaf.Index);
        _fabric.Join(host, IpAddress.Parse("239.1.0.1"));
        var reader = new BridgeReader(_client);
        var target = SnmpTarget.V3(_agents.Agents[leaf.Index].Endpoint, Emulator.EmulatorAgentTests.Users[2]);
        var (ports, e1) = await reader.PortsAsync(target);
        Assert.Null(e1);
        Assert.Equal(leaf.PortCount, ports.Count);
        var (fdb, e2) = await reader.FdbAsync(target);
        Assert.Null(e2);
        Assert.Contains(new FdbEntry(1, host.Mac.Value, host.Port), fdb);
        var (groups, e3) = await reader.LearnedGroupsAsync(target);
        Assert.Null(e3);
        var g = Assert.Single(groups, x => x.Mac == MulticastMac.For(IpAddress.Parse("239.1.0.1")).Value);
        Assert.Equal([host.Port], g.Learnt);
        var (lldp, e4) = await reader.LldpAsync(target);
        Assert.Null(e4);
        Assert.NotEmpty(lldp);
        Assert.All(lldp, n => Assert.Contains(_fabric.Switches, s => s.Name == n.SystemName));
    }

    /// <summary>
    /// The SNMP side of the rule audit: rows removed, added and altered behind the controller's back with plain SNMP SETs
    /// are read back from the static multicast table in their categories, the operator's own row (outside the block) is not
    /// judged, and repair fixes exactly the findings (each written and read back), after which the switch is in sync.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Audit_TamperedRows_EachInItsCategory_RepairFixesExactlyThose(bool ieee)
    {
        var switches = Enumerable.Range(0, _fabric.Switches.Count).Select(i => Switch(i, v3: false, ieee)).ToList();
        var sb = new SnmpSouthbound(_client, switches);
        var leaf = switches[^1];
        GroupRule R(string g, params uint[] ports) => new(new VlanId(1), IpAddress.Parse(g), ports);
        var removed = R("239.255.0.1", 1, 2); var kept = R("239.255.0.2", 2); var altered = R("239.255.0.3", 1, 3);
        Assert.True((await sb.ApplyAsync([new(leaf.Id, null, removed), new(leaf.Id, null, kept), new(leaf.Id, null, altered)], default)).Succeeded);
        var audit = new SnmpRuleAudit(sb, _client, SnmpRuleAudit.MacsOfBlock("239.255.0.0/16"));
        var clean = await audit.AuditAsync(leaf.Id, repair: false, default);
        Assert.True(clean.InSync, string.Join("; ", clean.Items));
        Assert.Equal((3, 3, 3), (clean.Expected, clean.Observed, clean.Matched));

        // Behind the controller's back, straight SETs on the agent.
        async Task Set(IReadOnlyList<IReadOnlyList<Messages.VarBind>> pdus) { foreach (var p in pdus) Assert.True((await _client.SetAsync(leaf.Target, p)).Succeeded); }
        await Set(leaf.Driver.Remove(1, removed.Mac.Value));
        await Set(leaf.Driver.Install(1, altered.Mac.Value, [2], leaf.PortCount, exists: true));
        await Set(leaf.Driver.Install(1, MulticastMac.For(IpAddress.Parse("239.255.0.77")).Value, [3], leaf.PortCount));   // extra: in the block
        await Set(leaf.Driver.Install(1, MulticastMac.For(IpAddress.Parse("239.1.2.3")).Value, [3], leaf.PortCount));      // the operator's own

        var found = await audit.AuditAsync(leaf.Id, repair: false, default);
        Assert.Equal((1, 1, 1, 1), (found.Missing, found.Extra, found.Modified, found.Matched));
        Assert.Equal(4, found.Observed);
        Assert.Contains(found.Items, i => i.Category == Core.Audit.RuleAuditCategory.Modified && i.Expected == "egress=1,3" && i.Observed == "egress=2");

        var repaired = await audit.AuditAsync(leaf.Id, repair: true, default);
        Assert.Equal(3, repaired.Repaired);
        Assert.Equal("set and read back", repaired.RepairResult);
        var rows = _fabric.Switches[^1].StaticMacEntries();
        Assert.True(_fabric.Switches[^1].TryGetStaticMac(new VlanId(1), removed.Mac, out var p1) && p1.Order().SequenceEqual([1u, 2u]));
        Assert.True(_fabric.Switches[^1].TryGetStaticMac(new VlanId(1), altered.Mac, out var p3) && p3.Order().SequenceEqual([1u, 3u]));
        Assert.False(_fabric.Switches[^1].TryGetStaticMac(new VlanId(1), MulticastMac.For(IpAddress.Parse("239.255.0.77")), out _));
        Assert.True(_fabric.Switches[^1].TryGetStaticMac(new VlanId(1), MulticastMac.For(IpAddress.Parse("239.1.2.3")), out _)); // not ours: left alone
        Assert.True((await audit.AuditAsync(leaf.Id, repair: false, default)).InSync);
    }

    [Fact]
    public async Task Audit_UnreachableAgent_EveryIntendedRowUnverifiable()
    {
        var dead = new SnmpSwitch("dead", SnmpTarget.V2c(new IPEndPoint(IPAddress.Loopback, 9), "private") with { Timeout = TimeSpan.FromMilliseconds(200), Retries = 0 }, new QBridgeDriver(), 8);
        var sb = new SnmpSouthbound(_client, [dead]);
        var audit = new SnmpRuleAudit(sb, _client);
        var report = await audit.AuditAsync("dead", repair: false, default);
        Assert.NotNull(report.Error);
        Assert.Equal(0, report.Unverifiable); // nothing intended yet
        Assert.False(report.InSync);
    }
}
