using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Bier.Forwarding;
using SubsetMulticast.Bier.TrafficEngineering;

namespace SubsetMulticast.Bier.Tests.TrafficEngineering;

/// <summary>
/// RFC 9262 (draft-ietf-bier-te-arch-12 as published; bier.md §2): Fig. 1's native forward_connected BIFTs and
/// Fig. 2's overlay of forward_routed adjacencies, with every vector the text gives, hop by hop.
/// </summary>
public sealed class Rfc9262ExampleTests
{

    /// <summary>Fig. 1; BFRn is node n−1. Links: 1–2, 2–3, 2–4, 3–5, 4–5, 5–6 (links 0..5).</summary>
    private static (BierTeBift[] Bifts, int Links) Fig1()
    {
        var bsl = BitStringLength.Bits64;
        BierTeAdjacency C(int bfr, int link) => BierTeAdjacency.Connected(bfr - 1, link);
        var b = new BierTeBift[6];
        for (int i = 0; i < 6; i++) b[i] = new BierTeBift(bsl);
        b[0].Set(1, BierTeAdjacency.Decap).Set(2, C(2, 0));
        b[1].Set(1, C(1, 0)).Set(5, C(3, 1)).Set(8, C(4, 2));
        b[2].Set(3, C(2, 1)).Set(7, C(5, 3)).Set(13, BierTeAdjacency.Decap);
        b[3].Set(4, C(2, 2)).Set(10, C(5, 4)).Set(14, BierTeAdjacency.Decap);
        b[4].Set(6, C(3, 3)).Set(9, C(4, 4)).Set(12, C(6, 5));
        b[5].Set(11, C(5, 5)).Set(15, BierTeAdjacency.Decap);
        return (b, 6);
    }

    /// <summary>Fig. 2: BFR1, BFR3, BFR4, BFR6 as nodes 0..3, all adjacencies forward_routed.</summary>
    private static BierTeBift[] Fig2()
    {
        var bsl = BitStringLength.Bits64;
        var b = new BierTeBift[4];
        for (int i = 0; i < 4; i++) b[i] = new BierTeBift(bsl);
        BierTeAdjacency R(int node) => BierTeAdjacency.Routed(node);
        b[0].Set(1, R(1)).Set(2, R(2));
        b[1].Set(3, BierTeAdjacency.Decap).Set(5, R(3));
        b[2].Set(4, BierTeAdjacency.Decap).Set(6, R(3));
        b[3].Set(7, R(1)).Set(8, R(2)).Set(9, BierTeAdjacency.Decap);
        return b;
    }

    public static TheoryData<int[], string[], int[]> Fig1Vectors() => new()
    {
        { [2, 8, 10, 12, 15], ["1>2", "2>4", "4>5", "5>6"], [6] },
        { [2, 5, 8, 10, 12, 13, 15], ["1>2", "2>3", "2>4", "4>5", "5>6"], [3, 6] },
        { [2, 6, 8, 10, 12, 13, 15], ["1>2", "2>4", "4>5", "5>3", "5>6"], [3, 6] },
    };

    [Theory]
    [MemberData(nameof(Fig1Vectors))]
    public void Fig1_ForwardConnected_FollowsTheVector(int[] bits, string[] hops, int[] decapAt)
    {
        var (bifts, links) = Fig1();
        var walk = BierWalk.BierTe(bifts, links, 0, BitString.Of(BitStringLength.Bits64, bits));
        Assert.Equal(hops.Order(), walk.Hops.Select(h => $"{h.From + 1}>{h.To + 1}").Order());
        Assert.Equal(decapAt.Order(), walk.Deliveries.Keys.Select(n => n + 1).Order());
        Assert.All(walk.Deliveries.Values, n => Assert.Equal(1, n));
        Assert.True(walk.MaxCopiesPerLink <= 1);
    }

