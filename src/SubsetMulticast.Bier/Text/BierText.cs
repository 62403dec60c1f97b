using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Bier.Encapsulation;

namespace SubsetMulticast.Bier.Text;

/// <summary>
/// What <c>tsm bier encode</c> and <c>tsm bier decode</c> print, as text or JSON. The command only parses its
/// arguments and writes these strings out.
/// </summary>
public static class BierText
{
    /// <summary>Parses "27,235,497" into BFR-ids; a bad or out-of-range id is a <see cref="FormatException"/> naming it.</summary>
    public static int[] ParseIds(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new FormatException("--ids names no BFR-id.");
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out ids[i]) || !BfrIds.IsValid(ids[i]))
                throw new FormatException($"'{parts[i]}' is not a BFR-id (1..65535).");
        return ids;
    }

    public static bool TryParseBsl(int bits, out BitStringLength bsl) => BitStringLengths.TryFromBits(bits, out bsl);

    /// <summary><c>{"bsl":256,"sets":[{"si":0,"bits":[27,235],"hex":".."},…]}</c>: bits are positions within each set.</summary>
    public static string EncodeJson(BitStringLength bsl, IReadOnlyList<SetBitString> sets)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("bsl", bsl.Bits());
            w.WriteStartArray("sets");
            foreach (var s in sets)
            {
                w.WriteStartObject();
                w.WriteNumber("si", s.Si);
                w.WriteStartArray("bits");
                foreach (var b in s.Bits.SetBits()) w.WriteNumberValue(b);
                w.WriteEndArray();
                w.WriteString("hex", s.Bits.ToHex());
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static string EncodeText(BitStringLength bsl, IReadOnlyList<SetBitString> sets)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"BSL {bsl.Bits()}\n");
        foreach (var s in sets)
            sb.Append(CultureInfo.InvariantCulture, $"SI {s.Si}: bits {string.Join(",", s.Bits.SetBits())}\n  {s.Bits.ToHex()}\n");
        return sb.ToString();
    }

    /// <summary>Decodes an RFC 8296 header (with its BitString, and whatever payload follows); malformed input throws <see cref="BierFormatException"/>.</summary>
    public static string DecodeJson(ReadOnlySpan<byte> packet)
    {
        var h = BierHeader.ReadOrThrow(packet);
        var f = h.Fields;
        var bits = BitString.FromWire(h.BitString);
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("biftId", f.BiftId);
            w.WriteNumber("tc", f.TrafficClass);
            w.WriteBoolean("s", f.BottomOfStack);
            w.WriteNumber("ttl", f.Ttl);
            w.WriteNumber("nibble", f.Nibble);
            w.WriteNumber("version", f.Version);
            w.WriteNumber("bsl", f.Bsl.Bits());
            w.WriteNumber("entropy", f.Entropy);
            w.WriteNumber("oam", f.Oam);
            w.WriteNumber("rsv", f.Reserved);
            w.WriteNumber("dscp", f.Dscp);
            w.WriteNumber("proto", (int)f.NextProtocol);
            w.WriteString("protoName", ProtoName(f.NextProtocol));
            w.WriteNumber("bfirId", f.BfirId);
            w.WriteStartArray("bits");
            foreach (var b in bits.SetBits()) w.WriteNumberValue(b);
            w.WriteEndArray();
            w.WriteString("hex", bits.ToHex());
            w.WriteNumber("headerLength", h.Length);
            w.WriteNumber("payloadLength", h.Payload.Length);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static string DecodeText(ReadOnlySpan<byte> packet)
    {
        var h = BierHeader.ReadOrThrow(packet);
        var f = h.Fields;
        var bits = BitString.FromWire(h.BitString);
        return string.Create(CultureInfo.InvariantCulture,
            $"""
            BIFT-id 0x{f.BiftId:x5}  TC {f.TrafficClass}  S {(f.BottomOfStack ? 1 : 0)}  TTL {f.Ttl}
            nibble {f.Nibble}  version {f.Version}  BSL {f.Bsl.Bits()}  entropy 0x{f.Entropy:x5}
            OAM {f.Oam}  rsv {f.Reserved}  DSCP {f.Dscp}  proto {(int)f.NextProtocol} ({ProtoName(f.NextProtocol)})  BFIR-id {f.BfirId}
            bits {string.Join(",", bits.SetBits())}
            header {h.Length} bytes, payload {h.Payload.Length} bytes

            """);
    }

    /// <summary>Hex with optional spaces or colons; a bad digit is a <see cref="FormatException"/> naming its offset.</summary>
    public static byte[] ParseHex(string text)
    {
        var clean = new StringBuilder(text.Length);
        foreach (var c in text) if (!char.IsWhiteSpace(c) && c != ':') clean.Append(c);
        if (clean.Length % 2 != 0) throw new FormatException("The hex has an odd number of digits.");
        for (int i = 0; i < clean.Length; i++)
            if (!char.IsAsciiHexDigit(clean[i])) throw new FormatException($"'{clean[i]}' at digit {i} is not a hex digit.");
        return Convert.FromHexString(clean.ToString());
    }

    private static string ProtoName(BierNextProtocol p) => p switch
    {
        BierNextProtocol.MplsDownstream => "MPLS (downstream-assigned)",
        BierNextProtocol.MplsUpstream => "MPLS (upstream-assigned)",
        BierNextProtocol.Ethernet => "Ethernet",
        BierNextProtocol.Ipv4 => "IPv4",
        BierNextProtocol.Oam => "OAM",
        BierNextProtocol.Ipv6 => "IPv6",
        BierNextProtocol.Vxlan => "VXLAN",
        BierNextProtocol.Nvgre => "NVGRE",
        BierNextProtocol.Geneve => "GENEVE",
        _ => "unassigned",
    };
}
