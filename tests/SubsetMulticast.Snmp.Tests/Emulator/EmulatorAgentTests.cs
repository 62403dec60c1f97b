using System.Net;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Emulator;
using SubsetMulticast.Emulator.Snmp;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.Snmp.Agent;
using SubsetMulticast.Snmp.Security;
using SubsetMulticast.Snmp.Tests.Support;

namespace SubsetMulticast.Snmp.Tests.Emulator;

/// <summary>Debian's net-snmp tools read and write the emulator's switches as SNMP agents (v2c and v3 authPriv).</summary>
public sealed class EmulatorAgentTests : IAsyncLifetime
{
    private const string Static = "1.3.6.1.2.1.17.7.1.3.2.1";
    // VLAN 1, group 239.0.0.85 → 01:00:5e:00:00:55, receive port 0.
    private const string Row = "1.1.0.94.0.0.85.0";
    private static readonly IpAddress Group = IpAddress.Parse("239.0.0.85");

    internal static readonly UsmUser[] Users =
    [
        new("esha", AuthProtocol.Sha1, "authpass-sha", PrivProtocol.Aes128, "privpass-aes"),
        new("e256", AuthProtocol.Sha256, "authpass-256", PrivProtocol.Aes256, "privpass-256"),
        new("e512", AuthProtocol.Sha512, "authpass-512", PrivProtocol.Aes256C, "privpass-512"),
        new("emd5", AuthProtocol.Md5, "authpass-md5", PrivProtocol.Des, "privpass-des"),
    ];

    private readonly string _dir = Directory.CreateTempSubdirectory("tsm-snmptools-").FullName;
    private EmulatedFabric _fabric = null!;
    private EmulatedSnmpAgents _agents = null!;

