using System.Buffers.Binary;
using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Bier.Encapsulation;
using SubsetMulticast.Bier.Forwarding;
using SubsetMulticast.Bier.Routing;
using SubsetMulticast.Bier.Tests.Support;

namespace SubsetMulticast.Bier.Tests.Forwarding;

/// <summary>Every malformed or unforwardable packet is dropped with its reason counted; nothing throws.</summary>
public sealed class BadPacketTests
{
    // A–B–C with BFR-ids A = 1, C = 2 (BSL 64, SI 0 only); packets enter at B.
    private static (BierDomain Domain, BierRouter B) Line()
    {
        var g = new BierGraph();
        g.AddNode("A"); g.AddNode("B"); g.AddNode("C");
        g.AddLink(0, 1, 1, 1);
        g.AddLink(1, 2, 2, 1);
        var d = BierDomain.Build(g, [new BierSubDomain(0, BitStringLength.Bits64, new Dictionary<int, int> { [0] = 1, [2] = 2 })], ecmp: false);
        return (d, d.Routers[1]);
    }

    private static void AssertDropped(BierRouter r, byte[] packet, BierDropReason reason)
    {
        long before = r.Drops[reason];
        var v = r.Process(packet, new BierCopyList());
        Assert.Equal(reason, v.Dropped);
        Assert.Equal(0, v.Copies);
        Assert.False(v.DeliveredLocally);
        Assert.Equal(before + 1, r.Drops[reason]);
    }

