using SubsetMulticast.Snmp.Ber;
using SubsetMulticast.Snmp.Messages;
using SubsetMulticast.Snmp.Security;

namespace SubsetMulticast.Snmp.Tests.Ber;

public class CodecTests
{
    // snmpget -v2c -c public … 1.3.6.1.2.1.1.5.0, as net-snmp 5.9.3 sent it (captured with snmpget -d).
    private static readonly byte[] NetSnmpGet = Convert.FromHexString("302902010104067075626c6963a01c02045e3b0a0a020100020100300e300c06082b060102010105000500");

    internal static IEnumerable<byte[]> Samples()
    {
        yield return NetSnmpGet;
        var vbs = new VarBind[]
        {
            new(ObjectIdentifier.Parse("1.3.6.1.2.1.1.1.0"), SnmpValue.OctetString("Linux\u0001")),
            new(ObjectIdentifier.Parse("1.3.6.1.2.1.1.2.0"), SnmpValue.Object(ObjectIdentifier.Parse("1.3.6.1.4.1.8072.3.2.10"))),
            new(ObjectIdentifier.Parse("1.3.6.1.2.1.1.3.0"), SnmpValue.TimeTicks(uint.MaxValue)),
            new(ObjectIdentifier.Parse("1.3.6.1.2.1.2.2.1.10.4294967295"), SnmpValue.Counter32(0x80000000)),
            new(ObjectIdentifier.Parse("1.3.6.1.2.1.31.1.1.1.6.1"), SnmpValue.Counter64(ulong.MaxValue)),
            new(ObjectIdentifier.Parse("1.3.6.1.2.1.4.20.1.1.10.0.0.1"), SnmpValue.IpAddress([10, 0, 0, 1])),
            new(ObjectIdentifier.Parse("1.3.6.1.2.1.1.7.0"), SnmpValue.Integer(int.MinValue)),
            new(ObjectIdentifier.Parse("2.999.1"), SnmpValue.NoSuchInstance),
            new(ObjectIdentifier.Parse("1.3.6.1.2.1.17.7.1.3.2.1.3.1.1.0.94.0.0.85.0"), SnmpValue.OctetString([0x60])),
        };
        yield return SnmpCodec.EncodeCommunity(SnmpVersion.V2c, "private"u8, new SnmpPdu(PduType.Response, 0x7FFFFFFF, 0, 0, vbs));
        yield return SnmpCodec.EncodeCommunity(SnmpVersion.V1, "public"u8, new SnmpPdu(PduType.TrapV1, 0, 0, 0, vbs[..2])
        { Trap = new TrapV1Fields(ObjectIdentifier.Parse("1.3.6.1.4.1.8072"), 0x7F000001, 6, 42, 1234) });
        yield return SnmpCodec.EncodeCommunity(SnmpVersion.V2c, "public"u8, SnmpPdu.GetBulk(-5, 1, 20, ObjectIdentifier.Parse("1.3.6.1.2.1.17")));
        var user = new UsmUser("u256", AuthProtocol.Sha256, "authpass256", PrivProtocol.Aes128, "privpass256");
        var engine = Convert.FromHexString("000000000000000000000002");
        yield return UsmWire.Encode(77, 1400, SecurityLevel.AuthPriv, true, user.Name, user.Auth, user.Priv, user.Localize(engine), engine, 3, 1000, engine, [], SnmpPdu.Set(9, vbs), 1);
        yield return UsmWire.Encode(78, 1400, SecurityLevel.AuthNoPriv, true, user.Name, user.Auth, user.Priv, user.Localize(engine), engine, 3, 1000, engine, "ctx"u8, new SnmpPdu(PduType.InformRequest, 10, 0, 0, vbs), 1);
        yield return UsmWire.Encode(79, 1400, SecurityLevel.NoAuthNoPriv, true, "", AuthProtocol.None, PrivProtocol.None, null, [], 0, 0, [], [], new SnmpPdu(PduType.Report, 11, 0, 0, [new(UsmWire.UnknownEngineIds, SnmpValue.Counter32(3))]), 0);
    }

