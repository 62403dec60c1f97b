using System.Buffers.Binary;
using SubsetMulticast.Snmp.Messages;

namespace SubsetMulticast.Snmp.AgentX;

/// <summary>AgentX PDU types (RFC 2741 §6.1).</summary>
public enum AgentXType : byte
{
    Open = 1, Close = 2, Register = 3, Unregister = 4, Get = 5, GetNext = 6, GetBulk = 7, TestSet = 8, CommitSet = 9,
    UndoSet = 10, CleanupSet = 11, Notify = 12, Ping = 13, IndexAllocate = 14, IndexDeallocate = 15, AddAgentCaps = 16,
    RemoveAgentCaps = 17, Response = 18,
}

/// <summary>res.error values beyond SNMP's error-status (RFC 2741 §6.2.16).</summary>
public enum AgentXError : ushort
{
    NoError = 0, OpenFailed = 256, NotOpen = 257, IndexWrongType = 258, IndexAlreadyAllocated = 259, IndexNoneAvailable = 260,
    IndexNotAllocated = 261, UnsupportedContext = 262, DuplicateRegistration = 263, UnknownRegistration = 264,
    UnknownAgentCaps = 265, ParseError = 266, RequestDenied = 267, ProcessingError = 268,
}

/// <summary>The 20-octet AgentX header (RFC 2741 §6.1).</summary>
public readonly record struct AgentXHeader(AgentXType Type, byte Flags, uint SessionId, uint TransactionId, uint PacketId, int PayloadLength)
{
    public const int Length = 20;
    public const byte InstanceRegistration = 0x01, NonDefaultContext = 0x08, NetworkByteOrder = 0x10;
    public bool BigEndian => (Flags & NetworkByteOrder) != 0;
}

public readonly record struct SearchRange(ObjectIdentifier Start, bool Include, ObjectIdentifier? End);

/// <summary>
/// Reads AgentX payloads in either byte order (the NETWORK_BYTE_ORDER flag says which, per PDU). Never throws: every
/// read returns false on a short or malformed payload, and the session answers parseError or closes.
/// </summary>
public ref struct AgentXReader(ReadOnlySpan<byte> payload, bool bigEndian)
{
    private readonly ReadOnlySpan<byte> _p = payload;
    private int _pos;

    public readonly bool IsEmpty => _pos >= _p.Length;

    public bool TryU8(out byte v) { v = 0; if (_pos + 1 > _p.Length) return false; v = _p[_pos++]; return true; }
    public bool TryU16(out ushort v)
    {
        v = 0;
        if (_pos + 2 > _p.Length) return false;
        v = bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(_p[_pos..]) : BinaryPrimitives.ReadUInt16LittleEndian(_p[_pos..]);
        _pos += 2;
        return true;
    }
    public bool TryU32(out uint v)
    {
        v = 0;
        if (_pos + 4 > _p.Length) return false;
        v = bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(_p[_pos..]) : BinaryPrimitives.ReadUInt32LittleEndian(_p[_pos..]);
        _pos += 4;
        return true;
    }
    public bool TryU64(out ulong v)
    {
        v = 0;
        if (_pos + 8 > _p.Length) return false;
        v = bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(_p[_pos..]) : BinaryPrimitives.ReadUInt64LittleEndian(_p[_pos..]);
        _pos += 8;
        return true;
    }

    /// <summary>Object Identifier (§5.1): n_subid, prefix, include, reserved, subids; prefix p means 1.3.6.1.p.</summary>
    public bool TryOid(out ObjectIdentifier? oid, out bool include)
    {
        oid = null;
        include = false;
        if (!TryU8(out byte n) || !TryU8(out byte prefix) || !TryU8(out byte inc) || !TryU8(out _)) return false;
        include = inc != 0;
        if (n == 0 && prefix == 0) return true;                 // the null OID
        if (n > ObjectIdentifier.MaxArcs) return false;
        var arcs = new List<uint>(n + 5);
        if (prefix != 0) arcs.AddRange([1, 3, 6, 1, prefix]);
        for (int i = 0; i < n; i++) { if (!TryU32(out uint a)) return false; arcs.Add(a); }
        if (arcs.Count < 2 || arcs.Count > ObjectIdentifier.MaxArcs) return false;
        oid = new ObjectIdentifier([.. arcs]);
        return true;
    }

    /// <summary>Octet String (§5.3): length, data, padding to a multiple of 4.</summary>
    public bool TryOctets(out byte[] data)
    {
        data = [];
        if (!TryU32(out uint len) || len > 65535 || _pos + len > _p.Length) return false;
        data = _p.Slice(_pos, (int)len).ToArray();
        _pos += (int)((len + 3) & ~3u);
        if (_pos > _p.Length) return false;
        return true;
    }

    public bool TrySearchRange(out SearchRange range)
    {
        range = default;
        if (!TryOid(out var start, out bool include) || start is null || !TryOid(out var end, out _)) return false;
        range = new SearchRange(start, include, end);
        return true;
    }

    /// <summary>VarBind (§5.4): type, reserved, name, data.</summary>
    public bool TryVarBind(out VarBind? vb)
    {
        vb = null;
        if (!TryU16(out ushort type) || !TryU16(out _) || !TryOid(out var name, out _) || name is null) return false;
        SnmpValue value;
        switch (type)
        {
            case 2: if (!TryU32(out uint i)) return false; value = SnmpValue.Integer(unchecked((int)i)); break;
            case 4: if (!TryOctets(out var s)) return false; value = SnmpValue.OctetString(s); break;
            case 5: value = SnmpValue.Null; break;
            case 6: if (!TryOid(out var o, out _) || o is null) return false; value = SnmpValue.Object(o); break;
            case 64: if (!TryOctets(out var a) || a.Length != 4) return false; value = SnmpValue.IpAddress(a); break;
            case 65: if (!TryU32(out uint c)) return false; value = SnmpValue.Counter32(c); break;
            case 66: if (!TryU32(out uint g)) return false; value = SnmpValue.Gauge32(g); break;
            case 67: if (!TryU32(out uint t)) return false; value = SnmpValue.TimeTicks(t); break;
            case 68: if (!TryOctets(out var op)) return false; value = SnmpValue.Opaque(op); break;
            case 70: if (!TryU64(out ulong c64)) return false; value = SnmpValue.Counter64(c64); break;
            case 128: value = SnmpValue.NoSuchObject; break;
            case 129: value = SnmpValue.NoSuchInstance; break;
            case 130: value = SnmpValue.EndOfMibView; break;
            default: return false;
        }
        vb = new VarBind(name, value);
        return true;
    }
}

