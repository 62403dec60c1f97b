using System.Formats.Asn1;
using System.Text;
using SubsetMulticast.Snmp.Ber;

namespace SubsetMulticast.Snmp.Messages;

/// <summary>Where decoding stopped and why. <see cref="BerStatus.Ok"/> means the message was read whole.</summary>
public readonly record struct DecodeResult(BerStatus Status, int Offset, string What)
{
    public static readonly DecodeResult Ok = new(BerStatus.Ok, 0, "");
    public bool IsOk => Status == BerStatus.Ok;
    public SnmpDecodeException ToException() => new(Status, Offset, What);
    public override string ToString() => IsOk ? "ok" : $"{What} at offset {Offset} ({Status})";
}

/// <summary>
/// Encodes and decodes SNMP messages: v1/v2c (RFC 1157, RFC 1901) and v3 (RFC 3412 §6) with USM parameters
/// (RFC 3414 §2.4). Decoding never throws: it returns a <see cref="DecodeResult"/> naming the offset.
/// Encoding writes through System.Formats.Asn1's <see cref="AsnWriter"/> (BER, definite lengths).
/// </summary>
public static class SnmpCodec
{
    private const byte Sequence = 0x30, Integer = 0x02, OctetString = 0x04, Null = 0x05, Oid = 0x06;

    // ---------------------------------------------------------------- decoding

    /// <summary>Decodes one datagram. A v3 message with privacy comes back with <see cref="SnmpMessage.EncryptedPdu"/> set.</summary>
    public static DecodeResult TryDecode(ReadOnlySpan<byte> datagram, out SnmpMessage? message)
    {
        message = null;
        var outer = new BerReader(datagram);
        var s = outer.ReadSequence(Sequence, out var msg);
        if (s != BerStatus.Ok) return Fail(s, outer, "message SEQUENCE");
        if (!outer.IsEmpty) return Fail(BerStatus.TrailingBytes, outer, "bytes after the message");
        s = msg.ReadInt64(Integer, out long version);
        if (s != BerStatus.Ok) return Fail(s, msg, "msgVersion");
        if (version is 0 or 1)
        {
            s = msg.Read(OctetString, out var community, out _);
            if (s != BerStatus.Ok) return Fail(s, msg, "community");
            var r = TryDecodePdu(ref msg, out var pdu);
            if (!r.IsOk) return r;
            if (!msg.IsEmpty) return Fail(BerStatus.TrailingBytes, msg, "bytes after the PDU");
            if (version == 0 && pdu!.Type is PduType.GetBulkRequest or PduType.InformRequest or PduType.TrapV2 or PduType.Report)
                return new(BerStatus.BadValue, msg.Offset, "an SNMPv2 PDU in an SNMPv1 message");
            if (version == 1 && pdu!.Type is PduType.TrapV1)
                return new(BerStatus.BadValue, msg.Offset, "a v1 Trap in an SNMPv2c message");
            message = new SnmpMessage { Version = (SnmpVersion)version, Community = community.ToArray(), Pdu = pdu };
            return DecodeResult.Ok;
        }
        if (version != 3) return new(BerStatus.BadValue, 0, $"msgVersion {version}");

        // HeaderData ::= SEQUENCE { msgID, msgMaxSize, msgFlags OCTET STRING (SIZE(1)), msgSecurityModel } (RFC 3412 §6)
        s = msg.ReadSequence(Sequence, out var header);
        if (s != BerStatus.Ok) return Fail(s, msg, "msgGlobalData");
        if ((s = header.ReadInt32(Integer, out int msgId)) != BerStatus.Ok || msgId < 0) return Fail(s == BerStatus.Ok ? BerStatus.BadValue : s, header, "msgID");
        if ((s = header.ReadInt32(Integer, out int maxSize)) != BerStatus.Ok || maxSize < 484) return Fail(s == BerStatus.Ok ? BerStatus.BadValue : s, header, "msgMaxSize");
        if ((s = header.Read(OctetString, out var flags, out _)) != BerStatus.Ok || flags.Length != 1) return Fail(s == BerStatus.Ok ? BerStatus.BadValue : s, header, "msgFlags");
        if ((flags[0] & 3) == 2) return new(BerStatus.BadValue, header.Offset, "msgFlags priv without auth");
        if ((s = header.ReadInt32(Integer, out int model)) != BerStatus.Ok || model < 1) return Fail(s == BerStatus.Ok ? BerStatus.BadValue : s, header, "msgSecurityModel");
        if (!header.IsEmpty) return Fail(BerStatus.TrailingBytes, header, "bytes after msgSecurityModel");

        s = msg.Read(OctetString, out var secParams, out int secOffset);
        if (s != BerStatus.Ok) return Fail(s, msg, "msgSecurityParameters");
        UsmParameters usm = UsmParameters.Empty;
        int authOffset = -1;
        if (model == 3)
        {
            var r = TryDecodeUsm(secParams, secOffset, out usm, out authOffset);
            if (!r.IsOk) return r;
        }

        byte[] contextEngine = [], contextName = [];
        SnmpPdu? scopedPdu = null;
        byte[]? encrypted = null;
        if ((flags[0] & 2) != 0)
        {
            s = msg.Read(OctetString, out var enc, out _);
            if (s != BerStatus.Ok) return Fail(s, msg, "encryptedPDU");
            encrypted = enc.ToArray();
        }
        else
        {
            var r = TryDecodeScopedPdu(ref msg, out contextEngine, out contextName, out scopedPdu);
            if (!r.IsOk) return r;
        }
        if (!msg.IsEmpty) return Fail(BerStatus.TrailingBytes, msg, "bytes after the scoped PDU");
        message = new SnmpMessage
        {
            Version = SnmpVersion.V3, MessageId = msgId, MaxSize = maxSize, Flags = (V3Flags)flags[0], SecurityModel = model,
            Usm = usm, ContextEngineId = contextEngine, ContextName = contextName, Pdu = scopedPdu, EncryptedPdu = encrypted,
            AuthParametersOffset = authOffset,
        };
        return DecodeResult.Ok;
    }