    public static TheoryData<int> SampleIndexes => new(Enumerable.Range(0, Samples().Count()));

    [Fact]
    public void NetSnmpRequest_Decodes_AndReencodesToTheSameBytes()
    {
        var r = SnmpCodec.TryDecode(NetSnmpGet, out var m);
        Assert.True(r.IsOk, r.ToString());
        Assert.Equal(SnmpVersion.V2c, m!.Version);
        Assert.Equal("public"u8.ToArray(), m.Community);
        Assert.Equal(PduType.GetRequest, m.Pdu!.Type);
        Assert.Equal(0x5e3b0a0a, m.Pdu.RequestId);
        Assert.Equal("1.3.6.1.2.1.1.5.0", m.Pdu.VarBinds.Single().Oid.ToString());
        Assert.Equal(NetSnmpGet, SnmpCodec.EncodeCommunity(m.Version, m.Community, m.Pdu));
    }

    [Theory]
    [MemberData(nameof(SampleIndexes))]
    public void Sample_RoundTrips(int index)
    {
        var bytes = Samples().ElementAt(index);
        var r = SnmpCodec.TryDecode(bytes, out var m);
        Assert.True(r.IsOk, r.ToString());
        if (m!.Version != SnmpVersion.V3) Assert.Equal(bytes, SnmpCodec.EncodeCommunity(m.Version, m.Community, m.Pdu!));
        else if (m.EncryptedPdu is null)
        {
            var again = SnmpCodec.EncodeV3(m.MessageId, m.MaxSize, m.Flags, m.Usm, SnmpCodec.EncodeScopedPdu(m.ContextEngineId, m.ContextName, m.Pdu!), out _);
            Assert.Equal(bytes, again);
        }
    }

    [Theory]
    [MemberData(nameof(SampleIndexes))]
    public void Truncation_AtEveryOffset_IsAnErrorWithAnOffset_NeverAnException(int index)
    {
        var bytes = Samples().ElementAt(index);
        for (int cut = 0; cut < bytes.Length; cut++)
        {
            var r = SnmpCodec.TryDecode(bytes.AsSpan(0, cut), out var m);
            Assert.False(r.IsOk, $"cut at {cut} decoded");
            Assert.Null(m);
            Assert.InRange(r.Offset, 0, cut);
        }
    }

    [Theory]
    [MemberData(nameof(SampleIndexes))]
    public void EveryByte_Mutated_NeverThrows(int index)
    {
        var bytes = Samples().ElementAt(index);
        foreach (byte v in new byte[] { 0x00, 0x01, 0x7F, 0x80, 0x81, 0x84, 0xFF })
            for (int i = 0; i < bytes.Length; i++)
            {
                var copy = (byte[])bytes.Clone();
                copy[i] = v;
                var r = SnmpCodec.TryDecode(copy, out var m);
                Assert.Equal(r.IsOk, m is not null);
            }
    }

    private static byte[] T(byte tag, params byte[][] children)
    {
        var body = children.SelectMany(c => c).ToArray();
        return [tag, .. Length(body.Length), .. body];
    }

    private static byte[] P(byte tag, params byte[] content) => [tag, .. Length(content.Length), .. content];

    private static byte[] Int(params byte[] content) => P(0x02, content);

    // A v2c message whose request-id content, OID content or value TLV is replaced.
    private static byte[] V2c(byte[] requestId, byte[] oidContent, byte[] value) =>
        T(0x30, Int(1), T(0x04, "public"u8.ToArray()), T(0xA2, Int(requestId), Int(0), Int(0), T(0x30, T(0x30, P(0x06, oidContent), value))));

