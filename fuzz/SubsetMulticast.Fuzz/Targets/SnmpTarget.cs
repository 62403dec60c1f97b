using SubsetMulticast.Snmp.AgentX;
using SubsetMulticast.Snmp.Messages;
using SubsetMulticast.Snmp.Security;

namespace SubsetMulticast.Fuzz.Targets;

/// <summary>
/// SNMP over BER (RFC 3416/3412/3414) and AgentX (RFC 2741) as the client, the agent and the subagent read them.
/// <see cref="SnmpCodec.TryDecode"/> never throws; a decoded message re-encodes, and that encoding is a fixed
/// point. AgentX readers return false on anything they cannot read, never throw.
/// </summary>
public sealed class SnmpTarget : FuzzTarget
{
    public override string Name => "snmp";
    public override string Description => "SNMP datagram (BER, v1/v2c/v3 USM) and AgentX PDU: decode, encode fixed point";

    protected override void Run(ReadOnlySpan<byte> input)
    {
        var r = SnmpCodec.TryDecode(input, out var m);
        ContractViolation.Check(r.IsOk == m is not null, $"decode result {r} with message {(m is null ? "null" : "set")}");
        ContractViolation.Check(r.IsOk || r.Offset >= 0 && r.Offset <= input.Length, $"fault offset {r.Offset} outside {input.Length} bytes");
        if (m is { Version: SnmpVersion.V1 or SnmpVersion.V2c, Pdu: { } pdu })
        {
            var once = SnmpCodec.EncodeCommunity(m.Version, m.Community, pdu);
            var back = SnmpCodec.TryDecode(once, out var m2);
            ContractViolation.Check(back.IsOk, $"re-encoded message does not decode: {back}");
            ContractViolation.Check(SnmpCodec.EncodeCommunity(m2!.Version, m2.Community, m2.Pdu!).AsSpan().SequenceEqual(once), "SNMP message is not a fixed point of decode∘encode");
        }
        if (m is { Version: SnmpVersion.V3, Pdu: { } scoped })
        {
            var once = SnmpCodec.EncodeScopedPdu(m.ContextEngineId, m.ContextName, scoped);
            var back = SnmpCodec.TryDecodeScopedPdu(once, out var engine, out var name, out var pdu2);
            ContractViolation.Check(back.IsOk, $"re-encoded scoped PDU does not decode: {back}");
            ContractViolation.Check(SnmpCodec.EncodeScopedPdu(engine, name, pdu2!).AsSpan().SequenceEqual(once), "scoped PDU is not a fixed point of decode∘encode");
        }
        // A decrypted ScopedPDU comes from the same bytes an attacker chose (AES/DES with a known key).
        _ = SnmpCodec.TryDecodeScopedPdu(input, out _, out _, out _);

        if (AgentXWriter.TryReadHeader(input, out var h) && input.Length >= AgentXHeader.Length)
        {
            var payload = input[AgentXHeader.Length..];
            var reader = new AgentXReader(payload[..Math.Min(payload.Length, h.PayloadLength)], h.BigEndian);
            for (int i = 0; i < 4096 && !reader.IsEmpty && reader.TryVarBind(out _); i++) { }
            var ranges = new AgentXReader(payload, h.BigEndian);
            for (int i = 0; i < 4096 && !ranges.IsEmpty && ranges.TrySearchRange(out _); i++) { }
        }
    }

    public override IEnumerable<(string, byte[])> Seeds()
    {
        // The samples of tests/SubsetMulticast.Snmp.Tests/Ber/CodecTests.cs: net-snmp's own get, and one of every kind we encode.
        yield return ("netsnmp-get", Convert.FromHexString("302902010104067075626c6963a01c02045e3b0a0a020100020100300e300c06082b060102010105000500"));
        var vbs = new VarBind[]
        {
            new(ObjectIdentifier.Parse("1.3.6.1.2.1.1.1.0"), SnmpValue.OctetString("Linux\u0001"u8)),
            new(ObjectIdentifier.Parse("1.3.6.1.2.1.1.2.0"), SnmpValue.Object(ObjectIdentifier.Parse("1.3.6.1.4.1.8072.3.2.10"))),
            new(ObjectIdentifier.Parse("1.3.6.1.2.1.1.3.0"), SnmpValue.TimeTicks(uint.MaxValue)),
            new(ObjectIdentifier.Parse("1.3.6.1.2.1.31.1.1.1.6.1"), SnmpValue.Counter64(ulong.MaxValue)),
            new(ObjectIdentifier.Parse("1.3.6.1.2.1.4.20.1.1.10.0.0.1"), SnmpValue.IpAddress([10, 0, 0, 1])),
            new(ObjectIdentifier.Parse("1.3.6.1.2.1.1.7.0"), SnmpValue.Integer(int.MinValue)),
            new(ObjectIdentifier.Parse("2.999.1"), SnmpValue.NoSuchInstance),
        };
        yield return ("v2c-response", SnmpCodec.EncodeCommunity(SnmpVersion.V2c, "private"u8, new SnmpPdu(PduType.Response, 0x7FFFFFFF, 0, 0, vbs)));
        yield return ("v1-trap", SnmpCodec.EncodeCommunity(SnmpVersion.V1, "public"u8, new SnmpPdu(PduType.TrapV1, 0, 0, 0, vbs[..2])
        { Trap = new TrapV1Fields(ObjectIdentifier.Parse("1.3.6.1.4.1.8072"), 0x7F000001, 6, 42, 1234) }));
        yield return ("v2c-getbulk", SnmpCodec.EncodeCommunity(SnmpVersion.V2c, "public"u8, SnmpPdu.GetBulk(-5, 1, 20, ObjectIdentifier.Parse("1.3.6.1.2.1.17"))));
        var engine = Convert.FromHexString("000000000000000000000002");
        var user = new UsmUser("u256", AuthProtocol.Sha256, "authpass256", PrivProtocol.Aes128, "privpass256");
        yield return ("v3-authpriv", UsmWire.Encode(77, 1400, SecurityLevel.AuthPriv, true, user.Name, user.Auth, user.Priv, user.Localize(engine), engine, 3, 1000, engine, [], SnmpPdu.Set(9, vbs), 1));
        yield return ("v3-authnopriv", UsmWire.Encode(78, 1400, SecurityLevel.AuthNoPriv, true, user.Name, user.Auth, user.Priv, user.Localize(engine), engine, 3, 1000, engine, "ctx"u8, new SnmpPdu(PduType.InformRequest, 10, 0, 0, vbs), 1));
        yield return ("v3-report", UsmWire.Encode(79, 1400, SecurityLevel.NoAuthNoPriv, true, "", AuthProtocol.None, PrivProtocol.None, null, [], 0, 0, [], [], new SnmpPdu(PduType.Report, 11, 0, 0, [new(UsmWire.UnknownEngineIds, SnmpValue.Counter32(3))]), 0));
        yield return ("scoped-pdu", SnmpCodec.EncodeScopedPdu(engine, "ctx"u8, SnmpPdu.Set(9, vbs)));
        var w = new AgentXWriter();
        foreach (var vb in vbs) w.VarBind(vb);
        yield return ("agentx-response", w.ToPdu(AgentXType.Response, 1, 2, 3, AgentXHeader.NetworkByteOrder));
        var g = new AgentXWriter().Oid(ObjectIdentifier.Parse("1.3.6.1.2.1.17.7"), include: true).Oid(ObjectIdentifier.Parse("1.3.6.1.2.1.17.8"));
        yield return ("agentx-get-range", g.ToPdu(AgentXType.GetNext, 1, 2, 3, AgentXHeader.NetworkByteOrder));
    }
}
