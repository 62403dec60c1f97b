using System.Globalization;

namespace SubsetMulticast.Bier.BitStrings;

/// <summary>
/// One BitString of a standard length (RFC 8296 §2.1.2). Mutable, so that a forwarder can work on one in
/// place; the hot paths use <see cref="BitSpan"/> on <see cref="Words"/> directly.
/// </summary>
public sealed class BitString : IEquatable<BitString>
{
    private readonly ulong[] _words;

    public BitString(BitStringLength length)
    {
        if (!BitStringLengths.IsDefined((int)length)) throw new ArgumentOutOfRangeException(nameof(length), length, "Not a standard BitString length.");
        Length = length;
        _words = new ulong[length.Words()];
    }

    public BitStringLength Length { get; }
    public int BitCount => Length.Bits();
    public Span<ulong> Words => _words;

    public static BitString Of(BitStringLength length, params ReadOnlySpan<int> bits)
    {
        var s = new BitString(length);
        foreach (var b in bits) s.Set(b);
        return s;
    }

    /// <summary>Reads a wire BitString (big-endian) whose byte count names its length.</summary>
    public static BitString FromWire(ReadOnlySpan<byte> wire)
    {
        if (!BitStringLengths.TryFromBits(wire.Length * 8, out var bsl))
            throw new ArgumentException($"{wire.Length} bytes is not a standard BitString length.", nameof(wire));
        var s = new BitString(bsl);
        BitSpan.ReadWire(wire, s._words);
        return s;
    }

    public bool IsSet(int bit) => InRange(bit) && BitSpan.IsSet(_words, bit);
    public void Set(int bit) => BitSpan.Set(_words, Check(bit));
    public void Clear(int bit) => BitSpan.Clear(_words, Check(bit));
    public bool IsEmpty => BitSpan.IsZero(_words);
    public int PopCount => BitSpan.Count(_words);

    public IEnumerable<int> SetBits()
    {
        for (int w = 0; w < _words.Length; w++)
            for (ulong x = _words[w]; x != 0; x &= x - 1)
                yield return (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(x) + 1;
    }

    public BitString Copy()
    {
        var c = new BitString(Length);
        _words.CopyTo(c._words, 0);
        return c;
    }

    public void WriteWire(Span<byte> destination) => BitSpan.WriteWire(_words, destination[..Length.Bytes()]);

    public byte[] ToWire()
    {
        var b = new byte[Length.Bytes()];
        WriteWire(b);
        return b;
    }

    /// <summary>The wire bytes in lower-case hex (what the CLI prints and the REST answer carries).</summary>
    public string ToHex() => Convert.ToHexStringLower(ToWire());

    public bool Equals(BitString? other) => other is not null && other.Length == Length && _words.AsSpan().SequenceEqual(other._words);
    public override bool Equals(object? obj) => Equals(obj as BitString);
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Length);
        foreach (var w in _words) h.Add(w);
        return h.ToHashCode();
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Length}:{{{string.Join(",", SetBits())}}}");

    private bool InRange(int bit) => bit >= 1 && bit <= BitCount;
    private int Check(int bit) => InRange(bit) ? bit : throw new ArgumentOutOfRangeException(nameof(bit), bit, $"Bits are 1..{BitCount}.");
}
