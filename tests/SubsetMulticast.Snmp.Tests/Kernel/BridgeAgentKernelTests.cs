using System.Net;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.Snmp.AgentX;
using SubsetMulticast.Snmp.Client;
using SubsetMulticast.Snmp.LinuxBridge;
using SubsetMulticast.Snmp.Southbound;
using SubsetMulticast.Snmp.Tests.Interop;
using SubsetMulticast.Snmp.Tests.Support;

namespace SubsetMulticast.Snmp.Tests.Kernel;

/// <summary>
/// End to end on the kernel: two snooping Linux bridges, each behind its own snmpd with our AgentX subagent; hosts in
/// namespaces join a reference group with real IGMP; the SNMP southbound writes a rendezvous group as static MDB
/// entries through snmpd, and a real UDP datagram reaches exactly the members (captured, never joined).
/// </summary>
[Collection("kernel")]
public sealed class BridgeAgentKernelTests : IAsyncLifetime
{
    private const string Reference = "239.1.0.1", Rendezvous = "239.255.0.9";
    private KernelFabric _k = null!;
    private Snmpd _snmpdA = null!, _snmpdB = null!;
    private AgentXSubagent _subA = null!, _subB = null!;
    private string _brA = "", _brB = "";
    private readonly Dictionary<string, (string Ns, string Port)> _hosts = new();
    private (string A, string B) _link;
    private readonly SnmpClient _client = new();

    public async Task InitializeAsync()
    {
        _k = new KernelFabric();
        _brA = _k.Bridge("a", querierIp: "10.77.0.254");
        _brB = _k.Bridge("b");
        _link = _k.Link(_brA, _brB, "ab");
        _hosts["h1"] = _k.Host(_brA, "h1", "10.77.0.1");
        _hosts["h2"] = _k.Host(_brA, "h2", "10.77.0.2");
        _hosts["h3"] = _k.Host(_brB, "h3", "10.77.0.3");
        _hosts["h4"] = _k.Host(_brB, "h4", "10.77.0.4");
        _snmpdA = new Snmpd(agentX: true);
        _snmpdB = new Snmpd(agentX: true);
        var block = (IPAddress.Parse("239.255.0.0"), 16);
        _subA = await AgentXSubagent.ConnectAsync($"tcp:127.0.0.1:{_snmpdA.AgentXPort}", new BridgeAgentMib(new LinuxBridgeState(_brA), block).Tree, [BridgeAgentMib.Subtree], "tsm bridge-agent A");
        _subB = await AgentXSubagent.ConnectAsync($"tcp:127.0.0.1:{_snmpdB.AgentXPort}", new BridgeAgentMib(new LinuxBridgeState(_brB), block).Tree, [BridgeAgentMib.Subtree], "tsm bridge-agent B");
    }

    public async Task DisposeAsync()
    {
        await _subA.DisposeAsync();
        await _subB.DisposeAsync();
        _snmpdA.Dispose();
        _snmpdB.Dispose();
        _k.Dispose();
        await _client.DisposeAsync();
    }

    private uint PortNo(string bridge, string port) => new LinuxBridgeState(bridge).Ports().Single(p => p.Name == port).Number;

    private SnmpTarget TargetA => SnmpTarget.V3(_snmpdA.Endpoint, ManagerAgainstSnmpdTests.User(Snmpd.Users.Single(u => u.User == "u512"))) with { Timeout = TimeSpan.FromSeconds(3) };
    private SnmpTarget TargetB => SnmpTarget.V2c(_snmpdB.Endpoint, "private") with { Timeout = TimeSpan.FromSeconds(3) };

    private Dictionary<string, int> Deliver(string group, int datagrams, params string[] receivers)
    {
        var captures = receivers.ToDictionary(r => r, r => _k.Start(_hosts[r].Ns, KernelFabric.CaptureScript, "40009"));
        return _k.Deliver(_hosts["h1"].Ns, "10.77.0.1", group, 40009, datagrams, captures);
    }

