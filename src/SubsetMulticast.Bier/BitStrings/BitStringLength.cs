namespace SubsetMulticast.Bier.BitStrings;

/// <summary>
/// The BSL as RFC 8296 §2.1.2 codes it: code k means 2^(k+5) bits. Codes 0 and 8..15 are reserved, so a
/// header carrying one is malformed; every defined length is one of these seven.
/// </summary>
public enum BitStringLength : byte
{
    Bits64 = 1,
    Bits128 = 2,
    Bits256 = 3,
    Bits512 = 4,
    Bits1024 = 5,
    Bits2048 = 6,
    Bits4096 = 7,
}

public static class BitStringLengths
{
    public static readonly BitStringLength[] All =
        [BitStringLength.Bits64, BitStringLength.Bits128, BitStringLength.Bits256, BitStringLength.Bits512,
         BitStringLength.Bits1024, BitStringLength.Bits2048, BitStringLength.Bits4096];

    public static bool IsDefined(int code) => code is >= 1 and <= 7;
    public static int Bits(this BitStringLength bsl) => 1 << ((int)bsl + 5);
    public static int Bytes(this BitStringLength bsl) => 1 << ((int)bsl + 2);
    /// <summary>64-bit words in memory (one per 64 bits).</summary>
    public static int Words(this BitStringLength bsl) => 1 << ((int)bsl - 1);

    public static bool TryFromBits(int bits, out BitStringLength bsl)
    {
        foreach (var b in All)
            if (b.Bits() == bits) { bsl = b; return true; }
        bsl = default;
        return false;
    }

    /// <summary>The shortest standard length holding <paramref name="bits"/> bits; false past 4096.</summary>
    public static bool TryFit(int bits, out BitStringLength bsl)
    {
        foreach (var b in All)
            if (b.Bits() >= bits) { bsl = b; return true; }
        bsl = default;
        return false;
    }
}
