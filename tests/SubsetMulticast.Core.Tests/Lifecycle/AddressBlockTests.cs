using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;

namespace SubsetMulticast.Core.Tests.Lifecycle;

public class AddressBlockTests
{
    [Theory]
    [InlineData("239.255.0.0/24", "239.255.0.0", 256)]
    [InlineData("239.255.7.0/32", "239.255.7.0", 1)]
    [InlineData("239.128.0.0/9", "239.128.0.0", 1 << 23)]
    [InlineData("ff15::7:0/112", "ff15::7:0", 65536)]
    public void Parse_Cidr(string cidr, string first, int size)
    {
        var b = AddressBlock.Parse(cidr);
        Assert.Equal(IpAddress.Parse(first), b.First);
        Assert.Equal(size, b.Size);
        Assert.Equal(cidr, b.ToString());
    }

    [Theory]
    [InlineData("239.255.0.0")]          // no prefix
    [InlineData("239.255.0.0/8")]        // more than 2^23 addresses: group MACs would repeat
    [InlineData("239.255.0.0/33")]
    [InlineData("10.0.0.0/24")]          // not multicast
    [InlineData("239.255.0.5/24")]       // host bits set: not a block boundary
    [InlineData("ff15::7:1/112")]
    [InlineData("nonsense/24")]
    public void Parse_RejectsWithAClearError(string cidr)
    {
        var e = Assert.ThrowsAny<Exception>(() => AddressBlock.Parse(cidr));
        Assert.True(e is FormatException or ArgumentException, e.GetType().Name);
        Assert.Contains(cidr.Split('/')[0], e.Message);
    }

    [Fact]
    public void AllocatesEveryAddressOnce_ThenReportsExhaustion_ThenReusesFreed()
    {
        var b = AddressBlock.Parse("239.255.0.0/28");
        var got = new HashSet<IpAddress>();
        for (int i = 0; i < 16; i++)
        {
            Assert.True(b.TryAllocate(out var a));
            Assert.True(b.Contains(a));
            Assert.True(got.Add(a), $"{a} handed out twice");
        }
        Assert.Equal(16, b.InUse);
        Assert.False(b.TryAllocate(out _));
        var freed = IpAddress.Parse("239.255.0.9");
        b.Free(freed);
        Assert.Equal(15, b.InUse);
        Assert.True(b.TryAllocate(out var again));
        Assert.Equal(freed, again);
    }

    [Fact]
    public void Reserve_TakesOnlyFreeAddressesInside()
    {
        var b = AddressBlock.Parse("239.255.0.0/30");
        Assert.True(b.TryReserve(IpAddress.Parse("239.255.0.2")));
        Assert.False(b.TryReserve(IpAddress.Parse("239.255.0.2")));
        Assert.False(b.TryReserve(IpAddress.Parse("239.255.0.4")));
        Assert.False(b.TryReserve(IpAddress.Parse("ff15::2")));
        Assert.True(b.IsUsed(IpAddress.Parse("239.255.0.2")));
        b.Free(IpAddress.Parse("239.255.0.3")); // freeing a free address changes nothing
        Assert.Equal(1, b.InUse);
    }
}
