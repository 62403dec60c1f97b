using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace SubsetMulticast.Snmp.Messages;

/// <summary>The BER tag of each value type SNMP carries (RFC 2578 §7.1, RFC 3416 §3).</summary>
public enum SnmpType : byte
{
    Integer = 0x02,
    OctetString = 0x04,
    Null = 0x05,
    ObjectIdentifier = 0x06,
    IpAddress = 0x40,
    Counter32 = 0x41,
    Gauge32 = 0x42,
    TimeTicks = 0x43,
    Opaque = 0x44,
    Counter64 = 0x46,
    NoSuchObject = 0x80,
    NoSuchInstance = 0x81,
    EndOfMibView = 0x82,
}

/// <summary>One varbind value. Integers live in <see cref="Number"/>; strings, IpAddress and Opaque in <see cref="Bytes"/>.</summary>
public readonly struct SnmpValue : IEquatable<SnmpValue>
{
    private SnmpValue(SnmpType type, long number, byte[]? bytes, ObjectIdentifier? oid)
    {
        Type = type;
        Number = number;
        _bytes = bytes;
        Oid = oid;
    }

    private readonly byte[]? _bytes;

    public SnmpType Type { get; }
    /// <summary>INTEGER (signed) or an unsigned type's value (Counter64 reinterpreted as long).</summary>
    public long Number { get; }
    public ReadOnlySpan<byte> Bytes => _bytes;
    public ObjectIdentifier? Oid { get; }

    public ulong Unsigned => unchecked((ulong)Number);
    public bool IsException => Type is SnmpType.NoSuchObject or SnmpType.NoSuchInstance or SnmpType.EndOfMibView;

    public static readonly SnmpValue Null = new(SnmpType.Null, 0, null, null);
    public static readonly SnmpValue NoSuchObject = new(SnmpType.NoSuchObject, 0, null, null);
    public static readonly SnmpValue NoSuchInstance = new(SnmpType.NoSuchInstance, 0, null, null);
    public static readonly SnmpValue EndOfMibView = new(SnmpType.EndOfMibView, 0, null, null);

    public static SnmpValue Integer(long value) =>
        value is < int.MinValue or > int.MaxValue ? throw new ArgumentOutOfRangeException(nameof(value), "Integer32 range.") : new(SnmpType.Integer, value, null, null);
    public static SnmpValue OctetString(ReadOnlySpan<byte> value) => new(SnmpType.OctetString, 0, value.ToArray(), null);
    public static SnmpValue OctetString(string value) => new(SnmpType.OctetString, 0, Encoding.UTF8.GetBytes(value), null);
    public static SnmpValue Object(ObjectIdentifier value) => new(SnmpType.ObjectIdentifier, 0, null, value);
    public static SnmpValue IpAddress(ReadOnlySpan<byte> four) =>
        four.Length != 4 ? throw new ArgumentException("An IpAddress has 4 octets.", nameof(four)) : new(SnmpType.IpAddress, 0, four.ToArray(), null);
    public static SnmpValue Counter32(uint value) => new(SnmpType.Counter32, value, null, null);
    public static SnmpValue Gauge32(uint value) => new(SnmpType.Gauge32, value, null, null);
    public static SnmpValue TimeTicks(uint value) => new(SnmpType.TimeTicks, value, null, null);
    public static SnmpValue Counter64(ulong value) => new(SnmpType.Counter64, unchecked((long)value), null, null);
    public static SnmpValue Opaque(ReadOnlySpan<byte> value) => new(SnmpType.Opaque, 0, value.ToArray(), null);

    internal static SnmpValue Raw(SnmpType type, long number, byte[]? bytes, ObjectIdentifier? oid) => new(type, number, bytes, oid);

    public bool Equals(SnmpValue other) =>
        Type == other.Type && Number == other.Number && Bytes.SequenceEqual(other.Bytes) && Oid == other.Oid;
    public override bool Equals(object? obj) => obj is SnmpValue v && Equals(v);
    public override int GetHashCode() => HashCode.Combine(Type, Number, _bytes?.Length ?? 0, Oid);
    public static bool operator ==(SnmpValue a, SnmpValue b) => a.Equals(b);
    public static bool operator !=(SnmpValue a, SnmpValue b) => !a.Equals(b);

    /// <summary>
    /// The value as net-snmp's tools print it with <c>-On</c> and no MIBs loaded (snmpget's right-hand side):
    /// <c>STRING: "x"</c>, <c>Hex-STRING: 01 02 </c>, <c>INTEGER: 5</c>, <c>OID: .1.3…</c>,
    /// <c>Timeticks: (123) 0:00:01.23</c>, and so on (net-snmp snmplib/mib.c sprint_realloc_*).
    /// </summary>
    public string ToNetSnmpString()
    {
        var ci = CultureInfo.InvariantCulture;
        switch (Type)
        {
            case SnmpType.Integer: return "INTEGER: " + Number.ToString(ci);
            case SnmpType.OctetString:
                if (Bytes.Length == 0) return "\"\"";
                return IsPrintable(Bytes) ? "STRING: \"" + Encoding.ASCII.GetString(Bytes) + "\"" : "Hex-STRING: " + Hex(Bytes);
            case SnmpType.Null: return "NULL";
            case SnmpType.ObjectIdentifier: return "OID: ." + Oid;
            case SnmpType.IpAddress: return "IpAddress: " + string.Join('.', Bytes.ToArray());
            case SnmpType.Counter32: return "Counter32: " + Unsigned.ToString(ci);
            case SnmpType.Gauge32: return "Gauge32: " + Unsigned.ToString(ci);
            case SnmpType.TimeTicks:
                {
                    ulong t = Unsigned;
                    ulong days = t / 8_640_000, rest = t % 8_640_000;
                    string clock = string.Create(ci, $"{rest / 360_000}:{rest / 6000 % 60:D2}:{rest / 100 % 60:D2}.{rest % 100:D2}");
                    string d = days == 0 ? "" : days == 1 ? "1 day, " : $"{days} days, ";
                    return $"Timeticks: ({t.ToString(ci)}) {d}{clock}";
                }
            case SnmpType.Opaque: return "OPAQUE: " + Hex(Bytes);
            case SnmpType.Counter64: return "Counter64: " + Unsigned.ToString(ci);
            case SnmpType.NoSuchObject: return "No Such Object available on this agent at this OID";
            case SnmpType.NoSuchInstance: return "No Such Instance currently exists at this OID";
            case SnmpType.EndOfMibView: return "No more variables left in this MIB View (It is past the end of the MIB tree)";
            default: return "?";
        }
    }

    public override string ToString() => ToNetSnmpString();

    // net-snmp prints a string as STRING when every octet is printable or whitespace (isprint || isspace),
    // allowing a trailing NUL; otherwise Hex-STRING.
    private static bool IsPrintable(ReadOnlySpan<byte> b)
    {
        for (int i = 0; i < b.Length; i++)
        {
            byte c = b[i];
            if (c == 0 && i == b.Length - 1) continue;
            if (!(c is >= 0x20 and < 0x7F || c is (byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0B or 0x0C)) return false;
        }
        return true;
    }

    private static string Hex(ReadOnlySpan<byte> b)
    {
        var sb = new StringBuilder(b.Length * 3);
        for (int i = 0; i < b.Length; i++)
        {
            sb.Append(b[i].ToString("X2", CultureInfo.InvariantCulture)).Append(' ');
        }
        return sb.ToString();
    }

    public uint ReadIpAddress() => BinaryPrimitives.ReadUInt32BigEndian(Bytes);
}

/// <summary>One (name, value) pair of a PDU's variable-bindings.</summary>
public sealed record VarBind(ObjectIdentifier Oid, SnmpValue Value)
{
    public VarBind(ObjectIdentifier oid) : this(oid, SnmpValue.Null) { }
    public override string ToString() => $".{Oid} = {Value.ToNetSnmpString()}";
}