    [Fact]
    public async Task RendezvousGroup_ThroughSnmpd_BecomesStaticMdb_AndReachesExactlyTheMembers()
    {
        foreach (var h in new[] { "h2", "h3", "h4" }) _k.Start(_hosts[h].Ns, KernelFabric.JoinScript, Reference, $"10.77.0.{h[1]}");

        // Learned through dot1qTpGroupTable (snmpd → our subagent → the kernel mdb): B has h3 and h4 (and the link, since
        // the kernel floods IGMPv3 reports to 224.0.0.22 to every port, so B also hears h2's).
        var reader = new BridgeReader(_client);
        var refMac = MulticastMac.For(IpAddress.Parse(Reference)).Value;
        uint[] expectB = [PortNo(_brB, _hosts["h3"].Port), PortNo(_brB, _hosts["h4"].Port)];
        uint[] learntB = [];
        for (int i = 0; i < 100 && !expectB.All(learntB.Contains); i++)
        {
            var (groups, error) = await reader.LearnedGroupsAsync(TargetB);
            Assert.Null(error);
            learntB = groups.SingleOrDefault(g => g.Mac == refMac)?.Learnt ?? [];
            if (!expectB.All(learntB.Contains)) await Task.Delay(100);
        }
        Assert.Subset(learntB.ToHashSet(), expectB.ToHashSet());
        var (groupsA, _) = await reader.LearnedGroupsAsync(TargetA);
        Assert.Contains(PortNo(_brA, _hosts["h2"].Port), groupsA.Single(g => g.Mac == refMac).Learnt);

        // Control: the captures are live — the reference group reaches all three joined hosts, h4 included, so h4's
        // zero below is a real zero. (Not asserted: where the unregistered rendezvous group goes before programming —
        // the kernel floods it until it counts a querier, then sends it to router ports only; that moment varies.)
        var reference = Deliver(Reference, 3, "h2", "h3", "h4");
        Assert.All(reference.Values, n => Assert.Equal(3, n));

        // Members h2 and h3: A sends to h2 and the link, B to h3.
        var swA = new SnmpSwitch("A", TargetA, new QBridgeDriver(), 32);
        var swB = new SnmpSwitch("B", TargetB, new QBridgeDriver(), 32);
        var sb = new SnmpSouthbound(_client, [swA, swB]);
        var group = IpAddress.Parse(Rendezvous);
        var ruleA = new GroupRule(new VlanId(0), group, [PortNo(_brA, _hosts["h2"].Port), PortNo(_brA, _link.A)]);
        var ruleB = new GroupRule(new VlanId(0), group, [PortNo(_brB, _hosts["h3"].Port)]);
        var r = await sb.ApplyAsync([new SwitchChange("A", null, ruleA), new SwitchChange("B", null, ruleB)], default);
        Assert.True(r.Succeeded, string.Join("; ", r.Failures));
        Assert.Contains($"\"grp\":\"{Rendezvous}\"", KernelFabric.Sh("bridge", "-j", "mdb", "show", "dev", _brB));

        // snmpwalk (through snmpd) shows the rows while they live.
        var (code, walk, err) = _snmpdA.Tool("snmpwalk", "-On", "-v2c", "-c", "public", $"127.0.0.1:{_snmpdA.Port}", "1.3.6.1.2.1.17.7.1.3.2.1.5");
        Assert.True(code == 0, err);
        Assert.Contains(".1.3.6.1.2.1.17.7.1.3.2.1.5.1.1.0.94.127.0.9.0 = INTEGER: 3", walk);

        var after = Deliver(Rendezvous, 3, "h2", "h3", "h4");
        Assert.Equal(3, after["h2"]);
        Assert.Equal(3, after["h3"]);
        Assert.Equal(0, after["h4"]);

        // DELETE removes the entries.
        r = await sb.ApplyAsync([new SwitchChange("A", ruleA, null), new SwitchChange("B", ruleB, null)], default);
        Assert.True(r.Succeeded, string.Join("; ", r.Failures));
        Assert.DoesNotContain(Rendezvous, KernelFabric.Sh("bridge", "-j", "mdb", "show", "dev", _brA));
        Assert.DoesNotContain(Rendezvous, KernelFabric.Sh("bridge", "-j", "mdb", "show", "dev", _brB));
        (_, walk, _) = _snmpdA.Tool("snmpwalk", "-On", "-v2c", "-c", "public", $"127.0.0.1:{_snmpdA.Port}", "1.3.6.1.2.1.17.7.1.3.2.1.5");
        Assert.DoesNotContain("94.127.0.9.0", walk);
    }

    [Fact]
    public void FailedMultiVarbindSet_ThroughSnmpd_ChangesNothing()
    {
        var mdbBefore = KernelFabric.Sh("bridge", "-j", "mdb", "show", "dev", _brA);
        string row = "1.1.0.94.127.0.9.0", col = "1.3.6.1.2.1.17.7.1.3.2.1";
        // Varbind 1 valid (port 1), varbind 2 names port 200, which the bridge does not have: wrongValue, index 2.
        var (code, o, e) = _snmpdA.Tool("snmpset", "-v2c", "-c", "private", $"127.0.0.1:{_snmpdA.Port}",
            $"{col}.3.{row}", "x", "80", $"{col}.3.1.1.0.94.127.0.10.0", "x", "00000000000000000000000000000000000000000000000001");
        Assert.NotEqual(0, code);
        Assert.Contains("wrongValue", e + o);
        Assert.Equal(mdbBefore, KernelFabric.Sh("bridge", "-j", "mdb", "show", "dev", _brA));
        Assert.Equal(0, _subA.CommittedSets);
        // And a good one applies, via v3 SHA-256/AES.
        (code, o, e) = _snmpdA.Tool("snmpset", "-v3", "-l", "authPriv", "-u", "u256", "-a", "SHA-256", "-A", "authpass256", "-x", "AES", "-X", "privpass256",
            $"127.0.0.1:{_snmpdA.Port}", $"{col}.3.{row}", "x", "80", $"{col}.5.{row}", "i", "3");
        Assert.True(code == 0, e + o);
        Assert.Contains("\"grp\":\"239.255.0.9\",\"state\":\"permanent\"", KernelFabric.Sh("bridge", "-j", "mdb", "show", "dev", _brA));
    }
}