    /// <summary>Decodes a decrypted ScopedPDU (RFC 3412 §6.8). Privacy padding after the SEQUENCE (DES) is allowed.</summary>
    public static DecodeResult TryDecodeScopedPdu(ReadOnlySpan<byte> plaintext, out byte[] contextEngineId, out byte[] contextName, out SnmpPdu? pdu)
    {
        var r = new BerReader(plaintext);
        return TryDecodeScopedPdu(ref r, out contextEngineId, out contextName, out pdu);
    }

    private static DecodeResult TryDecodeScopedPdu(ref BerReader r, out byte[] contextEngineId, out byte[] contextName, out SnmpPdu? pdu)
    {
        contextEngineId = [];
        contextName = [];
        pdu = null;
        var s = r.ReadSequence(Sequence, out var scoped);
        if (s != BerStatus.Ok) return Fail(s, r, "ScopedPDU");
        if ((s = scoped.Read(OctetString, out var ce, out _)) != BerStatus.Ok) return Fail(s, scoped, "contextEngineID");
        if ((s = scoped.Read(OctetString, out var cn, out _)) != BerStatus.Ok) return Fail(s, scoped, "contextName");
        var d = TryDecodePdu(ref scoped, out pdu);
        if (!d.IsOk) return d;
        if (pdu!.Type is PduType.TrapV1) { pdu = null; return new(BerStatus.BadValue, scoped.Offset, "a v1 Trap in an SNMPv3 message"); }
        if (!scoped.IsEmpty) return Fail(BerStatus.TrailingBytes, scoped, "bytes after the PDU");
        contextEngineId = ce.ToArray();
        contextName = cn.ToArray();
        return DecodeResult.Ok;
    }

