using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Bier.Encapsulation;

namespace SubsetMulticast.Bier.Tests.Encapsulation;

public sealed class BierHeaderTests
{
    // bier.md §3: built on 0xAB37 and decoded field by field by an independent dissector (eBIERpf's bier.lua on
    // tshark 4.0). Debian 12's tshark 4.0.17 has no BIER dissector of its own ("Type: Unknown (0xab37)"), and
    // Wireshark's (4.4+) registers only under MPLS, so this vector and the RFC examples are the external check.
    private const string ExternalVector = "12345140" + "503abcde" + "00040004" + "80" + "000000000000000000000000000000000000000000000000000000000000" + "05";

    [Fact]
    public void Read_ExternallyCheckedVector_DecodesFieldByFieldAndReencodesByteIdentically()
    {
        var bytes = Convert.FromHexString(ExternalVector);
        Assert.Equal(44, bytes.Length);
        Assert.Equal(BierHeaderStatus.Ok, BierHeader.Read(bytes, out var h));
        var f = h.Fields;
        Assert.Equal(0x12345u, f.BiftId);
        Assert.Equal(0, f.TrafficClass);
        Assert.True(f.BottomOfStack);
        Assert.Equal(64, f.Ttl);
        Assert.Equal(5, f.Nibble);
        Assert.Equal(0, f.Version);
        Assert.Equal(BitStringLength.Bits256, f.Bsl);
        Assert.Equal(0xABCDEu, f.Entropy);
        Assert.Equal(0, f.Oam);
        Assert.Equal(0, f.Reserved);
        Assert.Equal(0, f.Dscp);
        Assert.Equal(BierNextProtocol.Ipv4, f.NextProtocol);
        Assert.Equal(4, f.BfirId);
        Assert.Equal([1, 3, 256], BitString.FromWire(h.BitString).SetBits());
        Assert.Equal(44, h.Length);
        Assert.True(h.Payload.IsEmpty);

        var again = new byte[44];
        Assert.True(BierHeader.TryWrite(again, f, BitString.Of(BitStringLength.Bits256, 1, 3, 256).Words, out int written));
        Assert.Equal(44, written);
        Assert.Equal(ExternalVector, Convert.ToHexStringLower(again));
    }

