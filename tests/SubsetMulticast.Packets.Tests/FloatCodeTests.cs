namespace SubsetMulticast.Packets.Tests;

public sealed class FloatCodeTests
{
    [Theory]
    [InlineData(0x00, 0)]
    [InlineData(0x7F, 127)]
    [InlineData(0x80, 128)]     // exp 0, mant 0: 0x10 << 3
    [InlineData(0x8F, 248)]     // exp 0, mant 15: 0x1F << 3
    [InlineData(0x90, 256)]     // exp 1
    [InlineData(0xFF, 31744)]   // 0x1F << 10
    public void Decode8_Boundaries(byte code, int value)
    {
        Assert.Equal(value, FloatCode.Decode8(code));
        Assert.Equal(code, FloatCode.Encode8(value));
    }

    [Theory]
    [InlineData(0x0000, 0)]
    [InlineData(0x7FFF, 32767)]
    [InlineData(0x8000, 32768)]   // 0x1000 << 3
    [InlineData(0x8FFF, 65528)]   // 0x1FFF << 3
    [InlineData(0x9000, 65536)]
    [InlineData(0xFFFF, 8387584)] // 0x1FFF << 10
    public void Decode16_Boundaries(int code, int value)
    {
        Assert.Equal(value, FloatCode.Decode16((ushort)code));
        Assert.Equal((ushort)code, FloatCode.Encode16(value));
    }

    [Theory]
    [InlineData(129, 0x80)]    // rounds down to 128
    [InlineData(255, 0x8F)]
    [InlineData(1_000_000, 0xFF)] // clamps
    public void Encode8_RoundsDown_AndClamps(int value, byte code) => Assert.Equal(code, FloatCode.Encode8(value));

    [Theory]
    [InlineData(32769, 0x8000)]
    [InlineData(int.MaxValue, 0xFFFF)]
    public void Encode16_RoundsDown_AndClamps(int value, int code) => Assert.Equal((ushort)code, FloatCode.Encode16(value));

    [Fact]
    public void EveryCode_RoundTrips()
    {
        for (int c = 0; c <= 0xFF; c++) Assert.Equal((byte)c, FloatCode.Encode8(FloatCode.Decode8((byte)c)));
        for (int c = 0; c <= 0xFFFF; c++) Assert.Equal((ushort)c, FloatCode.Encode16(FloatCode.Decode16((ushort)c)));
    }

    [Fact]
    public void Encode_Negative_IsCallerMistake()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FloatCode.Encode8(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => FloatCode.Encode16(-1));
    }
}