    private static DecodeResult TryDecodeUsm(ReadOnlySpan<byte> content, int offset, out UsmParameters usm, out int authOffset)
    {
        usm = UsmParameters.Empty;
        authOffset = -1;
        var r = new BerReader(content, offset);
        var s = r.ReadSequence(Sequence, out var p);
        if (s != BerStatus.Ok) return Fail(s, r, "UsmSecurityParameters");
        if (!r.IsEmpty) return Fail(BerStatus.TrailingBytes, r, "bytes after UsmSecurityParameters");
        if ((s = p.Read(OctetString, out var engine, out _)) != BerStatus.Ok || engine.Length > 32) return Fail(s == BerStatus.Ok ? BerStatus.BadValue : s, p, "msgAuthoritativeEngineID");
        if ((s = p.ReadInt32(Integer, out int boots)) != BerStatus.Ok || boots < 0) return Fail(s == BerStatus.Ok ? BerStatus.BadValue : s, p, "msgAuthoritativeEngineBoots");
        if ((s = p.ReadInt32(Integer, out int time)) != BerStatus.Ok || time < 0) return Fail(s == BerStatus.Ok ? BerStatus.BadValue : s, p, "msgAuthoritativeEngineTime");
        if ((s = p.Read(OctetString, out var user, out _)) != BerStatus.Ok || user.Length > 32) return Fail(s == BerStatus.Ok ? BerStatus.BadValue : s, p, "msgUserName");
        if ((s = p.Read(OctetString, out var auth, out int aOff)) != BerStatus.Ok || auth.Length > 64) return Fail(s == BerStatus.Ok ? BerStatus.BadValue : s, p, "msgAuthenticationParameters");
        if ((s = p.Read(OctetString, out var priv, out _)) != BerStatus.Ok || priv.Length > 64) return Fail(s == BerStatus.Ok ? BerStatus.BadValue : s, p, "msgPrivacyParameters");
        if (!p.IsEmpty) return Fail(BerStatus.TrailingBytes, p, "bytes after msgPrivacyParameters");
        authOffset = aOff;
        usm = new UsmParameters(engine.ToArray(), boots, time, Encoding.UTF8.GetString(user), auth.ToArray(), priv.ToArray());
        return DecodeResult.Ok;
    }

    private static DecodeResult TryDecodePdu(ref BerReader r, out SnmpPdu? pdu)
    {
        pdu = null;
        byte tag = r.PeekTag();
        if (tag is < 0xA0 or > 0xA8) return new(BerStatus.UnexpectedTag, r.Offset, "PDU tag");
        var s = r.ReadSequence(tag, out var body);
        if (s != BerStatus.Ok) return Fail(s, r, "PDU");
        TrapV1Fields? trap = null;
        int requestId = 0, errorStatus = 0, errorIndex = 0;
        if (tag == (byte)PduType.TrapV1)
        {
            // Trap-PDU ::= [4] IMPLICIT SEQUENCE { enterprise, agent-addr, generic-trap, specific-trap, time-stamp, variable-bindings }
            if ((s = body.Read(Oid, out var ent, out int entOff)) != BerStatus.Ok) return Fail(s, body, "enterprise");
            if (!TryOid(ent, out var enterprise)) return new(BerStatus.BadObjectIdentifier, entOff, "enterprise");
            if ((s = body.Read(0x40, out var addr, out int addrOff)) != BerStatus.Ok) return Fail(s, body, "agent-addr");
            if (!BerReader.TryDecodeIpAddress(addr, out uint agent)) return new(BerStatus.BadLength, addrOff, "agent-addr");
            if ((s = body.ReadInt32(Integer, out int generic)) != BerStatus.Ok) return Fail(s, body, "generic-trap");
            if ((s = body.ReadInt32(Integer, out int specific)) != BerStatus.Ok) return Fail(s, body, "specific-trap");
            if ((s = body.ReadUnsigned(0x43, 32, out ulong ts)) != BerStatus.Ok) return Fail(s, body, "time-stamp");
            trap = new TrapV1Fields(enterprise!, agent, generic, specific, (uint)ts);
        }
        else
        {
            if ((s = body.ReadInt32(Integer, out requestId)) != BerStatus.Ok) return Fail(s, body, "request-id");
            if ((s = body.ReadInt32(Integer, out errorStatus)) != BerStatus.Ok) return Fail(s, body, "error-status");
            if ((s = body.ReadInt32(Integer, out errorIndex)) != BerStatus.Ok) return Fail(s, body, "error-index");
            if (tag == (byte)PduType.GetBulkRequest ? errorStatus < 0 || errorIndex < 0 : errorStatus is < 0 or > 18 || errorIndex < 0)
                return new(BerStatus.BadValue, body.Offset, "error-status/index");
        }
        var vr = TryDecodeVarBinds(ref body, out var list);
        if (!vr.IsOk) return vr;
        if (!body.IsEmpty) return Fail(BerStatus.TrailingBytes, body, "bytes after variable-bindings");
        pdu = new SnmpPdu((PduType)tag, requestId, errorStatus, errorIndex, list!) { Trap = trap };
        return DecodeResult.Ok;
    }

