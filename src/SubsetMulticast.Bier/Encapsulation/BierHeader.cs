using System.Buffers.Binary;
using SubsetMulticast.Bier.BitStrings;

namespace SubsetMulticast.Bier.Encapsulation;

/// <summary>RFC 8296 §2.1.2 Proto, with the later IANA registry entries (OAM from draft-ietf-bier-ping, 7–9 from RFC 9624).</summary>
public enum BierNextProtocol : byte
{
    MplsDownstream = 1, MplsUpstream = 2, Ethernet = 3, Ipv4 = 4, Oam = 5, Ipv6 = 6, Vxlan = 7, Nvgre = 8, Geneve = 9,
}

/// <summary>Why a header could not be read. Only <see cref="Truncated"/> means "more bytes might make it whole".</summary>
public enum BierHeaderStatus : byte
{
    Ok,
    Truncated,
    /// <summary>First nibble not 0101 (RFC 8296 §2.1.2: it keeps an MPLS LSR from taking the packet for IP).</summary>
    BadNibble,
    /// <summary>Ver ≠ 0; "a packet with an unsupported version MUST be discarded" (§2.1.2).</summary>
    UnknownVersion,
    /// <summary>BSL code 0 or 8..15: reserved.</summary>
    ReservedBsl,
}

/// <summary>The fixed fields of an RFC 8296 header (everything but the BitString).</summary>
public readonly record struct BierHeaderFields(
    uint BiftId, byte TrafficClass, bool BottomOfStack, byte Ttl,
    byte Nibble, byte Version, BitStringLength Bsl, uint Entropy,
    byte Oam, byte Reserved, byte Dscp, BierNextProtocol NextProtocol, ushort BfirId)
{
    public const byte BierNibble = 0b0101;

    /// <summary>A header for a fresh packet: nibble 0101, version 0, S = 1 (no MPLS label below the BIER label).</summary>
    public static BierHeaderFields Create(uint biftId, BitStringLength bsl, byte ttl, BierNextProtocol proto, ushort bfirId, uint entropy = 0) =>
        new(biftId, 0, true, ttl, BierNibble, 0, bsl, entropy, 0, 0, 0, proto, bfirId);
}

