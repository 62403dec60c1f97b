using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Bier.Forwarding;
using SubsetMulticast.Bier.Routing;
using SubsetMulticast.Bier.Tests.Support;

namespace SubsetMulticast.Bier.Tests.Forwarding;

/// <summary>
/// RFC 8279 §6 (draft-ietf-bier-architecture-08 §6.3–6.7; bier.md §1): Fig. 1's topology A–B–C–D, B–E, C–F with
/// BFR-ids D = 1, F = 2, E = 3, A = 4; the BIFTs of Fig. 5 come out of the routing, and every example's packet
/// is checked on every hop. The 4-bit strings of the figures are the low bits of a BSL 64 BitString.
/// </summary>
public sealed class Rfc8279ExampleTests
{
    private const int A = 0, B = 1, C = 2, D = 3, E = 4, F = 5;

    private static BierDomain Fig1(bool withEf = false)
    {
        var g = new BierGraph();
        foreach (var n in new[] { "A", "B", "C", "D", "E", "F" }) g.AddNode(n);
        g.AddLink(A, 1, B, 1);
        g.AddLink(B, 2, C, 1);
        g.AddLink(C, 2, D, 1);
        g.AddLink(B, 3, E, 1);
        g.AddLink(C, 3, F, 1);
        if (withEf) g.AddLink(E, 2, F, 2);   // §6.7.1, Fig. 6
        var ids = new Dictionary<int, int> { [D] = 1, [F] = 2, [E] = 3, [A] = 4 };
        return BierDomain.Build(g, [new BierSubDomain(0, BitStringLength.Bits64, ids)], ecmp: withEf);
    }

    private static void AssertEntry(BierDomain d, int at, int bit, params (string Fbm, int Via)[] expected)
    {
        Assert.True(d.Routers[at].TryGetBift(0, BitStringLength.Bits64, 0, out var bift));
        var entry = bift.Entry(bit);
        Assert.Equal(expected.Length, entry.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(Packets.Bits(expected[i].Fbm), entry[i].Fbm);
            Assert.Equal(expected[i].Via, entry[i].Target.Neighbour);
        }
    }

    [Fact]
    public void Bifts_Fig5_EveryBitsFbmAndNeighbour()
    {
        var d = Fig1();
        AssertEntry(d, A, 1, ("0111", B));
        AssertEntry(d, A, 2, ("0111", B));
        AssertEntry(d, A, 3, ("0111", B));
        Assert.True(d.Routers[A].TryGetBift(0, BitStringLength.Bits64, 0, out var a) && a.IsLocal(4)); // 1000 / A (self)
        AssertEntry(d, B, 1, ("0011", C));
        AssertEntry(d, B, 2, ("0011", C));
        AssertEntry(d, B, 3, ("0100", E));
        AssertEntry(d, B, 4, ("1000", A));
        AssertEntry(d, C, 1, ("0001", D));
        AssertEntry(d, C, 2, ("0010", F));
        AssertEntry(d, C, 3, ("1100", B));
        AssertEntry(d, C, 4, ("1100", B));
        // BIRT at B: BFR-id → neighbour.
        Assert.Equal([C], d.Routers[B].Birt[0][1]);
        Assert.Equal([E], d.Routers[B].Birt[0][3]);
        Assert.Equal([A], d.Routers[B].Birt[0][4]);
    }

    public static TheoryData<string, string[], int[]> Examples() => new()
    {
        // Ex. 1: to D.
        { "0001", ["A>B 0001", "B>C 0001", "C>D 0001"], [D] },
        // Ex. 2: to D and E.
        { "0101", ["A>B 0101", "B>C 0001", "B>E 0100", "C>D 0001"], [D, E] },
        // Derived: every BFER, A included (bit 4 is A's own).
        { "1111", ["A>B 0111", "B>C 0011", "B>E 0100", "C>D 0001", "C>F 0010"], [A, D, E, F] },
    };