    /// <summary>The most varbinds one PDU may hold: a 64 KiB datagram cannot carry more than this many 9-byte varbinds.</summary>
    private const int MaxVarBinds = 8192;

    private static DecodeResult TryDecodeVarBinds(ref BerReader r, out List<VarBind>? list)
    {
        list = null;
        var s = r.ReadSequence(Sequence, out var vbs);
        if (s != BerStatus.Ok) return Fail(s, r, "variable-bindings");
        var result = new List<VarBind>();
        Span<uint> arcs = stackalloc uint[ObjectIdentifier.MaxArcs];
        while (!vbs.IsEmpty)
        {
            if (result.Count >= MaxVarBinds) return new(BerStatus.BadLength, vbs.Offset, "too many varbinds");
            if ((s = vbs.ReadSequence(Sequence, out var vb)) != BerStatus.Ok) return Fail(s, vbs, "VarBind");
            if ((s = vb.Read(Oid, out var name, out int nameOff)) != BerStatus.Ok) return Fail(s, vb, "name");
            if (!BerReader.TryDecodeOid(name, arcs, out int n)) return new(BerStatus.BadObjectIdentifier, nameOff, "name");
            var oid = ObjectIdentifier.Wrap(arcs[..n].ToArray());
            var v = TryDecodeValue(ref vb, out var value);
            if (!v.IsOk) return v;
            if (!vb.IsEmpty) return Fail(BerStatus.TrailingBytes, vb, "bytes after a varbind's value");
            result.Add(new VarBind(oid, value));
        }
        list = result;
        return DecodeResult.Ok;
    }

    private static DecodeResult TryDecodeValue(ref BerReader r, out SnmpValue value)
    {
        value = default;
        int at = r.Offset;
        var s = r.ReadElement(out byte tag, out var c, out int cOff);
        if (s != BerStatus.Ok) return Fail(s, r, "value");
        switch ((SnmpType)tag)
        {
            case SnmpType.Integer:
                if (!BerReader.TryDecodeSigned(c, out long i) || i is < int.MinValue or > int.MaxValue) return new(BerStatus.IntegerOverflow, cOff, "INTEGER value");
                value = SnmpValue.Raw(SnmpType.Integer, i, null, null);
                return DecodeResult.Ok;
            case SnmpType.OctetString:
            case SnmpType.Opaque:
                value = SnmpValue.Raw((SnmpType)tag, 0, c.ToArray(), null);
                return DecodeResult.Ok;
            case SnmpType.IpAddress:
                if (c.Length != 4) return new(BerStatus.BadLength, cOff, "IpAddress value");
                value = SnmpValue.Raw(SnmpType.IpAddress, 0, c.ToArray(), null);
                return DecodeResult.Ok;
            case SnmpType.Counter32:
            case SnmpType.Gauge32:
            case SnmpType.TimeTicks:
            case SnmpType.Counter64:
                if (!BerReader.TryDecodeUnsigned(c, tag == (byte)SnmpType.Counter64 ? 64 : 32, out ulong u)) return new(BerStatus.IntegerOverflow, cOff, ((SnmpType)tag) + " value");
                value = SnmpValue.Raw((SnmpType)tag, unchecked((long)u), null, null);
                return DecodeResult.Ok;
            case SnmpType.ObjectIdentifier:
                if (!TryOid(c, out var oid)) return new(BerStatus.BadObjectIdentifier, cOff, "OBJECT IDENTIFIER value");
                value = SnmpValue.Object(oid!);
                return DecodeResult.Ok;
            case SnmpType.Null:
            case SnmpType.NoSuchObject:
            case SnmpType.NoSuchInstance:
            case SnmpType.EndOfMibView:
                if (c.Length != 0) return new(BerStatus.BadLength, cOff, "NULL value");
                value = SnmpValue.Raw((SnmpType)tag, 0, null, null);
                return DecodeResult.Ok;
            default:
                return new(BerStatus.UnexpectedTag, at, $"value tag 0x{tag:X2}");
        }
    }