/// <summary>
/// A view of one RFC 8296 header over the packet's bytes: nothing is copied; the BitString and the payload
/// are slices of the source.
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |              BIFT-id                  | TC  |S|     TTL       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Nibble |  Ver  |  BSL  |              Entropy                  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |OAM|Rsv|    DSCP   |   Proto   |            BFIR-id            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                BitString  (first 32 bits)                     ~
/// </code>
/// </summary>
public readonly ref struct BierHeader
{
    public const int FixedLength = 12;
    public const int TtlOffset = 3, NibbleOffset = 4, BslOffset = 5, BitStringOffset = 12;

    private BierHeader(BierHeaderFields fields, ReadOnlySpan<byte> bitString, ReadOnlySpan<byte> payload)
    {
        Fields = fields;
        BitString = bitString;
        Payload = payload;
    }

    public BierHeaderFields Fields { get; }
    /// <summary>The wire BitString (big-endian, BSL/8 bytes).</summary>
    public ReadOnlySpan<byte> BitString { get; }
    public ReadOnlySpan<byte> Payload { get; }
    public int Length => FixedLength + BitString.Length;

    public static int LengthFor(BitStringLength bsl) => FixedLength + bsl.Bytes();

    /// <summary>
    /// Reads one header. Never throws: a short buffer is <see cref="BierHeaderStatus.Truncated"/>, anything the
    /// RFC tells a BFR to discard is its own status; <paramref name="header"/> is default unless Ok.
    /// </summary>
    public static BierHeaderStatus Read(ReadOnlySpan<byte> source, out BierHeader header)
    {
        header = default;
        if (source.Length < FixedLength) return BierHeaderStatus.Truncated;
        uint w0 = BinaryPrimitives.ReadUInt32BigEndian(source);
        uint w1 = BinaryPrimitives.ReadUInt32BigEndian(source[4..]);
        uint w2 = BinaryPrimitives.ReadUInt32BigEndian(source[8..]);
        byte nibble = (byte)(w1 >> 28), version = (byte)((w1 >> 24) & 0xF), bslCode = (byte)((w1 >> 20) & 0xF);
        // Checked in wire order, so the status names the first bad field.
        if (nibble != BierHeaderFields.BierNibble) return BierHeaderStatus.BadNibble;
        if (version != 0) return BierHeaderStatus.UnknownVersion;
        if (!BitStringLengths.IsDefined(bslCode)) return BierHeaderStatus.ReservedBsl;
        var bsl = (BitStringLength)bslCode;
        int length = LengthFor(bsl);
        if (source.Length < length) return BierHeaderStatus.Truncated;
        var fields = new BierHeaderFields(
            BiftId: w0 >> 12, TrafficClass: (byte)((w0 >> 9) & 7), BottomOfStack: ((w0 >> 8) & 1) != 0, Ttl: (byte)w0,
            Nibble: nibble, Version: version, Bsl: bsl, Entropy: w1 & 0xFFFFF,
            Oam: (byte)(w2 >> 30), Reserved: (byte)((w2 >> 28) & 3), Dscp: (byte)((w2 >> 22) & 0x3F),
            NextProtocol: (BierNextProtocol)((w2 >> 16) & 0x3F), BfirId: (ushort)w2);
        header = new BierHeader(fields, source[FixedLength..length], source[length..]);
        return BierHeaderStatus.Ok;
    }

    /// <summary>The edge's form of <see cref="Read"/>: any status but Ok becomes a <see cref="BierFormatException"/> with the offset.</summary>
    public static BierHeader ReadOrThrow(ReadOnlySpan<byte> source)
    {
        var status = Read(source, out var header);
        if (status == BierHeaderStatus.Ok) return header;
        int offset = status switch
        {
            BierHeaderStatus.BadNibble or BierHeaderStatus.UnknownVersion => NibbleOffset,
            BierHeaderStatus.ReservedBsl => BslOffset,
            _ => source.Length,
        };
        throw new BierFormatException(status, offset);
    }

    /// <summary>
    /// Writes a header with <paramref name="bitString"/> (wire bytes, exactly BSL/8 of them). False only when
    /// <paramref name="destination"/> is too small; then nothing is written. Field values out of range are
    /// the caller's mistake and throw.
    /// </summary>
    public static bool TryWrite(Span<byte> destination, in BierHeaderFields fields, ReadOnlySpan<byte> bitString, out int written)
    {
        Validate(fields, bitString.Length);
        int length = LengthFor(fields.Bsl);
        if (destination.Length < length) { written = 0; return false; }
        WriteFixed(destination, fields);
        bitString.CopyTo(destination[FixedLength..]);
        written = length;
        return true;
    }

    /// <summary>As <see cref="TryWrite(Span{byte}, in BierHeaderFields, ReadOnlySpan{byte}, out int)"/> from in-memory words (no intermediate copy).</summary>
    public static bool TryWrite(Span<byte> destination, in BierHeaderFields fields, ReadOnlySpan<ulong> bitString, out int written)
    {
        Validate(fields, bitString.Length * 8);
        int length = LengthFor(fields.Bsl);
        if (destination.Length < length) { written = 0; return false; }
        WriteFixed(destination, fields);
        BitSpan.WriteWire(bitString, destination[FixedLength..length]);
        written = length;
        return true;
    }

    /// <summary>Rewrites the TTL of a header in place (each BFR decrements it on the copies it sends).</summary>
    public static void SetTtl(Span<byte> header, byte ttl) => header[TtlOffset] = ttl;

    private static void WriteFixed(Span<byte> d, in BierHeaderFields f)
    {
        BinaryPrimitives.WriteUInt32BigEndian(d, (f.BiftId << 12) | ((uint)f.TrafficClass << 9) | (f.BottomOfStack ? 1u << 8 : 0) | f.Ttl);
        BinaryPrimitives.WriteUInt32BigEndian(d[4..], ((uint)f.Nibble << 28) | ((uint)f.Version << 24) | ((uint)f.Bsl << 20) | f.Entropy);
        BinaryPrimitives.WriteUInt32BigEndian(d[8..], ((uint)f.Oam << 30) | ((uint)f.Reserved << 28) | ((uint)f.Dscp << 22) | ((uint)f.NextProtocol << 16) | f.BfirId);
    }

    private static void Validate(in BierHeaderFields f, int bitStringBytes)
    {
        if (f.BiftId > 0xFFFFF) throw new ArgumentOutOfRangeException(nameof(f), "BIFT-id is 20 bits.");
        if (f.TrafficClass > 7 || f.Nibble > 15 || f.Version > 15 || f.Oam > 3 || f.Reserved > 3 || f.Dscp > 63 || (byte)f.NextProtocol > 63 || f.Entropy > 0xFFFFF)
            throw new ArgumentOutOfRangeException(nameof(f), "A field is wider than RFC 8296 allows.");
        if (!BitStringLengths.IsDefined((int)f.Bsl)) throw new ArgumentOutOfRangeException(nameof(f), "BSL is not a standard length.");
        if (bitStringBytes != f.Bsl.Bytes()) throw new ArgumentException($"BitString of {bitStringBytes} bytes for BSL {f.Bsl.Bits()}.", nameof(f));
    }
}

/// <summary>The one exception type of this codec, thrown only at the edge (CLI, API), with the offending offset.</summary>
public sealed class BierFormatException(BierHeaderStatus status, int offset)
    : FormatException($"BIER header: {status} at offset {offset}.")
{
    public BierHeaderStatus Status { get; } = status;
    public int Offset { get; } = offset;
}
