using System.Net;
using System.Net.Sockets;
using SubsetMulticast.Snmp.Agent;
using SubsetMulticast.Snmp.Client;
using SubsetMulticast.Snmp.Messages;
using SubsetMulticast.Snmp.QBridge;
using SubsetMulticast.Snmp.Security;

namespace SubsetMulticast.Snmp.Tests.Interop;

/// <summary>Our manager against our agent: replayed and out-of-window messages, resync once, hostile responders.</summary>
public sealed class UsmAgentTests
{
    private static readonly UsmUser User = new("u", AuthProtocol.Sha256, "authpass-256", PrivProtocol.Aes128, "privpass-aes");
    private static readonly byte[] EngineId = Convert.FromHexString("8000000000000000000000aa");

    private sealed class MemoryStore(int ports) : IStaticMulticastStore
    {
        public readonly Dictionary<(int, ulong), StaticMulticastRow> Table = new();
        public int PortCount => ports;
        public IReadOnlyCollection<StaticMulticastRow> Rows() => [.. Table.Values];
        public bool TryApply(IReadOnlyList<((int Vlan, ulong Mac) Key, StaticMulticastRow? Row)> changes, out string? error)
        {
            error = null;
            foreach (var (k, r) in changes) { if (r is null) Table.Remove(k); else Table[k] = r; }
            return true;
        }
    }

    private static (SnmpAgent Agent, MemoryStore Store) NewAgent(int boots = 1)
    {
        var store = new MemoryStore(8);
        var agent = new SnmpAgent(new SnmpAgentOptions { EngineId = EngineId, EngineBoots = boots, Users = [User] }, new MibTree([new StaticMulticastRegion(store)]));
        return (agent, store);
    }

    private static VarBind[] CreateRow() =>
    [
        new(QBridgeOids.StaticMulticastEntry.Append(3).Append(QBridgeOids.StaticIndex(1, 0x01005E000055, 0)), SnmpValue.OctetString([0xA0])),
        new(QBridgeOids.StaticMulticastEntry.Append(5).Append(QBridgeOids.StaticIndex(1, 0x01005E000055, 0)), SnmpValue.Integer(3)),
    ];

    private static byte[] Set(SnmpAgent agent, int boots, int time, int msgId = 1) =>
        UsmWire.Encode(msgId, 1400, SecurityLevel.AuthPriv, true, User.Name, User.Auth, User.Priv, User.Localize(EngineId), EngineId, boots, time, EngineId, [], SnmpPdu.Set(msgId, CreateRow()), (ulong)msgId);

    private static SnmpPdu Decode(byte[] response)
    {
        Assert.True(SnmpCodec.TryDecode(response, out var m).IsOk);
        if (m!.EncryptedPdu is not null) Assert.True(UsmWire.TryOpen(User.Priv, User.Localize(EngineId), m, out m));
        return m.Pdu!;
    }

    [Fact]
    public void OutOfWindow_Message_DrawsAnAuthenticatedNotInTimeWindowReport_AndChangesNothing()
    {
        var (agent, store) = NewAgent();
        foreach (var (boots, time) in new[] { (1, agent.EngineTime + 151), (1, agent.EngineTime + 10_000), (2, agent.EngineTime), (0, 0) })
        {
            var response = agent.Handle(Set(agent, boots, time))!;
            Assert.True(SnmpCodec.TryDecode(response, out var m).IsOk);
            Assert.Equal(PduType.Report, m!.Pdu!.Type);
            Assert.Equal(UsmWire.NotInTimeWindows, m.Pdu.VarBinds[0].Oid);
            Assert.Equal(V3Flags.Auth, m.Flags & (V3Flags.Auth | V3Flags.Priv));
            Assert.True(UsmWire.VerifyDigest(User.Auth, User.Localize(EngineId), response, m));
            Assert.Equal(1, m.Usm.EngineBoots);
        }
        Assert.Empty(store.Table);
        // In the window, the same SET applies.
        var ok = Decode(agent.Handle(Set(agent, 1, agent.EngineTime))!);
        Assert.Equal(PduType.Response, ok.Type);
        Assert.Equal(0, ok.ErrorStatus);
        Assert.Single(store.Table);
    }

    [Fact]
    public void ReplayedMessage_FromAnEarlierBoot_IsRefused()
    {
        // A message recorded before the agent restarted (boots 1) is replayed to the restarted agent (boots 2).
        var (before, _) = NewAgent(boots: 1);
        var recorded = Set(before, 1, before.EngineTime);
        var (after, store) = NewAgent(boots: 2);
        var response = Decode(after.Handle(recorded)!);
        Assert.Equal(PduType.Report, response.Type);
        Assert.Equal(UsmWire.NotInTimeWindows, response.VarBinds[0].Oid);
        Assert.Empty(store.Table);
    }

