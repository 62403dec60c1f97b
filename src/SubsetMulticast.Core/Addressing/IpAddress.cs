using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace SubsetMulticast.Core.Addressing;

/// <summary>
/// An IPv4 or IPv6 address as a 16-byte value. IPv4 is held IPv4-mapped (::ffff:a.b.c.d) so that one
/// struct, one equality and one hash serve both families without allocation on the hot path.
/// </summary>
public readonly struct IpAddress : IEquatable<IpAddress>, IComparable<IpAddress>, ISpanFormattable
{
    private const ulong V4MappedPrefix = 0x0000_FFFFUL << 32;
    private readonly ulong _hi;
    private readonly ulong _lo;

    private IpAddress(ulong hi, ulong lo) { _hi = hi; _lo = lo; }

    public static IpAddress FromV4(uint address) => new(0, V4MappedPrefix | address);

    public static IpAddress FromV4(ReadOnlySpan<byte> fourBytes) => FromV4(BinaryPrimitives.ReadUInt32BigEndian(fourBytes));

    public static IpAddress FromV6(ReadOnlySpan<byte> sixteenBytes) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(sixteenBytes), BinaryPrimitives.ReadUInt64BigEndian(sixteenBytes[8..]));

    public static IpAddress FromV6(ulong high, ulong low) => new(high, low);

    public bool IsV4 => _hi == 0 && (_lo >> 32) == 0xFFFF;
    public bool IsV6 => !IsV4;
    public AddressFamily Family => IsV4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;

    /// <summary>The IPv4 address as a host-order integer; only meaningful when <see cref="IsV4"/>.</summary>
    public uint V4 => (uint)_lo;
    public ulong High => _hi;
    public ulong Low => _lo;

    public bool IsUnspecified => IsV4 ? V4 == 0 : (_hi | _lo) == 0;

    /// <summary>224.0.0.0/4 or ff00::/8.</summary>
    public bool IsMulticast => IsV4 ? (V4 >> 28) == 0xE : (_hi >> 56) == 0xFF;

    /// <summary>Groups that RFC 4541 §2.1.2 says are always flooded: 224.0.0.0/24 and ff02::1.</summary>
    public bool IsLinkLocalMulticast => IsV4 ? (V4 >> 8) == 0xE00000 : (_hi == 0xFF02UL << 48 && _lo == 1);

    /// <summary>Byte length on the wire: 4 or 16.</summary>
    public int WireLength => IsV4 ? 4 : 16;

    public void WriteTo(Span<byte> destination)
    {
        if (IsV4) BinaryPrimitives.WriteUInt32BigEndian(destination, V4);
        else
        {
            BinaryPrimitives.WriteUInt64BigEndian(destination, _hi);
            BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _lo);
        }
    }

    /// <summary>Adds <paramref name="offset"/> to the low bits (block arithmetic for group allocation).</summary>
    public IpAddress Add(ulong offset) => IsV4 ? FromV4(unchecked(V4 + (uint)offset)) : new(_hi + (_lo + offset < _lo ? 1UL : 0), unchecked(_lo + offset));

    /// <summary>Distance from <paramref name="start"/> in the low 64 bits; valid within one block.</summary>
    public ulong Subtract(IpAddress start) => IsV4 ? V4 - start.V4 : _lo - start._lo;

    public static IpAddress Parse(string text) =>
        TryParse(text, out var a) ? a : throw new FormatException($"'{text}' is not an IPv4 or IPv6 address.");

    public static bool TryParse([NotNullWhen(true)] string? text, out IpAddress address)
    {
        address = default;
        if (string.IsNullOrWhiteSpace(text) || !IPAddress.TryParse(text, out var ip)) return false;
        // IPAddress.TryParse accepts "1" and "1.2" as IPv4 shorthand; an operator never means that.
        if (ip.AddressFamily == AddressFamily.InterNetwork && text.Count(c => c == '.') != 3) return false;
        if (ip.AddressFamily == AddressFamily.InterNetworkV6 && ip.ScopeId != 0) return false;
        address = From(ip);
        return true;
    }

    public static IpAddress From(IPAddress ip)
    {
        Span<byte> b = stackalloc byte[16];
        if (ip.AddressFamily == AddressFamily.InterNetwork)
        {
            ip.TryWriteBytes(b, out _);
            return FromV4(b);
        }
        if (ip.AddressFamily != AddressFamily.InterNetworkV6) throw new ArgumentException("Only IPv4 and IPv6 are supported.", nameof(ip));
        ip.TryWriteBytes(b, out _);
        return FromV6(b);
    }

    public IPAddress ToIPAddress()
    {
        Span<byte> b = stackalloc byte[16];
        WriteTo(b);
        return new IPAddress(b[..WireLength]);
    }

    public bool Equals(IpAddress other) => _hi == other._hi && _lo == other._lo;
    public override bool Equals(object? obj) => obj is IpAddress o && Equals(o);
    public override int GetHashCode() => (int)(_lo ^ (_lo >> 32) ^ _hi ^ (_hi >> 32));
    public int CompareTo(IpAddress other) => _hi != other._hi ? _hi.CompareTo(other._hi) : _lo.CompareTo(other._lo);
    public static bool operator ==(IpAddress a, IpAddress b) => a.Equals(b);
    public static bool operator !=(IpAddress a, IpAddress b) => !a.Equals(b);

    public override string ToString() => ToIPAddress().ToString();
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        if (IsV4)
        {
            uint v = V4;
            return destination.TryWrite($"{v >> 24}.{(v >> 16) & 0xFF}.{(v >> 8) & 0xFF}.{v & 0xFF}", out charsWritten);
        }
        return ToIPAddress().TryFormat(destination, out charsWritten);
    }
}