    public static TheoryData<string, byte[], BerStatus> MalformedCases => new()
    {
        { "indefinite length", [0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00], BerStatus.BadLength },
        { "four-octet length", [0x30, 0x84, 0, 0, 0, 3, 0x02, 0x01, 0x01], BerStatus.BadLength },
        { "length past the end", [0x30, 0x2a, 0x02, 0x01, 0x01], BerStatus.Truncated },
        { "bytes after the message", [.. V2c([1], [0x2b, 6], T(0x05)), 0x00], BerStatus.TrailingBytes },
        { "9-octet version", T(0x30, Int(1, 0, 0, 0, 0, 0, 0, 0, 1), T(0x04)), BerStatus.IntegerOverflow },
        { "version 2", T(0x30, Int(2), T(0x04)), BerStatus.BadValue },
        { "empty INTEGER", V2c([], [0x2b, 6], T(0x05)), BerStatus.IntegerOverflow },
        { "request-id beyond Integer32", V2c([0x00, 0xff, 0xff, 0xff, 0xff], [0x2b, 6], T(0x05)), BerStatus.IntegerOverflow },
        { "INTEGER value beyond Integer32", V2c([1], [0x2b, 6], P(0x02, 0x01, 0, 0, 0, 0)), BerStatus.IntegerOverflow },
        { "Counter32 beyond 32 bits", V2c([1], [0x2b, 6], P(0x41, 0x01, 0, 0, 0, 0)), BerStatus.IntegerOverflow },
        { "Counter64 beyond 64 bits", V2c([1], [0x2b, 6], P(0x46, 0x01, 0, 0, 0, 0, 0, 0, 0, 0)), BerStatus.IntegerOverflow },
        { "negative Gauge32", V2c([1], [0x2b, 6], P(0x42, 0xff)), BerStatus.IntegerOverflow },
        { "empty OID", V2c([1], [], T(0x05)), BerStatus.BadObjectIdentifier },
        { "OID arc over 32 bits", V2c([1], [0x2b, 0x90, 0x80, 0x80, 0x80, 0x00], T(0x05)), BerStatus.BadObjectIdentifier },
        { "OID arc with a leading 0x80", V2c([1], [0x2b, 0x80, 0x01], T(0x05)), BerStatus.BadObjectIdentifier },
        { "unterminated OID arc", V2c([1], [0x2b, 0x86], T(0x05)), BerStatus.BadObjectIdentifier },
        { "OID of 129 arcs", V2c([1], [0x2b, .. Enumerable.Repeat((byte)1, 128).ToArray()], T(0x05)), BerStatus.BadObjectIdentifier },
        { "NULL with content", V2c([1], [0x2b, 6], P(0x05, 0x00)), BerStatus.BadLength },
        { "IpAddress of 5 octets", V2c([1], [0x2b, 6], P(0x40, 1, 2, 3, 4, 5)), BerStatus.BadLength },
        { "unknown value tag", V2c([1], [0x2b, 6], T(0x47)), BerStatus.UnexpectedTag },
        { "high-tag-number form", V2c([1], [0x2b, 6], [0x1f, 0x81, 0x00, 0x00]), BerStatus.UnexpectedTag },
        { "PDU tag 0xA9", T(0x30, Int(1), T(0x04), T(0xA9, Int(1), Int(0), Int(0), T(0x30))), BerStatus.UnexpectedTag },
        { "error-status 19", T(0x30, Int(1), T(0x04), T(0xA2, Int(1), Int(19), Int(0), T(0x30))), BerStatus.BadValue },
        { "GetBulk in v1", T(0x30, Int(0), T(0x04), T(0xA5, Int(1), Int(0), Int(0), T(0x30))), BerStatus.BadValue },
        { "v3 flags priv without auth", T(0x30, Int(3), T(0x30, Int(1), Int(0x05, 0xdc), P(0x04, 0x02), Int(3)), T(0x04), T(0x30)), BerStatus.BadValue },
        { "v3 msgMaxSize under 484", T(0x30, Int(3), T(0x30, Int(1), Int(100), P(0x04, 0x04), Int(3)), T(0x04), T(0x30)), BerStatus.BadValue },
        { "v3 USM parameters not a SEQUENCE", T(0x30, Int(3), T(0x30, Int(1), Int(0x05, 0xdc), P(0x04, 0x04), Int(3)), T(0x04, T(0x04)), T(0x30)), BerStatus.UnexpectedTag },
    };

