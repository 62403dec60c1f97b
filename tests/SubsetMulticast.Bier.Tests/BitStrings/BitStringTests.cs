using SubsetMulticast.Bier.BitStrings;

namespace SubsetMulticast.Bier.Tests.BitStrings;

public sealed class BitStringTests
{
    public static TheoryData<BitStringLength> Lengths() => [.. BitStringLengths.All];

    [Fact]
    public void Encode_Rfc8279Example_Bsl256_SplitsIdsIntoSets()
    {
        // protocols.md §3: BSL 256, ids 27, 235, 497 → SI 0 {27, 235}, SI 1 {241}.
        var sets = BfrIds.Encode(BitStringLength.Bits256, [27, 235, 497]);
        Assert.Equal(2, sets.Count);
        Assert.Equal(0, sets[0].Si);
        Assert.Equal([27, 235], sets[0].Bits.SetBits());
        Assert.Equal(1, sets[1].Si);
        Assert.Equal([241], sets[1].Bits.SetBits());
        Assert.Equal(new SetBit(1, 241), BfrIds.ToSetBit(497, BitStringLength.Bits256));
        Assert.Equal(497, BfrIds.FromSetBit(new SetBit(1, 241), BitStringLength.Bits256));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65536)]
    [InlineData(-1)]
    public void ToSetBit_IdOutsideRange_Throws(int id) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => BfrIds.ToSetBit(id, BitStringLength.Bits64));

    [Theory]
    [MemberData(nameof(Lengths))]
    public void SetBit_EveryBit_LandsInTheRfc8296WireByteAndMask(BitStringLength bsl)
    {
        // protocols.md §3: bit k sits in byte BSL/8 − 1 − ⌊(k−1)/8⌋ with mask 1 << ((k−1) mod 8).
        int bytes = bsl.Bytes();
        for (int k = 1; k <= bsl.Bits(); k++)
        {
            var wire = BitString.Of(bsl, k).ToWire();
            int at = bytes - 1 - (k - 1) / 8;
            for (int i = 0; i < bytes; i++) Assert.Equal(i == at ? (byte)(1 << ((k - 1) % 8)) : (byte)0, wire[i]);
            Assert.Equal([k], BitString.FromWire(wire).SetBits());
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void SetOperations_RandomStrings_MatchBitByBitReference(BitStringLength bsl)
    {
        var rng = new Random(8279 + (int)bsl);
        int w = bsl.Words();
        for (int round = 0; round < 200; round++)
        {
            var a = RandomWords(rng, w);
            var b = RandomWords(rng, w);
            var and = new ulong[w];
            bool any = BitSpan.And(a, b, and);
            var andNot = (ulong[])a.Clone();
            BitSpan.AndNot(andNot, b);
            bool expectAny = false;
            for (int k = 1; k <= bsl.Bits(); k++)
            {
                bool x = BitSpan.IsSet(a, k), y = BitSpan.IsSet(b, k);
                Assert.Equal(x && y, BitSpan.IsSet(and, k));
                Assert.Equal(x && !y, BitSpan.IsSet(andNot, k));
                expectAny |= x && y;
            }
            Assert.Equal(expectAny, any);
            Assert.Equal(expectAny, BitSpan.Intersects(a, b));
            Assert.Equal(Enumerable.Range(1, bsl.Bits()).FirstOrDefault(k => BitSpan.IsSet(a, k)), BitSpan.Lowest(a));
            Assert.Equal(Enumerable.Range(1, bsl.Bits()).Count(k => BitSpan.IsSet(a, k)), BitSpan.Count(a));
            Assert.Equal(a.All(x => x == 0), BitSpan.IsZero(a));
        }
        Assert.True(BitSpan.IsZero(new ulong[w]));
        Assert.Equal(0, BitSpan.Lowest(new ulong[w]));
    }

    private static ulong[] RandomWords(Random rng, int w)
    {
        var a = new ulong[w];
        for (int i = 0; i < w; i++) a[i] = rng.Next(4) == 0 ? 0 : (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 40);
        return a;
    }
}