    private static bool TryOid(ReadOnlySpan<byte> c, out ObjectIdentifier? oid)
    {
        Span<uint> arcs = stackalloc uint[ObjectIdentifier.MaxArcs];
        oid = null;
        if (!BerReader.TryDecodeOid(c, arcs, out int n)) return false;
        oid = ObjectIdentifier.Wrap(arcs[..n].ToArray());
        return true;
    }

    private static DecodeResult Fail(BerStatus s, in BerReader at, string what) => new(s, at.Offset, what);

    // ---------------------------------------------------------------- encoding

    private static readonly Asn1Tag OctetTag = Asn1Tag.PrimitiveOctetString;

    /// <summary>Encodes a v1/v2c message.</summary>
    public static byte[] EncodeCommunity(SnmpVersion version, ReadOnlySpan<byte> community, SnmpPdu pdu)
    {
        if (version == SnmpVersion.V3) throw new ArgumentException("Use EncodeV3 for SNMPv3.", nameof(version));
        var w = new AsnWriter(AsnEncodingRules.BER);
        using (w.PushSequence())
        {
            w.WriteInteger((long)version);
            w.WriteOctetString(community);
            WritePdu(w, pdu);
        }
        return w.Encode();
    }

    /// <summary>The BER of a ScopedPDU (the plaintext that privacy encrypts).</summary>
    public static byte[] EncodeScopedPdu(ReadOnlySpan<byte> contextEngineId, ReadOnlySpan<byte> contextName, SnmpPdu pdu)
    {
        var w = new AsnWriter(AsnEncodingRules.BER);
        using (w.PushSequence())
        {
            w.WriteOctetString(contextEngineId);
            w.WriteOctetString(contextName);
            WritePdu(w, pdu);
        }
        return w.Encode();
    }

    /// <summary>
    /// Encodes a v3 message around an already-encoded ScopedPDU (<paramref name="scopedPduOrCiphertext"/> is the
    /// plaintext BER, or the ciphertext when <see cref="V3Flags.Priv"/> is set). Returns the datagram and the
    /// offset of msgAuthenticationParameters' content so the caller can write the digest in place.
    /// </summary>
    public static byte[] EncodeV3(int messageId, int maxSize, V3Flags flags, UsmParameters usm, ReadOnlySpan<byte> scopedPduOrCiphertext, out int authOffset)
    {
        var sec = new AsnWriter(AsnEncodingRules.BER);
        using (sec.PushSequence())
        {
            sec.WriteOctetString(usm.EngineId);
            sec.WriteInteger(usm.EngineBoots);
            sec.WriteInteger(usm.EngineTime);
            sec.WriteOctetString(Encoding.UTF8.GetBytes(usm.UserName));
            sec.WriteOctetString(usm.AuthParameters);
            sec.WriteOctetString(usm.PrivParameters);
        }
        var secBytes = sec.Encode();

        var w = new AsnWriter(AsnEncodingRules.BER);
        using (w.PushSequence())
        {
            w.WriteInteger(3);
            using (w.PushSequence())
            {
                w.WriteInteger(messageId);
                w.WriteInteger(maxSize);
                w.WriteOctetString([(byte)flags]);
                w.WriteInteger(3);
            }
            w.WriteOctetString(secBytes);
            if ((flags & V3Flags.Priv) != 0) w.WriteOctetString(scopedPduOrCiphertext);
            else w.WriteEncodedValue(scopedPduOrCiphertext);
        }
        var bytes = w.Encode();
        // The digest goes in place after encoding (RFC 3414 §6.3.1/§7.3.1); find where the placeholder landed.
        authOffset = -1;
        if (usm.AuthParameters.Length > 0)
        {
            var r = TryDecode(bytes, out var decoded);
            if (!r.IsOk) throw new InvalidOperationException("Encoded an undecodable v3 message: " + r);
            authOffset = decoded!.AuthParametersOffset;
        }
        return bytes;
    }