/// <summary>Builds AgentX PDUs in network byte order (we always set NETWORK_BYTE_ORDER).</summary>
public sealed class AgentXWriter
{
    private readonly List<byte> _b = new(256);

    public AgentXWriter U8(byte v) { _b.Add(v); return this; }
    public AgentXWriter U16(ushort v) { _b.Add((byte)(v >> 8)); _b.Add((byte)v); return this; }
    public AgentXWriter U32(uint v) { _b.Add((byte)(v >> 24)); _b.Add((byte)(v >> 16)); _b.Add((byte)(v >> 8)); _b.Add((byte)v); return this; }
    public AgentXWriter U64(ulong v) { U32((uint)(v >> 32)); return U32((uint)v); }

    public AgentXWriter Oid(ObjectIdentifier? oid, bool include = false)
    {
        if (oid is null) return U32(0);
        var arcs = oid.Arcs;
        byte prefix = 0;
        // §5.1: 1.3.6.1.p.… with 0 < p < 256 may be sent with the prefix compressed.
        if (arcs.Length >= 5 && arcs[0] == 1 && arcs[1] == 3 && arcs[2] == 6 && arcs[3] == 1 && arcs[4] is > 0 and < 256) { prefix = (byte)arcs[4]; arcs = arcs[5..]; }
        U8((byte)arcs.Length).U8(prefix).U8(include ? (byte)1 : (byte)0).U8(0);
        foreach (var a in arcs) U32(a);
        return this;
    }

    public AgentXWriter Octets(ReadOnlySpan<byte> data)
    {
        U32((uint)data.Length);
        foreach (var x in data) _b.Add(x);
        while (_b.Count % 4 != 0) _b.Add(0);
        return this;
    }

    public AgentXWriter VarBind(VarBind vb)
    {
        var v = vb.Value;
        ushort type = v.Type switch
        {
            SnmpType.Integer => 2, SnmpType.OctetString => 4, SnmpType.Null => 5, SnmpType.ObjectIdentifier => 6, SnmpType.IpAddress => 64,
            SnmpType.Counter32 => 65, SnmpType.Gauge32 => 66, SnmpType.TimeTicks => 67, SnmpType.Opaque => 68, SnmpType.Counter64 => 70,
            SnmpType.NoSuchObject => 128, SnmpType.NoSuchInstance => 129, _ => 130,
        };
        U16(type).U16(0).Oid(vb.Oid);
        switch (v.Type)
        {
            case SnmpType.Integer: U32(unchecked((uint)(int)v.Number)); break;
            case SnmpType.OctetString or SnmpType.IpAddress or SnmpType.Opaque: Octets(v.Bytes); break;
            case SnmpType.ObjectIdentifier: Oid(v.Oid); break;
            case SnmpType.Counter32 or SnmpType.Gauge32 or SnmpType.TimeTicks: U32((uint)v.Unsigned); break;
            case SnmpType.Counter64: U64(v.Unsigned); break;
        }
        return this;
    }

    /// <summary>Prepends the header (with NETWORK_BYTE_ORDER) and returns the PDU.</summary>
    public byte[] ToPdu(AgentXType type, uint session, uint transaction, uint packet, byte flags = 0)
    {
        var pdu = new byte[AgentXHeader.Length + _b.Count];
        pdu[0] = 1;
        pdu[1] = (byte)type;
        pdu[2] = (byte)(flags | AgentXHeader.NetworkByteOrder);
        BinaryPrimitives.WriteUInt32BigEndian(pdu.AsSpan(4), session);
        BinaryPrimitives.WriteUInt32BigEndian(pdu.AsSpan(8), transaction);
        BinaryPrimitives.WriteUInt32BigEndian(pdu.AsSpan(12), packet);
        BinaryPrimitives.WriteUInt32BigEndian(pdu.AsSpan(16), (uint)_b.Count);
        _b.CopyTo(pdu, AgentXHeader.Length);
        return pdu;
    }

    private static uint R(ReadOnlySpan<byte> h, int o, bool be) => be ? BinaryPrimitives.ReadUInt32BigEndian(h[o..]) : BinaryPrimitives.ReadUInt32LittleEndian(h[o..]);

    /// <summary>Reads a header; false when it is not an AgentX v1 header or claims an absurd payload (rejected before buffering).</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> h, out AgentXHeader header)
    {
        header = default;
        if (h.Length < AgentXHeader.Length || h[0] != 1 || h[1] is 0 or > 18) return false;
        bool be = (h[2] & AgentXHeader.NetworkByteOrder) != 0;
        uint len = R(h, 16, be);
        if (len > 1 << 20 || len % 4 != 0) return false;
        header = new AgentXHeader((AgentXType)h[1], h[2], R(h, 4, be), R(h, 8, be), R(h, 12, be), (int)len);
        return true;
    }
}