    [Theory]
    [MemberData(nameof(Examples))]
    public void Forward_FromA_PacketOnEveryHopAsTheRfcShows(string bitString, string[] hops, int[] delivered)
    {
        var d = Fig1();
        var walk = BierWalk.Bier(d.Routers, d.Graph.LinkCount, A, Packets.Make(Packets.Bits(bitString)));
        var seen = walk.Hops.Select(h => $"{d.Graph.Name(h.From)}>{d.Graph.Name(h.To)} {Figure(h.Bits)}").Order().ToArray();
        Assert.Equal(hops.Order().ToArray(), seen);
        Assert.Equal(delivered.Order(), walk.Deliveries.Keys.Order());
        Assert.All(walk.Deliveries.Values, n => Assert.Equal(1, n));
        Assert.True(walk.MaxCopiesPerLink <= 1);
    }

    [Fact]
    public void Ecmp_Fig6_BHasBothPathsToFAndAPacketForDAndFGoesViaC()
    {
        var d = Fig1(withEf: true);
        // bier.md §1: bit 2 = {0011 via C | 0110 via E}, bit 3 = 0110 via E.
        AssertEntry(d, B, 2, ("0011", C), ("0110", E));
        AssertEntry(d, B, 3, ("0110", E));
        AssertEntry(d, B, 1, ("0011", C));
        for (uint entropy = 0; entropy < 4; entropy++)
        {
            // "any packet destined for both D and F will be sent via C", whatever the entropy.
            var both = BierWalk.Bier(d.Routers, d.Graph.LinkCount, B, Packets.Make(Packets.Bits("0011"), entropy: entropy));
            Assert.Equal(["B>C 0011", "C>D 0001", "C>F 0010"], both.Hops.Select(h => $"{d.Graph.Name(h.From)}>{d.Graph.Name(h.To)} {Figure(h.Bits)}").Order());
            // F alone: the entropy picks C or E; either way F gets exactly one copy.
            var toF = BierWalk.Bier(d.Routers, d.Graph.LinkCount, B, Packets.Make(Packets.Bits("0010"), entropy: entropy));
            Assert.Equal(entropy % 2 == 0 ? C : E, toF.Hops[0].To);
            Assert.Equal([F], toF.Deliveries.Keys);
            Assert.Equal(1, toF.Deliveries[F]);
        }
        // E and F via E in one copy (F-BM 0110 covers both).
        var ef = BierWalk.Bier(d.Routers, d.Graph.LinkCount, B, Packets.Make(Packets.Bits("0110"), entropy: 1));
        Assert.Equal("B>E 0110", $"{d.Graph.Name(ef.Hops[0].From)}>{d.Graph.Name(ef.Hops[0].To)} {Figure(ef.Hops[0].Bits)}");
        Assert.Equal([E, F], ef.Deliveries.Keys.Order());
    }

    [Fact]
    public void Forward_TwoSubDomainsAndTwoSis_EachUsesItsOwnBift()
    {
        // Same graph, sub-domain 1 with BSL 64 and ids past 64 (SI 1), sub-domain 2 with BSL 128.
        var g = Fig1().Graph;
        var sd1 = new BierSubDomain(1, BitStringLength.Bits64, new Dictionary<int, int> { [D] = 65, [F] = 2, [E] = 130 });
        var sd2 = new BierSubDomain(2, BitStringLength.Bits128, new Dictionary<int, int> { [D] = 3, [F] = 1 });
        var d = BierDomain.Build(g, [sd1, sd2], ecmp: false);
        Assert.Equal(4, d.Routers[A].Bifts.Count); // sd1: SI 0..2; sd2: SI 0
        var cases = new (int Sd, BitStringLength Bsl, int Si, int[] Bits, int Expected)[]
        {
            (1, BitStringLength.Bits64, 1, [1], D),     // id 65 = SI 1 bit 1
            (1, BitStringLength.Bits64, 0, [2], F),
            (1, BitStringLength.Bits64, 2, [2], E),     // id 130 = SI 2 bit 2
            (2, BitStringLength.Bits128, 0, [3], D),
            (2, BitStringLength.Bits128, 0, [1], F),
        };
        foreach (var (sd, bsl, si, bits, expected) in cases)
        {
            var walk = BierWalk.Bier(d.Routers, g.LinkCount, A, Packets.Make(BitString.Of(bsl, bits), sd, si));
            Assert.Equal([expected], walk.Deliveries.Keys);
        }
    }

    private static string Figure(BitString b) => string.Concat(Enumerable.Range(1, 4).Reverse().Select(k => b.IsSet(k) ? '1' : '0'));
}
