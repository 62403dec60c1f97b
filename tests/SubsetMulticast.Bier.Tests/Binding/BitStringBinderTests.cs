using Microsoft.Extensions.Time.Testing;
using SubsetMulticast.Bier.Binding;
using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;

namespace SubsetMulticast.Bier.Tests.Binding;

public sealed class BitStringBinderTests
{
    private static (BitStringBinder Binder, FakeTimeProvider Time, AddressBlock Block) Make(int bindAfter = 3)
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-01T00:00:00Z"));
        var block = AddressBlock.Parse("239.255.0.0/30");
        var binder = new BitStringBinder(new BitStringBinderOptions { BindAfter = bindAfter, IdleTimeout = TimeSpan.FromSeconds(2) }, time,
            () => block.TryAllocate(out var a) ? (true, a) : (false, default), a => block.Free(a));
        return (binder, time, block);
    }

    [Fact]
    public void Observe_SameBitStringNTimes_BindsOnTheNthAndKeepsTheAddress()
    {
        var (binder, time, block) = Make();
        var bits = BitString.Of(BitStringLength.Bits256, 27, 235);
        Assert.False(binder.Observe(0, 0, bits.Words).Bound);
        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.False(binder.Observe(0, 0, bits.Words).Bound);
        var third = binder.Observe(0, 0, bits.Words);
        Assert.True(third.Bound && third.NewlyBound);
        Assert.Equal(IpAddress.Parse("239.255.0.0"), third.Group);
        var fourth = binder.Observe(0, 0, bits.Words);
        Assert.True(fourth.Bound);
        Assert.False(fourth.NewlyBound);
        Assert.Equal(third.Group, fourth.Group);
        Assert.Equal(1, block.InUse);
        // Another SI with the same bits is another key.
        Assert.False(binder.Observe(0, 1, bits.Words).Bound);
    }

    [Fact]
    public void Expire_IdlePastTimeout_ReleasesTheAddressAndStartsCountingAgain()
    {
        var (binder, time, block) = Make(bindAfter: 1);
        var bits = BitString.Of(BitStringLength.Bits64, 1);
        var bound = binder.Observe(0, 0, bits.Words);
        Assert.True(bound.Bound);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(binder.Expire());
        time.Advance(TimeSpan.FromSeconds(1.5));
        Assert.Equal([bound.Group], binder.Expire());
        Assert.Equal(0, block.InUse);
        Assert.Equal(0, binder.Count);
    }

    [Fact]
    public void Observe_BlockExhausted_StaysOnBier()
    {
        var (binder, _, block) = Make(bindAfter: 1);
        for (int i = 1; i <= 4; i++) Assert.True(binder.Observe(0, 0, BitString.Of(BitStringLength.Bits64, i).Words).Bound);
        var fifth = binder.Observe(0, 0, BitString.Of(BitStringLength.Bits64, 5).Words);
        Assert.False(fifth.Bound);
        Assert.Equal(4, block.InUse);
    }
}