    private static void WritePdu(AsnWriter w, SnmpPdu pdu)
    {
        var tag = new Asn1Tag(TagClass.ContextSpecific, (byte)pdu.Type & 0x1F, isConstructed: true);
        using (w.PushSequence(tag))
        {
            if (pdu.Type == PduType.TrapV1)
            {
                var t = pdu.Trap ?? throw new ArgumentException("A v1 Trap PDU needs its Trap fields.", nameof(pdu));
                WriteOid(w, t.Enterprise);
                Span<byte> a = stackalloc byte[4];
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(a, t.AgentAddress);
                w.WriteOctetString(a, new Asn1Tag(TagClass.Application, 0));
                w.WriteInteger(t.GenericTrap);
                w.WriteInteger(t.SpecificTrap);
                w.WriteInteger((ulong)t.TimeStamp, new Asn1Tag(TagClass.Application, 3));
            }
            else
            {
                w.WriteInteger(pdu.RequestId);
                w.WriteInteger(pdu.ErrorStatus);
                w.WriteInteger(pdu.ErrorIndex);
            }
            using (w.PushSequence())
            {
                foreach (var vb in pdu.VarBinds)
                {
                    using (w.PushSequence())
                    {
                        WriteOid(w, vb.Oid);
                        WriteValue(w, vb.Value);
                    }
                }
            }
        }
    }

    private static void WriteOid(AsnWriter w, ObjectIdentifier oid)
    {
        // Encoded by hand and written whole: AsnWriter.WriteObjectIdentifier wants a string per OID.
        int len = oid.ContentLength;
        Span<byte> tlv = stackalloc byte[len + 4];
        tlv[0] = Oid;
        int h;
        if (len < 0x80) { tlv[1] = (byte)len; h = 2; }
        else if (len < 0x100) { tlv[1] = 0x81; tlv[2] = (byte)len; h = 3; }
        else { tlv[1] = 0x82; tlv[2] = (byte)(len >> 8); tlv[3] = (byte)len; h = 4; }
        oid.EncodeContent(tlv[h..]);
        w.WriteEncodedValue(tlv[..(h + len)]);
    }

    private static void WriteValue(AsnWriter w, SnmpValue v)
    {
        switch (v.Type)
        {
            case SnmpType.Integer: w.WriteInteger(v.Number); break;
            case SnmpType.OctetString: w.WriteOctetString(v.Bytes); break;
            case SnmpType.Null: w.WriteNull(); break;
            case SnmpType.ObjectIdentifier: WriteOid(w, v.Oid!); break;
            case SnmpType.IpAddress:
            case SnmpType.Opaque:
                w.WriteOctetString(v.Bytes, new Asn1Tag(TagClass.Application, (byte)v.Type & 0x1F)); break;
            case SnmpType.Counter32:
            case SnmpType.Gauge32:
            case SnmpType.TimeTicks:
            case SnmpType.Counter64:
                w.WriteInteger(v.Unsigned, new Asn1Tag(TagClass.Application, (byte)v.Type & 0x1F)); break;
            case SnmpType.NoSuchObject:
            case SnmpType.NoSuchInstance:
            case SnmpType.EndOfMibView:
                w.WriteNull(new Asn1Tag(TagClass.ContextSpecific, (byte)v.Type & 0x1F)); break;
            default: throw new ArgumentException($"Unknown value type {v.Type}.", nameof(v));
        }
    }
}
