using System.Text.Json;
using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Bier.Encapsulation;
using SubsetMulticast.Bier.Text;

namespace SubsetMulticast.Bier.Tests.Encapsulation;

public sealed class BierTextTests
{
    [Fact]
    public void EncodeJson_IssueExample_SetsBitsAndWireHex()
    {
        var json = BierText.EncodeJson(BitStringLength.Bits256, BfrIds.Encode(BitStringLength.Bits256, BierText.ParseIds("27,235,497")));
        var root = JsonDocument.Parse(json).RootElement;
        Assert.Equal(256, root.GetProperty("bsl").GetInt32());
        var sets = root.GetProperty("sets").EnumerateArray().ToArray();
        Assert.Equal(2, sets.Length);
        Assert.Equal(0, sets[0].GetProperty("si").GetInt32());
        Assert.Equal([27, 235], sets[0].GetProperty("bits").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([241], sets[1].GetProperty("bits").EnumerateArray().Select(e => e.GetInt32()));
        // Bit 27: byte 31 − 3 = 28, mask 0x04; bit 235: byte 31 − 29 = 2, mask 0x04. Bit 241: byte 1, mask 0x01.
        Assert.Equal("0000" + "04" + new string('0', 50) + "04" + "000000", sets[0].GetProperty("hex").GetString());
        Assert.Equal("00" + "01" + new string('0', 60), sets[1].GetProperty("hex").GetString());
        Assert.StartsWith("{\"bsl\":256,\"sets\":[{\"si\":0,\"bits\":[27,235],\"hex\":\"", json);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("1,x")]
    [InlineData("-3")]
    public void ParseIds_Bad_ThrowsFormatException(string text) => Assert.Throws<FormatException>(() => BierText.ParseIds(text));

    [Fact]
    public void DecodeJson_ExternalVector_EveryField()
    {
        var bytes = BierText.ParseHex("12345140 503abcde 00040004 80" + new string('0', 60) + "05");
        var root = JsonDocument.Parse(BierText.DecodeJson(bytes)).RootElement;
        Assert.Equal(0x12345, root.GetProperty("biftId").GetInt32());
        Assert.True(root.GetProperty("s").GetBoolean());
        Assert.Equal(64, root.GetProperty("ttl").GetInt32());
        Assert.Equal(256, root.GetProperty("bsl").GetInt32());
        Assert.Equal(0xABCDE, root.GetProperty("entropy").GetInt32());
        Assert.Equal(4, root.GetProperty("proto").GetInt32());
        Assert.Equal("IPv4", root.GetProperty("protoName").GetString());
        Assert.Equal(4, root.GetProperty("bfirId").GetInt32());
        Assert.Equal([1, 3, 256], root.GetProperty("bits").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Contains("bits 1,3,256", BierText.DecodeText(bytes));
    }

    [Fact]
    public void Decode_Truncated_ThrowsBierFormatExceptionWithOffset()
    {
        var ex = Assert.Throws<BierFormatException>(() => BierText.DecodeJson(BierText.ParseHex("12345140503abcde")));
        Assert.Equal(8, ex.Offset);
        Assert.Throws<FormatException>(() => BierText.ParseHex("12zz"));
    }
}