    [Fact]
    public void TamperedMessage_EveryBitFlip_NeverApplies()
    {
        var (agent, store) = NewAgent();
        var good = Set(agent, 1, agent.EngineTime);
        for (int i = 0; i < good.Length; i++)
        {
            var bad = (byte[])good.Clone();
            bad[i] ^= 0x01;
            var response = agent.Handle(bad);
            if (response is not null) Assert.NotEqual(PduType.Response, Decode(response).Type);
        }
        Assert.Empty(store.Table);
        Assert.Equal(0, agent.Counters.Sets);
    }

    [Fact]
    public async Task Client_ResyncsOnce_WhenTheAgentRebooted()
    {
        var (agent1, _) = NewAgent(boots: 1);
        var first = new SnmpUdpAgent(agent1, new IPEndPoint(IPAddress.Loopback, 0));
        var endpoint = first.Endpoint;
        await using var client = new SnmpClient();
        var target = SnmpTarget.V3(endpoint, User);
        var r1 = await client.SetAsync(target, CreateRow());
        Assert.True(r1.Succeeded, r1.ToString());
        await first.DisposeAsync();

        // Same engine, rebooted: boots 2. The cached (boots 1) time is refused once, then the client resyncs.
        var (agent2, store2) = NewAgent(boots: 2);
        await using var second = new SnmpUdpAgent(agent2, endpoint);
        var r2 = await client.SetAsync(target, CreateRow());
        Assert.True(r2.Succeeded, r2.ToString());
        Assert.Equal(1, agent2.Counters.NotInTimeWindows);
        Assert.Single(store2.Table);
    }

    [Fact]
    public async Task Client_HostileResponder_GarbageIsDropped_TimeoutIsTyped_ThenAGoodAnswerWins()
    {
        using var responder = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        responder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        await using var client = new SnmpClient();
        var target = SnmpTarget.V2c((IPEndPoint)responder.LocalEndPoint!, "public") with { Timeout = TimeSpan.FromMilliseconds(300), Retries = 0 };
        var pending = client.GetAsync(target, [ObjectIdentifier.Parse("1.3.6.1.2.1.1.5.0")]).AsTask();
        var buf = new byte[2048];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        var got = await responder.ReceiveFromAsync(buf, SocketFlags.None, from);
        Assert.True(SnmpCodec.TryDecode(buf.AsSpan(0, got.ReceivedBytes), out var request).IsOk);
        // Every truncation of a real response, plus junk, then nothing: a typed timeout, no exception.
        var answer = SnmpCodec.EncodeCommunity(SnmpVersion.V2c, "public"u8, new SnmpPdu(PduType.Response, request!.Pdu!.RequestId, 0, 0, [new(ObjectIdentifier.Parse("1.3.6.1.2.1.1.5.0"), SnmpValue.OctetString("x"))]));
        for (int cut = 0; cut < answer.Length; cut++) await responder.SendToAsync(answer.AsMemory(0, cut), SocketFlags.None, got.RemoteEndPoint);
        await responder.SendToAsync(new byte[] { 0x30, 0x80, 0x30, 0x80 }, SocketFlags.None, got.RemoteEndPoint);
        var r = await pending;
        Assert.Equal(SnmpErrorKind.Timeout, r.Error?.Kind);
        Assert.True(client.DroppedDatagrams >= answer.Length - 1, $"{client.DroppedDatagrams}");

        // Next request: garbage first, then the real answer — the answer is taken.
        var pending2 = client.GetAsync(target with { Timeout = TimeSpan.FromSeconds(5) }, [ObjectIdentifier.Parse("1.3.6.1.2.1.1.5.0")]).AsTask();
        got = await responder.ReceiveFromAsync(buf, SocketFlags.None, from);
        Assert.True(SnmpCodec.TryDecode(buf.AsSpan(0, got.ReceivedBytes), out request).IsOk);
        answer = SnmpCodec.EncodeCommunity(SnmpVersion.V2c, "public"u8, new SnmpPdu(PduType.Response, request!.Pdu!.RequestId, 0, 0, [new(ObjectIdentifier.Parse("1.3.6.1.2.1.1.5.0"), SnmpValue.OctetString("x"))]));
        await responder.SendToAsync(answer.AsMemory(0, answer.Length - 1), SocketFlags.None, got.RemoteEndPoint);
        var wrongCommunity = SnmpCodec.EncodeCommunity(SnmpVersion.V2c, "other"u8, new SnmpPdu(PduType.Response, request.Pdu.RequestId, 0, 0, []));
        await responder.SendToAsync(wrongCommunity, SocketFlags.None, got.RemoteEndPoint);
        await responder.SendToAsync(answer, SocketFlags.None, got.RemoteEndPoint);
        var r2 = await pending2;
        Assert.True(r2.Succeeded, r2.ToString());
        Assert.Equal("STRING: \"x\"", r2.VarBinds[0].Value.ToNetSnmpString());
    }
}