    public Task InitializeAsync()
    {
        _fabric = new EmulatedFabric(FabricSpec.Parse("single:4"));
        _fabric.Announce();
        _fabric.Join(_fabric.Hosts[1], IpAddress.Parse("239.1.0.1"));
        _agents = EmulatedSnmpAgents.Start(_fabric, new IPEndPoint(IPAddress.Loopback, 0), new SnmpAgentOptions { Users = Users });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _agents.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    private string Addr => $"127.0.0.1:{_agents.Agents[0].Endpoint.Port}";

    private static string[] V3(UsmUser u) =>
        ["-v3", "-l", "authPriv", "-u", u.Name, "-a", UsmProtocols.NetSnmpName(u.Auth), "-A", Pass(u, true), "-x", UsmProtocols.NetSnmpName(u.Priv), "-X", Pass(u, false)];

    private static string Pass(UsmUser u, bool auth) => u.Name switch
    {
        "esha" => auth ? "authpass-sha" : "privpass-aes",
        "e256" => auth ? "authpass-256" : "privpass-256",
        "e512" => auth ? "authpass-512" : "privpass-512",
        _ => auth ? "authpass-md5" : "privpass-des",
    };

    private (int Code, string Out, string Err) Tool(string tool, params string[] args) => Tools.Run(_dir, tool, ["-On", "-t", "2", "-r", "1", .. args]);

    [Fact]
    public void Snmpget_V2c_ReadsSysNameAndPorts()
    {
        var (code, o, e) = Tool("snmpget", "-v2c", "-c", "public", Addr, "1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.17.1.2.0", "1.3.6.1.2.1.17.1.4.1.2.3");
        Assert.True(code == 0, e);
        Assert.Equal([$".1.3.6.1.2.1.1.5.0 = STRING: \"{_fabric.Switches[0].Name}\"", $".1.3.6.1.2.1.17.1.2.0 = INTEGER: {_fabric.Switches[0].PortCount}", ".1.3.6.1.2.1.17.1.4.1.2.3 = INTEGER: 3"],
            ManagerAgainstSnmpdTestsLines(o));
    }

    [Fact]
    public void Snmpwalk_V2c_FdbAndLearnedGroup()
    {
        var (code, o, e) = Tool("snmpwalk", "-Ox", "-v2c", "-c", "public", Addr, "1.3.6.1.2.1.17.7.1.2");
        Assert.True(code == 0, e);
        var lines = ManagerAgainstSnmpdTestsLines(o);
        foreach (var h in _fabric.Hosts)
        {
            var mac = h.Mac.Value;
            var idx = string.Join('.', Enumerable.Range(0, 6).Select(i => (mac >> (40 - 8 * i)) & 0xFF));
            Assert.Contains($".1.3.6.1.2.1.17.7.1.2.2.1.2.{h.Vlan.Value}.{idx} = INTEGER: {h.Port}", lines);
        }
        // Host 1 joined 239.1.0.1 (MAC 01:00:5e:01:00:01): learnt on its port only.
        var port = _fabric.Hosts[1].Port;
        var expected = string.Join(' ', PortListHex(port, _fabric.Switches[0].PortCount));
        Assert.Contains($".1.3.6.1.2.1.17.7.1.2.3.1.3.1.1.0.94.1.0.1 = Hex-STRING: {expected} ", lines);
    }

    public static TheoryData<int> UserIndexes => new(Enumerable.Range(0, Users.Length));

    [Theory]
    [MemberData(nameof(UserIndexes))]
    public void Snmpset_V3AuthPriv_CreatesStaticRow_ThatForwards_ThenDeletes(int userIndex)
    {
        var u = Users[userIndex];
        var sw = _fabric.Switches[0];
        uint[] ports = [_fabric.Hosts[0].Port, _fabric.Hosts[2].Port];
        var hex = string.Concat(PortListHex(ports, sw.PortCount));
        var (code, o, e) = Tool("snmpset", [.. V3(u), Addr, $"{Static}.3.{Row}", "x", hex, $"{Static}.5.{Row}", "i", "3"]);
        Assert.True(code == 0, e + o);
        Assert.True(sw.TryGetStaticMac(new VlanId(1), MulticastMac.For(Group), out var installed));
        Assert.Equal(ports.Order(), installed.Order());

        // A real frame to the group reaches exactly hosts 0 and 2 (host 3 sends).
        var report = _fabric.SendUdp(_fabric.Hosts[3], Group, new byte[64]);
        Assert.Equal([0, 2], report.HostsReached().Order().ToArray());

        var (wc, walk, we) = Tool("snmpbulkwalk", [.. V3(u), Addr, Static]);
        Assert.True(wc == 0, we);
        Assert.Contains($".{Static}.5.{Row} = INTEGER: 3", ManagerAgainstSnmpdTestsLines(walk));

        (code, o, e) = Tool("snmpset", [.. V3(u), Addr, $"{Static}.5.{Row}", "i", "2"]);
        Assert.True(code == 0, e + o);
        Assert.False(sw.TryGetStaticMac(new VlanId(1), MulticastMac.For(Group), out _));
        (wc, walk, _) = Tool("snmpwalk", [.. V3(u), Addr, Static]);
        Assert.DoesNotContain(Row, walk);
    }

    [Fact]
    public void FailedMultiVarbindSet_ChangesNothing()
    {
        var sw = _fabric.Switches[0];
        // Varbind 1 is fine, varbind 2 has the wrong type: error-index 2, and varbind 1 is not applied either.
        var (code, o, e) = Tool("snmpset", "-v2c", "-c", "private", Addr, $"{Static}.3.{Row}", "x", "A0", $"{Static}.5.{Row}", "s", "three");
        Assert.NotEqual(0, code);
        Assert.Contains("wrongType", e + o);
        Assert.False(sw.TryGetStaticMac(new VlanId(1), MulticastMac.For(Group), out _));
        // A port beyond the switch: wrongValue, nothing created.
        (code, o, e) = Tool("snmpset", "-v2c", "-c", "private", Addr, $"{Static}.3.{Row}", "x", "00000000000001");
        Assert.Contains("wrongValue", e + o);
        Assert.Empty(sw.StaticMacEntries());
        // The read community cannot write.
        (code, o, e) = Tool("snmpset", "-v2c", "-c", "public", Addr, $"{Static}.5.{Row}", "i", "3");
        Assert.NotEqual(0, code);
        Assert.Empty(sw.StaticMacEntries());
    }

    [Fact]
    public void BadCredentials_TheRightReports_NoStateChange()
    {
        var sw = _fabric.Switches[0];
        var agent = _agents.Agents[0].Agent;
        string[] set = [Addr, $"{Static}.5.{Row}", "i", "3"];
        var (code, o, e) = Tool("snmpset", ["-v2c", "-c", "wrong", .. set]);
        Assert.NotEqual(0, code);
        Assert.Contains("Timeout", e + o);
        Assert.True(agent.Counters.BadCommunity > 0);
        (code, o, e) = Tool("snmpset", ["-v3", "-l", "authPriv", "-u", "nobody", "-a", "SHA", "-A", "whatever1", "-x", "AES", "-X", "whatever2", .. set]);
        Assert.Contains("Unknown user name", e + o);
        (code, o, e) = Tool("snmpset", ["-v3", "-l", "authPriv", "-u", "e256", "-a", "SHA-256", "-A", "wrong-password", "-x", "AES-256", "-X", "privpass-256", .. set]);
        Assert.Contains("Authentication failure", e + o);
        (code, o, e) = Tool("snmpset", ["-v3", "-l", "authPriv", "-u", "e256", "-a", "SHA-256", "-A", "authpass-256", "-x", "AES-256", "-X", "wrong-privpass", .. set]);
        Assert.NotEqual(0, code);
        Assert.True(agent.Counters.DecryptionErrors + agent.Counters.Malformed > 0 || (e + o).Contains("Decryption", StringComparison.OrdinalIgnoreCase), e + o);
        Assert.Empty(sw.StaticMacEntries());
        Assert.Equal(0, agent.Counters.Sets);
    }

    internal static IEnumerable<string> PortListHex(uint port, int portCount) => PortListHex([port], portCount);

    internal static IEnumerable<string> PortListHex(uint[] ports, int portCount) =>
        SubsetMulticast.Snmp.QBridge.PortList.Encode(ports, (portCount + 7) / 8).Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));

    private static string[] ManagerAgainstSnmpdTestsLines(string o) => Interop.ManagerAgainstSnmpdTests.Lines(o);
}
