namespace SubsetMulticast.Packets;

/// <summary>
/// The "floating point" codes of IGMPv3 (RFC 3376 §4.1.1 Max Resp Code, §4.1.7 QQIC; also MLDv2 QQIC,
/// RFC 3810 §5.1.9) and MLDv2 (RFC 3810 §5.1.3 Maximum Response Code). Encoding rounds down to the
/// nearest representable value and clamps at the largest.
/// </summary>
public static class FloatCode
{
    /// <summary>Largest value an 8-bit code carries: 0x1F &lt;&lt; 10.</summary>
    public const int Max8 = 31744;
    /// <summary>Largest value a 16-bit code carries: 0x1FFF &lt;&lt; 10.</summary>
    public const int Max16 = 8387584;

    /// <summary>code &lt; 128 ⇒ code; else (mant | 0x10) &lt;&lt; (exp + 3).</summary>
    public static int Decode8(byte code) =>
        code < 0x80 ? code : ((code & 0x0F) | 0x10) << (((code >> 4) & 0x07) + 3);

    public static byte Encode8(int value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        if (value < 0x80) return (byte)value;
        for (int exp = 0; exp < 8; exp++)
        {
            int mant = value >> (exp + 3);
            if (mant < 0x20) return (byte)(0x80 | (exp << 4) | (mant & 0x0F));
        }
        return 0xFF;
    }

    /// <summary>code &lt; 32768 ⇒ code; else (mant | 0x1000) &lt;&lt; (exp + 3).</summary>
    public static int Decode16(ushort code) =>
        code < 0x8000 ? code : ((code & 0x0FFF) | 0x1000) << (((code >> 12) & 0x07) + 3);

    public static ushort Encode16(int value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        if (value < 0x8000) return (ushort)value;
        for (int exp = 0; exp < 8; exp++)
        {
            int mant = value >> (exp + 3);
            if (mant < 0x2000) return (ushort)(0x8000 | (exp << 12) | (mant & 0x0FFF));
        }
        return 0xFFFF;
    }
}