    public static TheoryData<BitStringLength> Lengths() => [.. BitStringLengths.All];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void WriteThenRead_RandomFields_RoundTripsForEveryBsl(BitStringLength bsl)
    {
        var rng = new Random(8296 * (int)bsl);
        for (int round = 0; round < 100; round++)
        {
            var f = new BierHeaderFields((uint)rng.Next(1 << 20), (byte)rng.Next(8), rng.Next(2) == 1, (byte)rng.Next(256),
                5, 0, bsl, (uint)rng.Next(1 << 20), (byte)rng.Next(4), (byte)rng.Next(4), (byte)rng.Next(64),
                (BierNextProtocol)rng.Next(64), (ushort)rng.Next(65536));
            var bits = new BitString(bsl);
            for (int i = rng.Next(20); i > 0; i--) bits.Set(rng.Next(1, bsl.Bits() + 1));
            var payload = new byte[rng.Next(0, 40)];
            rng.NextBytes(payload);
            int length = BierHeader.LengthFor(bsl);
            // 0xFF everywhere first: a pad bit the writer forgot to clear would show.
            var buffer = Enumerable.Repeat((byte)0xFF, length + payload.Length + 3).ToArray();
            Assert.True(BierHeader.TryWrite(buffer, f, bits.Words, out int written));
            Assert.Equal(length, written);
            payload.CopyTo(buffer, length);
            Assert.Equal(BierHeaderStatus.Ok, BierHeader.Read(buffer.AsSpan(0, length + payload.Length), out var h));
            Assert.Equal(f, h.Fields);
            Assert.Equal(bits, BitString.FromWire(h.BitString));
            Assert.Equal(payload, h.Payload.ToArray());
            // The byte-array writer gives the same bytes as the word writer.
            var viaBytes = new byte[length];
            Assert.True(BierHeader.TryWrite(viaBytes, f, bits.ToWire(), out _));
            Assert.Equal(buffer.AsSpan(0, length).ToArray(), viaBytes);
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void TryWrite_OneByteShort_ReturnsFalseAndWritesNothing(BitStringLength bsl)
    {
        var f = BierHeaderFields.Create(1, bsl, 64, BierNextProtocol.Ipv6, 7);
        var dest = Enumerable.Repeat((byte)0xAA, BierHeader.LengthFor(bsl) - 1).ToArray();
        Assert.False(BierHeader.TryWrite(dest, f, new BitString(bsl).Words, out int written));
        Assert.Equal(0, written);
        Assert.All(dest, b => Assert.Equal(0xAA, b));
    }

    [Fact]
    public void Read_TruncatedAtEveryOffset_IsTruncatedNeverThrows()
    {
        var bytes = Convert.FromHexString(ExternalVector);
        for (int n = 0; n < bytes.Length; n++)
            Assert.Equal(BierHeaderStatus.Truncated, BierHeader.Read(bytes.AsSpan(0, n), out _));
        var ex = Assert.Throws<BierFormatException>(() => BierHeader.ReadOrThrow(bytes.AsSpan(0, 20)));
        Assert.Equal(20, ex.Offset);
    }

    [Theory]
    [InlineData(4, 0x403abcde, BierHeaderStatus.BadNibble, 4)]          // nibble 4 (an IPv4 packet behind the label)
    [InlineData(4, 0x603abcde, BierHeaderStatus.BadNibble, 4)]
    [InlineData(4, 0x513abcde, BierHeaderStatus.UnknownVersion, 4)]     // version 1
    [InlineData(4, 0x5f3abcde, BierHeaderStatus.UnknownVersion, 4)]
    [InlineData(4, 0x500abcde, BierHeaderStatus.ReservedBsl, 5)]        // BSL code 0 (VPP/scapy's 64: not RFC 8296)
    [InlineData(4, 0x508abcde, BierHeaderStatus.ReservedBsl, 5)]
    [InlineData(4, 0x50fabcde, BierHeaderStatus.ReservedBsl, 5)]
    public void Read_MalformedWord_NamesTheFieldAndOffset(int at, uint word, BierHeaderStatus expected, int offset)
    {
        var bytes = Convert.FromHexString(ExternalVector);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(at), word);
        Assert.Equal(expected, BierHeader.Read(bytes, out _));
        var ex = Assert.Throws<BierFormatException>(() => BierHeader.ReadOrThrow(bytes));
        Assert.Equal(expected, ex.Status);
        Assert.Equal(offset, ex.Offset);
    }

    [Fact]
    public void Read_RandomBytes_NeverThrows()
    {
        var rng = new Random(1);
        var buf = new byte[600];
        for (int i = 0; i < 20000; i++)
        {
            int n = rng.Next(buf.Length);
            rng.NextBytes(buf.AsSpan(0, n));
            if (rng.Next(2) == 0 && n > 4) buf[4] = (byte)(0x50 | rng.Next(16));
            var status = BierHeader.Read(buf.AsSpan(0, n), out var h);
            if (status == BierHeaderStatus.Ok) Assert.Equal(h.Fields.Bsl.Bytes(), h.BitString.Length);
        }
    }

    [Fact]
    public void CanonicalBiftId_IsBslSubDomainSi() =>
        Assert.Equal(0x30201u, BierFrame.CanonicalBiftId(BitStringLength.Bits256, 2, 1));
}

public sealed class BierFrameTests
{
    [Theory]
    [InlineData(false, 0xAB, 0x37)]
    [InlineData(true, 0x88, 0x47)]
    public void WriteEthernet_BothEncapsulations_HeaderFoundAfterTheEtherType(bool mpls, byte hi, byte lo)
    {
        var frame = new byte[BierFrame.EthernetLength + 44];
        int n = BierFrame.WriteEthernet(frame, SubsetMulticast.Core.Addressing.MacAddress.Broadcast, new SubsetMulticast.Core.Addressing.MacAddress(0x020000000001), mpls);
        Assert.Equal(14, n);
        Assert.Equal([hi, lo], frame[12..14]);
        // With MPLS the first word is the BIER label stack entry: label = BIFT-id, S = 1 (bottom of stack).
        var f = BierHeaderFields.Create(0x12345, BitStringLength.Bits256, 64, BierNextProtocol.Ipv4, 4, 0xABCDE);
        Assert.True(BierHeader.TryWrite(frame.AsSpan(n), f, BitString.Of(BitStringLength.Bits256, 1, 3, 256).Words, out _));
        Assert.True(BierFrame.TryGetHeader(frame, out var bier));
        Assert.Equal(BierHeaderStatus.Ok, BierHeader.Read(bier, out var h));
        Assert.Equal(f, h.Fields);
        frame[12] = 0x08; frame[13] = 0x00;   // IPv4: not BIER
        Assert.False(BierFrame.TryGetHeader(frame, out _));
        Assert.False(BierFrame.TryGetHeader(frame.AsSpan(0, 13), out _));
    }
}
