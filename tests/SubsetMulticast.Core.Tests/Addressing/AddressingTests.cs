using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Core.Tests.Addressing;

public class AddressingTests
{
    [Theory]
    // RFC 1112 §6.4: 01:00:5e + the low 23 bits; 224.128.0.1 and 224.0.0.1 share a MAC.
    [InlineData("224.0.0.1", "01:00:5e:00:00:01")]
    [InlineData("224.128.0.1", "01:00:5e:00:00:01")]
    [InlineData("239.255.0.7", "01:00:5e:7f:00:07")]
    [InlineData("239.1.2.3", "01:00:5e:01:02:03")]
    // RFC 2464 §7: 33:33 + the low 32 bits.
    [InlineData("ff02::1", "33:33:00:00:00:01")]
    [InlineData("ff15::7:1", "33:33:00:07:00:01")]
    [InlineData("ff02::1:ff00:1234", "33:33:ff:00:12:34")]
    public void MulticastMac_FollowsTheRfcMapping(string group, string mac) =>
        Assert.Equal(mac, MulticastMac.For(IpAddress.Parse(group)).ToString());

    [Theory]
    [InlineData("10.0.0.1")]
    [InlineData("fe80::1")]
    public void MulticastMac_RefusesUnicast(string ip) =>
        Assert.Throws<ArgumentException>(() => MulticastMac.For(IpAddress.Parse(ip)));

    [Theory]
    [InlineData("239.1.0.1", true, false, true)]
    [InlineData("224.0.0.22", true, true, true)]
    [InlineData("10.1.2.3", false, false, true)]
    [InlineData("ff02::1", true, true, false)]
    [InlineData("ff02::16", true, false, false)]
    [InlineData("ff15::1", true, false, false)]
    [InlineData("2001:db8::1", false, false, false)]
    public void Classification(string text, bool multicast, bool linkLocalMulticast, bool v4)
    {
        var a = IpAddress.Parse(text);
        Assert.Equal(multicast, a.IsMulticast);
        Assert.Equal(linkLocalMulticast, a.IsLinkLocalMulticast);
        Assert.Equal(v4, a.IsV4);
        Assert.Equal(text, a.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("239.1.0")]
    [InlineData("239.1.0.256")]
    [InlineData("ff02:::1")]
    [InlineData("host.example")]
    [InlineData(null)]
    public void TryParse_RejectsMalformed(string? text) => Assert.False(IpAddress.TryParse(text, out _));

    [Fact]
    public void Wire_RoundTrip_BothFamilies()
    {
        Span<byte> buf = stackalloc byte[16];
        foreach (var text in new[] { "192.0.2.7", "2001:db8::7" })
        {
            var a = IpAddress.Parse(text);
            a.WriteTo(buf);
            var back = a.IsV4 ? IpAddress.FromV4(buf[..4]) : IpAddress.FromV6(buf);
            Assert.Equal(a, back);
            Assert.Equal(a.WireLength, a.IsV4 ? 4 : 16);
        }
    }

    [Fact]
    public void Add_CarriesIntoTheHighHalf()
    {
        var a = IpAddress.FromV6(0xff15_0000_0000_0000UL, ulong.MaxValue);
        var b = a.Add(1);
        Assert.Equal(0xff15_0000_0000_0001UL, b.High);
        Assert.Equal(0UL, b.Low);
    }

    [Theory]
    [InlineData("02:00:00:00:00:01", false)]
    [InlineData("01:00:5e:7f:00:07", true)]
    [InlineData("ff:ff:ff:ff:ff:ff", true)]
    public void Mac_ParseFormatAndGroupBit(string text, bool group)
    {
        var mac = MacAddress.Parse(text);
        Assert.Equal(text, mac.ToString());
        Assert.Equal(group, mac.IsGroup);
    }

    [Theory]
    [InlineData("02:00:00:00:00")]
    [InlineData("02-00-00-00-00-zz")]
    [InlineData("")]
    public void Mac_RejectsMalformed(string text) => Assert.False(MacAddress.TryParse(text, out _));

    [Theory]
    [InlineData(0, true)]
    [InlineData(4094, true)]
    [InlineData(4095, false)]
    [InlineData(-1, false)]
    public void Vlan_Range(int value, bool valid)
    {
        Assert.Equal(valid, VlanId.IsValid(value));
        if (value is >= 0 and <= ushort.MaxValue && !valid) Assert.ThrowsAny<ArgumentException>(() => new VlanId((ushort)value));
    }
}