    [Fact]
    public void Fig1_ClearsAdjacentBitsBeforeCopying()
    {
        // Vector 2 at BFR2: both copies leave without p1, p5, p8 (BFR2's adjacent bits) — the §4.3 rule.
        var (bifts, links) = Fig1();
        var walk = BierWalk.BierTe(bifts, links, 0, BitString.Of(BitStringLength.Bits64, 2, 5, 8, 10, 12, 13, 15));
        var fromBfr2 = walk.Hops.Where(h => h.From == 1).ToList();
        Assert.Equal(2, fromBfr2.Count);
        Assert.All(fromBfr2, h => Assert.Equal([10, 12, 13, 15], h.Bits.SetBits()));
    }

    private static readonly string[] Bfr = ["1", "3", "4", "6"];

    public static TheoryData<int[], string[], int[]> Fig2Vectors() => new()
    {
        { [1, 5, 9], ["1>3", "3>6"], [6] },
        { [2, 6, 9], ["1>4", "4>6"], [6] },
        { [1, 2, 3, 4, 5, 9], ["1>3", "1>4", "3>6"], [3, 4, 6] },
        { [1, 2, 3, 4, 6, 9], ["1>3", "1>4", "4>6"], [3, 4, 6] },
        { [2, 3, 4, 6, 7, 9], ["1>4", "4>6", "6>3"], [3, 4, 6] },
        { [1, 3, 4, 5, 8, 9], ["1>3", "3>6", "6>4"], [3, 4, 6] },
    };

    [Theory]
    [MemberData(nameof(Fig2Vectors))]
    public void Fig2_ForwardRouted_FollowsTheVectorAndBfr6GetsOneCopy(int[] bits, string[] hops, int[] decapAt)
    {
        var walk = BierWalk.BierTe(Fig2(), 0, 0, BitString.Of(BitStringLength.Bits64, bits));
        Assert.Equal(hops.Order(), walk.Hops.Select(h => $"{Bfr[h.From]}>{Bfr[h.To]}").Order());
        Assert.All(walk.Hops, h => Assert.Equal(-1, h.Link)); // routed: no BIER-TE link carries them
        Assert.Equal(decapAt.Select(x => x.ToString()).Order(), walk.Deliveries.Keys.Select(n => Bfr[n]).Order());
        Assert.All(walk.Deliveries.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public void DoNotClear_KeepsTheBitInTheCopy()
    {
        var bift = new BierTeBift(BitStringLength.Bits64).Set(3, BierTeAdjacency.Connected(1, 0, doNotClear: true)).Set(4, BierTeAdjacency.Connected(2, 1));
        var copies = new BierTeCopy[4];
        var copyBits = new ulong[4];
        var bits = BitString.Of(BitStringLength.Bits64, 3, 4, 9);
        int n = bift.Forward(bits.Words, 0, copies, copyBits, out bool decap);
        Assert.Equal(2, n);
        Assert.False(decap);
        Assert.Equal((1UL << 2) | (1UL << 8), copyBits[0]);   // bit 3 put back for the DNC adjacency
        Assert.Equal(1UL << 8, copyBits[1]);
    }

    [Fact]
    public void Ecmp_PicksEntropyXorSeedModN()
    {
        var members = new[] { BierTeAdjacency.Connected(1, 0), BierTeAdjacency.Connected(2, 1), BierTeAdjacency.Connected(3, 2) };
        var bift = new BierTeBift(BitStringLength.Bits64).Set(5, BierTeAdjacency.Ecmp(0x5A, members));
        var copies = new BierTeCopy[4];
        var copyBits = new ulong[4];
        for (uint entropy = 0; entropy < 12; entropy++)
        {
            var bits = BitString.Of(BitStringLength.Bits64, 5, 7);
            Assert.Equal(1, bift.Forward(bits.Words, entropy, copies, copyBits, out _));
            Assert.Equal(1 + (int)((entropy ^ 0x5A) % 3), copies[0].Neighbour);
            Assert.Equal(1UL << 6, copyBits[0]);
        }
        Assert.Throws<ArgumentException>(() => BierTeAdjacency.Ecmp(0, BierTeAdjacency.Decap));
    }
}
