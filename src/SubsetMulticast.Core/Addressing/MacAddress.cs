using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace SubsetMulticast.Core.Addressing;

/// <summary>A 48-bit IEEE MAC address held in the low bits of a <see cref="ulong"/>.</summary>
public readonly struct MacAddress : IEquatable<MacAddress>, IComparable<MacAddress>, ISpanFormattable
{
    public const int Length = 6;
    public static readonly MacAddress Broadcast = new(0xFFFF_FFFF_FFFFUL);

    public MacAddress(ulong value)
    {
        if (value > 0xFFFF_FFFF_FFFFUL) throw new ArgumentOutOfRangeException(nameof(value), "A MAC address has 48 bits.");
        Value = value;
    }

    public ulong Value { get; }

    public static MacAddress Read(ReadOnlySpan<byte> source) =>
        new(((ulong)BinaryPrimitives.ReadUInt16BigEndian(source) << 32) | BinaryPrimitives.ReadUInt32BigEndian(source[2..]));

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)(Value >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(destination[2..], (uint)Value);
    }

    /// <summary>The I/G bit: group (multicast or broadcast) addresses.</summary>
    public bool IsGroup => ((Value >> 40) & 1) != 0;
    public bool IsBroadcast => Value == Broadcast.Value;

    public static MacAddress Parse(string text) =>
        TryParse(text, out var m) ? m : throw new FormatException($"'{text}' is not a MAC address (aa:bb:cc:dd:ee:ff).");

    public static bool TryParse([NotNullWhen(true)] string? text, out MacAddress mac)
    {
        mac = default;
        if (text is null || text.Length != 17) return false;
        ulong v = 0;
        for (int i = 0; i < 6; i++)
        {
            if (i > 0 && text[i * 3 - 1] is not (':' or '-')) return false;
            if (!byte.TryParse(text.AsSpan(i * 3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b)) return false;
            v = (v << 8) | b;
        }
        mac = new MacAddress(v);
        return true;
    }

    public bool Equals(MacAddress other) => Value == other.Value;
    public override bool Equals(object? obj) => obj is MacAddress o && Equals(o);
    public override int GetHashCode() => Value.GetHashCode();
    public int CompareTo(MacAddress other) => Value.CompareTo(other.Value);
    public static bool operator ==(MacAddress a, MacAddress b) => a.Equals(b);
    public static bool operator !=(MacAddress a, MacAddress b) => !a.Equals(b);

    public override string ToString() => string.Create(17, Value, static (span, v) =>
    {
        for (int i = 0; i < 6; i++)
        {
            byte b = (byte)(v >> (40 - 8 * i));
            if (i > 0) span[i * 3 - 1] = ':';
            span[i * 3] = "0123456789abcdef"[b >> 4];
            span[i * 3 + 1] = "0123456789abcdef"[b & 0xF];
        }
    });

    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        charsWritten = 0;
        if (destination.Length < 17) return false;
        ToString().CopyTo(destination);
        charsWritten = 17;
        return true;
    }
}
