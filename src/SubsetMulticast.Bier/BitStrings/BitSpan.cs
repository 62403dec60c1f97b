using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace SubsetMulticast.Bier.BitStrings;

/// <summary>
/// Set operations on a BitString held as 64-bit words, word 0 holding bits 1..64 (bit 1 = its least
/// significant bit, as RFC 8279 §3 numbers them). Every length is a multiple of 64 bits, so from 256 bits
/// on each operation runs on whole 256-bit vectors; below that the scalar loop is as fast. No allocation.
/// </summary>
public static class BitSpan
{
    /// <summary><paramref name="bits"/> &amp;= ~<paramref name="mask"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AndNot(Span<ulong> bits, ReadOnlySpan<ulong> mask)
    {
        int n = bits.Length, i = 0;
        if (Vector256.IsHardwareAccelerated && n >= 4)
        {
            ref ulong b = ref MemoryMarshal.GetReference(bits);
            ref ulong m = ref MemoryMarshal.GetReference(mask);
            for (; i <= n - 4; i += 4)
                Vector256.AndNot(Vector256.LoadUnsafe(ref b, (nuint)i), Vector256.LoadUnsafe(ref m, (nuint)i)).StoreUnsafe(ref b, (nuint)i);
        }
        for (; i < n; i++) bits[i] &= ~mask[i];
    }

    /// <summary><paramref name="destination"/> = <paramref name="a"/> &amp; <paramref name="b"/>; returns whether any bit is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool And(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b, Span<ulong> destination)
    {
        int n = a.Length, i = 0;
        ulong any = 0;
        if (Vector256.IsHardwareAccelerated && n >= 4)
        {
            ref ulong ra = ref MemoryMarshal.GetReference(a);
            ref ulong rb = ref MemoryMarshal.GetReference(b);
            ref ulong rd = ref MemoryMarshal.GetReference(destination);
            var acc = Vector256<ulong>.Zero;
            for (; i <= n - 4; i += 4)
            {
                var v = Vector256.LoadUnsafe(ref ra, (nuint)i) & Vector256.LoadUnsafe(ref rb, (nuint)i);
                v.StoreUnsafe(ref rd, (nuint)i);
                acc |= v;
            }
            any = acc != Vector256<ulong>.Zero ? 1UL : 0UL;
        }
        for (; i < n; i++) any |= destination[i] = a[i] & b[i];
        return any != 0;
    }

    public static void Or(Span<ulong> bits, ReadOnlySpan<ulong> other)
    {
        for (int i = 0; i < bits.Length; i++) bits[i] |= other[i];
    }

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> share a bit.</summary>
    public static bool Intersects(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b)
    {
        for (int i = 0; i < a.Length; i++) if ((a[i] & b[i]) != 0) return true;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsZero(ReadOnlySpan<ulong> bits)
    {
        int n = bits.Length, i = 0;
        if (Vector256.IsHardwareAccelerated && n >= 4)
        {
            ref ulong b = ref MemoryMarshal.GetReference(bits);
            var acc = Vector256<ulong>.Zero;
            for (; i <= n - 4; i += 4) acc |= Vector256.LoadUnsafe(ref b, (nuint)i);
            if (acc != Vector256<ulong>.Zero) return false;
        }
        for (; i < n; i++) if (bits[i] != 0) return false;
        return true;
    }

    /// <summary>The lowest set bit as RFC 8279 numbers it (1-based), or 0 when none is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Lowest(ReadOnlySpan<ulong> bits)
    {
        for (int i = 0; i < bits.Length; i++)
            if (bits[i] != 0) return (i << 6) + BitOperations.TrailingZeroCount(bits[i]) + 1;
        return 0;
    }

    public static int Count(ReadOnlySpan<ulong> bits)
    {
        int c = 0;
        foreach (var w in bits) c += BitOperations.PopCount(w);
        return c;
    }

    public static bool IsSet(ReadOnlySpan<ulong> bits, int bit) => (bits[(bit - 1) >> 6] & (1UL << ((bit - 1) & 63))) != 0;
    public static void Set(Span<ulong> bits, int bit) => bits[(bit - 1) >> 6] |= 1UL << ((bit - 1) & 63);
    public static void Clear(Span<ulong> bits, int bit) => bits[(bit - 1) >> 6] &= ~(1UL << ((bit - 1) & 63));

    /// <summary>
    /// From the wire (RFC 8296 §2.1.3: big-endian, bit 1 is the least significant bit of the last byte):
    /// the last 8 bytes are word 0. <paramref name="wire"/> is 8 × words bytes.
    /// </summary>
    public static void ReadWire(ReadOnlySpan<byte> wire, Span<ulong> bits)
    {
        int n = bits.Length;
        for (int i = 0; i < n; i++) bits[i] = BinaryPrimitives.ReadUInt64BigEndian(wire.Slice((n - 1 - i) << 3, 8));
    }

    public static void WriteWire(ReadOnlySpan<ulong> bits, Span<byte> wire)
    {
        int n = bits.Length;
        for (int i = 0; i < n; i++) BinaryPrimitives.WriteUInt64BigEndian(wire.Slice((n - 1 - i) << 3, 8), bits[i]);
    }
}