    [Fact]
    public void Process_ValidPacket_ForwardsBothWaysAsControl()
    {
        var (_, b) = Line();
        var copies = new BierCopyList();
        var v = b.Process(Packets.Make(BitString.Of(BitStringLength.Bits64, 1, 2), ttl: 2), copies);
        Assert.Null(v.Dropped);
        Assert.Equal(2, v.Copies);
        Assert.Equal(0, b.Drops.Total);
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(BierHeaderStatus.Ok, BierHeader.Read(copies.Packet(i), out var h));
            Assert.Equal(1, h.Fields.Ttl);
            Assert.Equal(Packets.Payload, h.Payload.ToArray());
        }
    }

    [Theory]
    [InlineData(0x40, BierDropReason.BadNibble)]
    [InlineData(0x00, BierDropReason.BadNibble)]
    [InlineData(0x51, BierDropReason.UnknownVersion)]
    [InlineData(0x5F, BierDropReason.UnknownVersion)]
    public void Process_UnknownNibbleOrVersion_Dropped(byte nibbleAndVersion, BierDropReason reason)
    {
        var (_, b) = Line();
        var p = Packets.Make(BitString.Of(BitStringLength.Bits64, 2));
        p[4] = nibbleAndVersion;
        AssertDropped(b, p, reason);
    }

    [Fact]
    public void Process_ReservedBslCode_Dropped()
    {
        var (_, b) = Line();
        var p = Packets.Make(BitString.Of(BitStringLength.Bits64, 2));
        p[5] = (byte)(p[5] & 0x0F);   // code 0
        AssertDropped(b, p, BierDropReason.ReservedBsl);
    }

    [Fact]
    public void Process_BslNotMatchingTheBift_Dropped()
    {
        // The BIFT-id names (BSL 64, SD 0, SI 0) but the header carries a 128-bit BitString.
        var (_, b) = Line();
        var f = BierHeaderFields.Create(BierFrame.CanonicalBiftId(BitStringLength.Bits64, 0, 0), BitStringLength.Bits128, 64, BierNextProtocol.Ipv4, 1);
        var p = new byte[BierHeader.LengthFor(BitStringLength.Bits128)];
        Assert.True(BierHeader.TryWrite(p, f, BitString.Of(BitStringLength.Bits128, 2).Words, out _));
        AssertDropped(b, p, BierDropReason.BslMismatch);
    }

    [Fact]
    public void Process_UnknownBiftId_Dropped()
    {
        var (_, b) = Line();
        AssertDropped(b, Packets.Make(BitString.Of(BitStringLength.Bits64, 2), subDomain: 9), BierDropReason.UnknownBift);
    }

    [Fact]
    public void Process_Ttl0_Dropped()
    {
        var (_, b) = Line();
        AssertDropped(b, Packets.Make(BitString.Of(BitStringLength.Bits64, 2), ttl: 0), BierDropReason.TtlExpired);
    }

    [Fact]
    public void Process_Ttl1WithForeignBit_DroppedButLocalDeliveryStands()
    {
        var (d, b) = Line();
        AssertDropped(b, Packets.Make(BitString.Of(BitStringLength.Bits64, 2), ttl: 1), BierDropReason.TtlExpired);
        // At C (BFR-id 2) a TTL-1 packet for C alone is delivered: nothing has to go on.
        var c = d.Routers[2];
        var v = c.Process(Packets.Make(BitString.Of(BitStringLength.Bits64, 2), ttl: 1), new BierCopyList());
        Assert.True(v.DeliveredLocally);
        Assert.Null(v.Dropped);
        Assert.Equal(0, c.Drops.Total);
    }

    [Fact]
    public void Process_BitsForUnknownBfrIds_ClearedAndCounted()
    {
        var (_, b) = Line();
        // Only bits 5 and 40: nobody has them.
        AssertDropped(b, Packets.Make(BitString.Of(BitStringLength.Bits64, 5, 40)), BierDropReason.UnknownBfrId);
        // Mixed with a known bit: the known one goes on, with the unknown cleared, and the packet is counted once.
        var copies = new BierCopyList();
        var v = b.Process(Packets.Make(BitString.Of(BitStringLength.Bits64, 2, 5, 40)), copies);
        Assert.Equal(1, v.Copies);
        Assert.Equal(2, b.Drops[BierDropReason.UnknownBfrId]);
        BierHeader.Read(copies.Packet(0), out var h);
        Assert.Equal([2], BitString.FromWire(h.BitString).SetBits());
    }

    [Fact]
    public void Process_EmptyBitString_Dropped()
    {
        var (_, b) = Line();
        AssertDropped(b, Packets.Make(new BitString(BitStringLength.Bits64)), BierDropReason.EmptyBitString);
    }

    [Fact]
    public void Process_TruncatedAtEveryOffset_DroppedAsTruncated()
    {
        var (_, b) = Line();
        var p = Packets.Make(BitString.Of(BitStringLength.Bits64, 2));
        int header = BierHeader.LengthFor(BitStringLength.Bits64);
        for (int n = 0; n < header; n++) AssertDropped(b, p[..n], BierDropReason.Truncated);
        Assert.Equal(header, b.Drops[BierDropReason.Truncated]);
    }

    [Fact]
    public void Process_RandomMutations_NeverThrowAndEveryDropIsCounted()
    {
        var (d, _) = Line();
        var rng = new Random(11);
        var copies = new BierCopyList();
        var good = Packets.Make(BitString.Of(BitStringLength.Bits64, 1, 2));
        int dropped = 0;
        for (int i = 0; i < 20000; i++)
        {
            var p = (byte[])good.Clone();
            for (int f = rng.Next(1, 4); f > 0; f--) p[rng.Next(p.Length)] ^= (byte)(1 << rng.Next(8));
            var r = d.Routers[rng.Next(3)];
            long before = r.Drops.Total;
            var v = r.Process(p.AsSpan(0, rng.Next(p.Length + 1)), copies);
            if (v.Dropped is not null) { dropped++; Assert.True(r.Drops.Total > before); }
        }
        Assert.True(dropped > 0);
        // Two-sided: header fields the hot path reads without checks never exceed the BIFT.
        BinaryPrimitives.WriteUInt32BigEndian(good.AsSpan(0), 0xFFFFF140);
        AssertDropped(d.Routers[1], good, BierDropReason.UnknownBift);
    }
}
