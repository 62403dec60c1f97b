using System.Net;
using BenchmarkDotNet.Attributes;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.Emulator;
using SubsetMulticast.Emulator.Snmp;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.Snmp.Agent;
using SubsetMulticast.Snmp.Client;
using SubsetMulticast.Snmp.Messages;
using SubsetMulticast.Snmp.QBridge;
using SubsetMulticast.Snmp.Security;
using SubsetMulticast.Snmp.Southbound;

namespace SubsetMulticast.Benchmarks.Snmp;

/// <summary>
/// SETs against an emulated switch's SNMP agent over loopback UDP: one static-multicast row (egress + status) per SET,
/// v2c and v3 authPriv (SHA-256/AES-128). <see cref="Set"/> is one SET at a time (round trip); <see cref="Set32InFlight"/>
/// keeps 32 outstanding (throughput); <see cref="SouthboundApply"/> is the SNMP southbound's transaction on one switch
/// (SET + read-back GET). SETs/s = operations / mean.
/// </summary>
[MemoryDiagnoser]
public class SnmpSetBenchmarks
{
    private EmulatedFabric _fabric = null!;
    private EmulatedSnmpAgents _agents = null!;
    private SnmpClient _client = null!;
    private SnmpTarget _target = null!;
    private SnmpSouthbound _southbound = null!;
    private VarBind[][] _rows = [];
    private int _n;

    [Params("v2c", "v3-authPriv")]
    public string Security { get; set; } = "v2c";

    [GlobalSetup]
    public void Setup()
    {
        var user = new UsmUser("bench", AuthProtocol.Sha256, "authpass-bench", PrivProtocol.Aes128, "privpass-bench");
        _fabric = new EmulatedFabric(FabricSpec.Parse("single:8"));
        _agents = EmulatedSnmpAgents.Start(_fabric, new IPEndPoint(IPAddress.Loopback, 0), new SnmpAgentOptions { Users = [user] });
        _client = new SnmpClient();
        var ep = _agents.Agents[0].Endpoint;
        _target = Security == "v2c" ? SnmpTarget.V2c(ep, "private") : SnmpTarget.V3(ep, user);
        _rows = [.. Enumerable.Range(0, 256).Select(i => new QBridgeDriver().Install(1, 0x01005E7F0000UL + (ulong)i, [(uint)(1 + i % 8)], 8)[0].ToArray())];
        _southbound = new SnmpSouthbound(_client, [new SnmpSwitch(_fabric.Switches[0].Name, _target, new QBridgeDriver(), 8)]);
        // Discovery and key localisation happen once, outside the measurement.
        _client.SetAsync(_target, _rows[0]).AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _agents.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark]
    public async Task<bool> Set() => (await _client.SetAsync(_target, _rows[_n++ & 255])).Succeeded;

    [Benchmark(OperationsPerInvoke = 32)]
    public async Task Set32InFlight()
    {
        var tasks = new Task<SnmpResult>[32];
        for (int i = 0; i < tasks.Length; i++) tasks[i] = _client.SetAsync(_target, _rows[_n++ & 255]).AsTask();
        foreach (var r in await Task.WhenAll(tasks)) if (!r.Succeeded) throw new InvalidOperationException(r.Error!.Message);
    }

    [Benchmark]
    public async Task<bool> SouthboundApply()
    {
        int i = _n++;
        var rule = new GroupRule(new VlanId(1), IpAddress.FromV4(0xEFFF0000u + (uint)(i & 255)), [(uint)(1 + i % 8), (uint)(1 + (i + 3) % 8)]);
        var r = await _southbound.ApplyAsync([new SwitchChange(_fabric.Switches[0].Name, null, rule)], default);
        return r.Succeeded;
    }
}

/// <summary>The codec alone: decode and encode one v2c SET of a static-multicast row, and one v3 authPriv message (seal and open).</summary>
[MemoryDiagnoser]
public class SnmpCodecBenchmarks
{
    private byte[] _v2c = [], _v3 = [];
    private SnmpPdu _pdu = null!;
    private UsmUser _user = null!;
    private LocalizedKeys _keys = null!;
    private readonly byte[] _engine = Convert.FromHexString("000000000000000000000002");

    [GlobalSetup]
    public void Setup()
    {
        _pdu = SnmpPdu.Set(42, new QBridgeDriver().Install(1, 0x01005E7F0009UL, [1, 3, 5], 8)[0]);
        _v2c = SnmpCodec.EncodeCommunity(SnmpVersion.V2c, "private"u8, _pdu);
        _user = new UsmUser("bench", AuthProtocol.Sha256, "authpass-bench", PrivProtocol.Aes128, "privpass-bench");
        _keys = _user.Localize(_engine);
        _v3 = SealV3();
    }

    [Benchmark]
    public bool DecodeV2c() => SnmpCodec.TryDecode(_v2c, out _).IsOk;

    [Benchmark]
    public byte[] EncodeV2c() => SnmpCodec.EncodeCommunity(SnmpVersion.V2c, "private"u8, _pdu);

    [Benchmark]
    public byte[] SealV3() => UsmWire.Encode(7, 1400, SecurityLevel.AuthPriv, true, _user.Name, _user.Auth, _user.Priv, _keys, _engine, 1, 100, _engine, [], _pdu, 9);

    [Benchmark]
    public bool OpenV3()
    {
        SnmpCodec.TryDecode(_v3, out var m);
        return UsmWire.VerifyDigest(_user.Auth, _keys, _v3, m!) && UsmWire.TryOpen(_user.Priv, _keys, m!, out _);
    }
}