    [Theory]
    [MemberData(nameof(MalformedCases))]
    public void Malformed_GivesTheStatusAndAnOffsetInside(string why, byte[] bytes, BerStatus status)
    {
        var r = SnmpCodec.TryDecode(bytes, out var m);
        Assert.Null(m);
        Assert.True(r.Status == status, $"{why}: {r}");
        Assert.InRange(r.Offset, 0, bytes.Length);
        Assert.Contains("offset", r.ToException().Message);
    }

    [Fact]
    public void DeepNesting_IsRefused_WithoutRecursion()
    {
        // 100 000 nested SEQUENCEs as a varbind value, and as the message itself: refused, no stack growth.
        var deep = new List<byte>();
        for (int i = 0; i < 100_000; i++) deep.AddRange([0x30, 0x80]);
        var r1 = SnmpCodec.TryDecode(deep.ToArray(), out _);
        Assert.Equal(BerStatus.BadLength, r1.Status);
        var inner = new byte[] { 0x05, 0x00 };
        for (int i = 0; i < 2000; i++) inner = [0x30, .. Length(inner.Length), .. inner];
        var vb = (byte[])[0x06, 0x02, 0x2b, 0x06, .. inner];
        var vbSeq = (byte[])[0x30, .. Length(vb.Length), .. vb];
        var list = (byte[])[0x30, .. Length(vbSeq.Length), .. vbSeq];
        var pduBody = (byte[])[0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, .. list];
        var pdu = (byte[])[0xA2, .. Length(pduBody.Length), .. pduBody];
        var msgBody = (byte[])[0x02, 0x01, 0x01, 0x04, 0x01, 0x70, .. pdu];
        var msg = (byte[])[0x30, .. Length(msgBody.Length), .. msgBody];
        var r2 = SnmpCodec.TryDecode(msg, out var m);
        Assert.Null(m);
        Assert.Equal(BerStatus.UnexpectedTag, r2.Status);
    }

    [Fact]
    public void Integers_AtEveryWidthBoundary_RoundTrip()
    {
        foreach (long v in new long[] { 0, 127, 128, 255, 256, 32767, 32768, -1, -128, -129, int.MaxValue, int.MinValue })
        {
            var bytes = SnmpCodec.EncodeCommunity(SnmpVersion.V2c, "p"u8, new SnmpPdu(PduType.Response, (int)v, 0, 0, [new(ObjectIdentifier.Parse("1.3"), SnmpValue.Integer(v))]));
            Assert.True(SnmpCodec.TryDecode(bytes, out var m).IsOk);
            Assert.Equal(v, m!.Pdu!.RequestId);
            Assert.Equal(v, m.Pdu.VarBinds[0].Value.Number);
        }
        foreach (ulong v in new ulong[] { 0, 0x7F, 0x80, 0xFFFF_FFFF, 0x1_0000_0000, ulong.MaxValue })
        {
            var bytes = SnmpCodec.EncodeCommunity(SnmpVersion.V2c, "p"u8, new SnmpPdu(PduType.Response, 1, 0, 0, [new(ObjectIdentifier.Parse("1.3"), SnmpValue.Counter64(v))]));
            Assert.True(SnmpCodec.TryDecode(bytes, out var m).IsOk);
            Assert.Equal(v, m!.Pdu!.VarBinds[0].Value.Unsigned);
        }
    }

    private static byte[] Length(int n) => n < 0x80 ? [(byte)n] : n < 0x100 ? [0x81, (byte)n] : [0x82, (byte)(n >> 8), (byte)n];
}
