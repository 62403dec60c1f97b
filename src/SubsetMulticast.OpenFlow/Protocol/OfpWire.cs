using System.Buffers.Binary;

namespace SubsetMulticast.OpenFlow.Protocol;

/// <summary>
/// The fixed OpenFlow header (spec §7.1):
/// <code>
///  0        1        2                 4                                 8
/// +--------+--------+--------+--------+--------+--------+--------+--------+
/// |version |  type  |     length      |               xid                 |
/// +--------+--------+--------+--------+--------+--------+--------+--------+
/// </code>
/// length counts the header and the body.
/// </summary>
public readonly record struct OfpHeader(byte Version, OfpType Type, ushort Length, uint Xid)
{
    private const int VersionOffset = 0, TypeOffset = 1, LengthOffset = 2, XidOffset = 4;

    /// <summary>False only when fewer than 8 bytes are given. Does not judge the length field.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out OfpHeader header)
    {
        if (source.Length < Ofp.HeaderLength) { header = default; return false; }
        header = new OfpHeader(source[VersionOffset], (OfpType)source[TypeOffset],
            BinaryPrimitives.ReadUInt16BigEndian(source[LengthOffset..]), BinaryPrimitives.ReadUInt32BigEndian(source[XidOffset..]));
        return true;
    }

    /// <summary>Reads and validates the header: length at least 8 (spec: "length including this ofp_header").</summary>
    public static OfpHeader Read(ReadOnlySpan<byte> source)
    {
        if (!TryRead(source, out var h)) throw new OpenFlowFormatException("truncated OpenFlow header", source.Length);
        if (h.Length < Ofp.HeaderLength) throw new OpenFlowFormatException($"header length {h.Length} is less than 8", LengthOffset);
        return h;
    }

    public void WriteTo(Span<byte> destination)
    {
        destination[VersionOffset] = Version;
        destination[TypeOffset] = (byte)Type;
        BinaryPrimitives.WriteUInt16BigEndian(destination[LengthOffset..], Length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[XidOffset..], Xid);
    }
}

/// <summary>
/// A forward-only reader over one span that slices itself as it reads. Every failure is an
/// <see cref="OpenFlowFormatException"/> carrying the absolute offset (<see cref="Base"/> + position).
/// </summary>
public ref struct SpanReader
{
    private readonly ReadOnlySpan<byte> _span;
    private int _pos;

    public SpanReader(ReadOnlySpan<byte> span, int baseOffset = 0) { _span = span; Base = baseOffset; _pos = 0; }

    public readonly int Base { get; }
    public readonly int Position => _pos;
    public readonly int Offset => Base + _pos;
    public readonly int Remaining => _span.Length - _pos;
    public readonly ReadOnlySpan<byte> Rest => _span[_pos..];

    private readonly void Need(int n, string what)
    {
        if (Remaining < n) throw new OpenFlowFormatException($"truncated {what}: need {n} bytes, have {Remaining}", Offset);
    }

    public byte U8(string what = "field") { Need(1, what); return _span[_pos++]; }
    public ushort U16(string what = "field") { Need(2, what); var v = BinaryPrimitives.ReadUInt16BigEndian(_span[_pos..]); _pos += 2; return v; }
    public uint U32(string what = "field") { Need(4, what); var v = BinaryPrimitives.ReadUInt32BigEndian(_span[_pos..]); _pos += 4; return v; }
    public ulong U64(string what = "field") { Need(8, what); var v = BinaryPrimitives.ReadUInt64BigEndian(_span[_pos..]); _pos += 8; return v; }
    public ReadOnlySpan<byte> Bytes(int n, string what = "field") { Need(n, what); var s = _span.Slice(_pos, n); _pos += n; return s; }
    public void Skip(int n, string what = "padding") { Need(n, what); _pos += n; }
}

/// <summary>A span writer with a position; callers measure first, so running out of room is a caller bug.</summary>
public ref struct SpanWriter
{
    private readonly Span<byte> _span;
    private int _pos;

    public SpanWriter(Span<byte> span) { _span = span; _pos = 0; }

    public readonly int Position => _pos;
    public readonly Span<byte> Written => _span[.._pos];

    public void U8(byte v) => _span[_pos++] = v;
    public void U16(ushort v) { BinaryPrimitives.WriteUInt16BigEndian(_span[_pos..], v); _pos += 2; }
    public void U32(uint v) { BinaryPrimitives.WriteUInt32BigEndian(_span[_pos..], v); _pos += 4; }
    public void U64(ulong v) { BinaryPrimitives.WriteUInt64BigEndian(_span[_pos..], v); _pos += 8; }
    public void Bytes(scoped ReadOnlySpan<byte> v) { v.CopyTo(_span[_pos..]); _pos += v.Length; }
    public void Zero(int n) { _span.Slice(_pos, n).Clear(); _pos += n; }

    /// <summary>The next <paramref name="n"/> bytes, for a nested encoder; <see cref="Advance"/> past what it wrote.</summary>
    public readonly Span<byte> Next(int n) => _span.Slice(_pos, n);
    public void Advance(int n) => _pos += n;

    /// <summary>Back-fills a 16-bit length at <paramref name="at"/>.</summary>
    public readonly void PatchU16(int at, ushort v) => BinaryPrimitives.WriteUInt16BigEndian(_span[at..], v);

    public static int Pad8(int n) => (n + 7) & ~7;
}

/// <summary>
/// Enumerates a run of length-prefixed structures (actions, instructions, buckets, hello elements,
/// flow-stats and group-desc entries): each element holds its own length as a u16 at
/// <c>lengthOffset</c>; the element must be at least <c>minLength</c>, a multiple of
/// <c>alignment</c>, and fit in what remains. Allocation-free.
/// </summary>
public ref struct TlvEnumerator
{
    private readonly ReadOnlySpan<byte> _span;
    private readonly int _base, _lengthOffset, _minLength, _alignment;
    private readonly string _what;
    private int _pos;

    public TlvEnumerator(ReadOnlySpan<byte> span, int baseOffset, int lengthOffset, int minLength, int alignment, string what)
    {
        _span = span; _base = baseOffset; _lengthOffset = lengthOffset; _minLength = minLength; _alignment = alignment; _what = what;
        _pos = 0; Current = default; CurrentOffset = 0;
    }

    public ReadOnlySpan<byte> Current { get; private set; }

    /// <summary>Absolute offset of <see cref="Current"/>.</summary>
    public int CurrentOffset { get; private set; }

    public readonly TlvEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        int remaining = _span.Length - _pos;
        if (remaining == 0) return false;
        if (remaining < Math.Max(_minLength, _lengthOffset + 2))
            throw new OpenFlowFormatException($"truncated {_what}: {remaining} bytes left, need {Math.Max(_minLength, _lengthOffset + 2)}", _base + _pos);
        int len = BinaryPrimitives.ReadUInt16BigEndian(_span[(_pos + _lengthOffset)..]);
        if (len < _minLength) throw new OpenFlowFormatException($"{_what} length {len} is less than {_minLength}", _base + _pos + _lengthOffset);
        if (len % _alignment != 0) throw new OpenFlowFormatException($"{_what} length {len} is not a multiple of {_alignment}", _base + _pos + _lengthOffset);
        if (len > remaining) throw new OpenFlowFormatException($"{_what} length {len} exceeds the {remaining} bytes that remain", _base + _pos + _lengthOffset);
        Current = _span.Slice(_pos, len);
        CurrentOffset = _base + _pos;
        _pos += len;
        return true;
    }
}
