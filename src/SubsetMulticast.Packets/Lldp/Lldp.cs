using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Packets.Lldp;

/// <summary>
/// The LLDP frames this controller sends on every switch port to find inter-switch links (IEEE 802.1AB):
/// Ethernet to 01:80:c2:00:00:0e, EtherType 0x88cc, TLVs <c>type(7) | length(9) | value</c>:
/// Chassis ID (1, subtype 7 "locally assigned" = "dpid:" + 16 hex digits), Port ID (2, subtype 7 = decimal
/// port number), TTL (3), End (0).
/// </summary>
public static class Lldp
{
    public const ushort EtherType = 0x88CC;
    public static readonly MacAddress NearestBridge = MacAddress.Parse("01:80:c2:00:00:0e");
    private const byte SubtypeLocal = 7;

    public static byte[] Build(ulong datapathId, uint port, MacAddress source, ushort ttlSeconds = 120)
    {
        var chassis = Encoding.ASCII.GetBytes("dpid:" + datapathId.ToString("x16", CultureInfo.InvariantCulture));
        var portId = Encoding.ASCII.GetBytes(port.ToString(CultureInfo.InvariantCulture));
        int len = 14 + (2 + 1 + chassis.Length) + (2 + 1 + portId.Length) + (2 + 2) + 2;
        var frame = new byte[Math.Max(len, 60)];
        NearestBridge.WriteTo(frame);
        source.WriteTo(frame.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), EtherType);
        int at = 14;
        at = Tlv(frame, at, 1, [SubtypeLocal, .. chassis]);
        at = Tlv(frame, at, 2, [SubtypeLocal, .. portId]);
        Span<byte> ttl = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(ttl, ttlSeconds);
        at = Tlv(frame, at, 3, ttl);
        Tlv(frame, at, 0, []);
        return frame;
    }

    private static int Tlv(byte[] frame, int at, int type, ReadOnlySpan<byte> value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(at), (ushort)((type << 9) | value.Length));
        value.CopyTo(frame.AsSpan(at + 2));
        return at + 2 + value.Length;
    }

    /// <summary>Reads a frame built by <see cref="Build"/>; false for any other or malformed frame.</summary>
    public static bool TryParse(ReadOnlySpan<byte> frame, out ulong datapathId, out uint port)
    {
        datapathId = 0; port = 0;
        if (frame.Length < 14 || BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) != EtherType) return false;
        bool haveChassis = false, havePort = false;
        var tlvs = frame[14..];
        for (int guard = 0; guard < 64 && tlvs.Length >= 2; guard++)
        {
            ushort h = BinaryPrimitives.ReadUInt16BigEndian(tlvs);
            int type = h >> 9, len = h & 0x1FF;
            if (type == 0 || len > tlvs.Length - 2) break;
            var v = tlvs.Slice(2, len);
            if (type == 1 && len > 1 && v[0] == SubtypeLocal)
            {
                var text = Encoding.ASCII.GetString(v[1..]);
                haveChassis = text.StartsWith("dpid:", StringComparison.Ordinal) &&
                    ulong.TryParse(text.AsSpan(5), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out datapathId);
            }
            else if (type == 2 && len > 1 && v[0] == SubtypeLocal)
                havePort = uint.TryParse(Encoding.ASCII.GetString(v[1..]), NumberStyles.None, CultureInfo.InvariantCulture, out port);
            tlvs = tlvs[(2 + len)..];
        }
        return haveChassis && havePort;
    }
}
