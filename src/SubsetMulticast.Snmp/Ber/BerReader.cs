using System.Buffers.Binary;

namespace SubsetMulticast.Snmp.Ber;

/// <summary>
/// A forward-only BER reader over one span (X.690 definite-length form only, as RFC 3417 §8 requires of
/// SNMP). It never throws and never allocates: each Read… returns a <see cref="BerStatus"/> and leaves the
/// reader where it was on failure. <see cref="Offset"/> is absolute within the datagram, for error reports.
/// </summary>
public ref struct BerReader
{
    /// <summary>Element lengths beyond this are refused before anything is sliced: no UDP datagram is larger.</summary>
    public const int MaxLength = 65_535;

    private readonly ReadOnlySpan<byte> _data;
    private readonly int _base;
    private int _pos;

    public BerReader(ReadOnlySpan<byte> data, int baseOffset = 0)
    {
        _data = data;
        _base = baseOffset;
        _pos = 0;
    }

    public readonly int Offset => _base + _pos;
    public readonly bool IsEmpty => _pos >= _data.Length;
    public readonly int Remaining => _data.Length - _pos;

    /// <summary>The tag of the next element, without consuming it (0 when empty).</summary>
    public readonly byte PeekTag() => _pos < _data.Length ? _data[_pos] : (byte)0;

    /// <summary>
    /// Reads one element's header and content. Tags are single-octet (every SNMP tag is, RFC 3416 §3);
    /// the high-tag-number form (low five bits all set) is refused as <see cref="BerStatus.UnexpectedTag"/>.
    /// </summary>
    public BerStatus ReadElement(out byte tag, out ReadOnlySpan<byte> content, out int contentOffset)
    {
        tag = 0;
        content = default;
        contentOffset = Offset;
        int p = _pos;
        if (p >= _data.Length) return BerStatus.Truncated;
        byte t = _data[p++];
        if ((t & 0x1F) == 0x1F) return BerStatus.UnexpectedTag;
        if (p >= _data.Length) return BerStatus.Truncated;
        int first = _data[p++];
        int length;
        if (first < 0x80) length = first;
        else if (first == 0x80) return BerStatus.BadLength;           // indefinite form, X.690 §8.1.3.6
        else
        {
            int n = first & 0x7F;
            if (n > 3) return BerStatus.BadLength;                       // ≥ 16 MiB: no datagram holds it
            if (_data.Length - p < n) return BerStatus.Truncated;
            length = 0;
            for (int i = 0; i < n; i++) length = (length << 8) | _data[p++];
            if (length > MaxLength) return BerStatus.BadLength;
        }
        if (_data.Length - p < length) return BerStatus.Truncated;
        tag = t;
        contentOffset = _base + p;
        content = _data.Slice(p, length);
        _pos = p + length;
        return BerStatus.Ok;
    }

    /// <summary>Reads an element that must carry <paramref name="expectedTag"/>.</summary>
    public BerStatus Read(byte expectedTag, out ReadOnlySpan<byte> content, out int contentOffset)
    {
        int save = _pos;
        var s = ReadElement(out byte tag, out content, out contentOffset);
        if (s != BerStatus.Ok) return s;
        if (tag != expectedTag) { _pos = save; content = default; return BerStatus.UnexpectedTag; }
        return BerStatus.Ok;
    }

    /// <summary>Enters a constructed element: the returned reader covers exactly its content.</summary>
    public BerStatus ReadSequence(byte expectedTag, out BerReader inner)
    {
        inner = default;
        var s = Read(expectedTag, out var content, out int offset);
        if (s != BerStatus.Ok) return s;
        inner = new BerReader(content, offset);
        return BerStatus.Ok;
    }

    /// <summary>A signed INTEGER of at most 8 content octets (X.690 §8.3; non-minimal forms are accepted, as BER allows).</summary>
    public BerStatus ReadInt64(byte expectedTag, out long value)
    {
        value = 0;
        int save = _pos;
        var s = Read(expectedTag, out var c, out _);
        if (s != BerStatus.Ok) return s;
        if (!TryDecodeSigned(c, out value)) { _pos = save; return BerStatus.IntegerOverflow; }
        return BerStatus.Ok;
    }

    /// <summary>An INTEGER that must fit Integer32 (RFC 2578 §7.1.1).</summary>
    public BerStatus ReadInt32(byte expectedTag, out int value)
    {
        value = 0;
        int save = _pos;
        var s = ReadInt64(expectedTag, out long v);
        if (s != BerStatus.Ok) return s;
        if (v is < int.MinValue or > int.MaxValue) { _pos = save; return BerStatus.IntegerOverflow; }
        value = (int)v;
        return BerStatus.Ok;
    }

    /// <summary>An unsigned application integer (Counter32, Gauge32, TimeTicks, Counter64): a leading 00 octet is allowed for values with the top bit set.</summary>
    public BerStatus ReadUnsigned(byte expectedTag, int maxBits, out ulong value)
    {
        value = 0;
        int save = _pos;
        var s = Read(expectedTag, out var c, out _);
        if (s != BerStatus.Ok) return s;
        if (!TryDecodeUnsigned(c, maxBits, out value)) { _pos = save; return BerStatus.IntegerOverflow; }
        return BerStatus.Ok;
    }

    public static bool TryDecodeSigned(ReadOnlySpan<byte> c, out long value)
    {
        value = 0;
        if (c.Length == 0) return false;
        // Strip redundant sign octets so a long (but non-minimal) encoding of a small value still fits.
        while (c.Length > 1 && ((c[0] == 0 && c[1] < 0x80) || (c[0] == 0xFF && c[1] >= 0x80))) c = c[1..];
        if (c.Length > 8) return false;
        long v = (sbyte)c[0];
        for (int i = 1; i < c.Length; i++) v = (v << 8) | c[i];
        value = v;
        return true;
    }

    public static bool TryDecodeUnsigned(ReadOnlySpan<byte> c, int maxBits, out ulong value)
    {
        value = 0;
        // A negative encoding of an unsigned type is refused (net-snmp would read the two's complement bits).
        if (c.Length == 0 || c[0] >= 0x80) return false;
        while (c.Length > 1 && c[0] == 0) c = c[1..];
        if (c.Length > 8) return false;
        ulong v = 0;
        foreach (byte b in c) v = (v << 8) | b;
        if (maxBits < 64 && v >> maxBits != 0) return false;
        value = v;
        return true;
    }

    /// <summary>Reads an OBJECT IDENTIFIER (X.690 §8.19) into <paramref name="arcs"/>; false when malformed.</summary>
    public static bool TryDecodeOid(ReadOnlySpan<byte> c, Span<uint> arcs, out int count)
    {
        count = 0;
        if (c.Length == 0) return false;
        ulong v = 0;
        int bytesInArc = 0;
        bool first = true;
        foreach (byte b in c)
        {
            if (bytesInArc == 0 && b == 0x80) return false;               // X.690 §8.19.2: no leading 0x80
            v = (v << 7) | (uint)(b & 0x7F);
            if (v > uint.MaxValue + 80UL) return false;
            bytesInArc++;
            if ((b & 0x80) != 0) continue;
            if (first)
            {
                // The first subidentifier packs two arcs: X*40 + Y (X.690 §8.19.4).
                if (arcs.Length < 2) return false;
                uint x = v < 40 ? 0u : v < 80 ? 1u : 2u;
                ulong y = v - x * 40UL;
                if (y > uint.MaxValue) return false;
                arcs[0] = x;
                arcs[1] = (uint)y;
                count = 2;
                first = false;
            }
            else
            {
                if (v > uint.MaxValue || count >= arcs.Length) return false;
                arcs[count++] = (uint)v;
            }
            v = 0;
            bytesInArc = 0;
        }
        return bytesInArc == 0;
    }

    /// <summary>Reads 4 octets of an IpAddress (RFC 2578 §7.1.5).</summary>
    public static bool TryDecodeIpAddress(ReadOnlySpan<byte> c, out uint address)
    {
        address = 0;
        if (c.Length != 4) return false;
        address = BinaryPrimitives.ReadUInt32BigEndian(c);
        return true;
    }
}
