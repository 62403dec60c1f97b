using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Transfer.Wire;

namespace SubsetMulticast.Transfer.Tests.Wire;

public sealed class CodecTests
{
    private static readonly byte[] Id = [.. Enumerable.Range(0, 32).Select(i => (byte)(0xA0 + i))];

    [Fact]
    public void Proposal_RoundTrip_AndKnownBytes()
    {
        var d = new byte[ProposalMessage.Length];
        Assert.Equal(54, ProposalMessage.Write(d, 0x0102030405060708, Id, 1 << 20, 3));
        Assert.Equal("54520101" + "0102030405060708", Convert.ToHexString(d[..12]));
        Assert.Equal("0000000000100000" + "03" + "00", Convert.ToHexString(d[44..]));
        Assert.Equal(ReadStatus.Ok, ProposalMessage.TryRead(d, out var m));
        Assert.Equal(0x0102030405060708UL, m.Transaction);
        Assert.Equal(1 << 20, m.Size);
        Assert.Equal(3, m.Replicas);
        Assert.True(m.ChunkId.SequenceEqual(Id));
    }

    [Fact]
    public void Bid_RoundTrip()
    {
        var d = new byte[BidMessage.Length];
        BidMessage.Write(d, 9, Id, 1500, 125_000_000, 1L << 40);
        Assert.Equal(ReadStatus.Ok, BidMessage.TryRead(d, out var m));
        Assert.Equal((9UL, 1500u, 125_000_000L, 1L << 40), (m.Transaction, m.StartDelayMicros, m.RateBytesPerSecond, m.FreeBytes));
    }

    [Fact]
    public void Rendezvous_RoundTrip_WithKeyAndMembers()
    {
        IpAddress[] members = [IpAddress.Parse("10.0.1.2"), IpAddress.Parse("10.0.2.3"), IpAddress.Parse("fd00::1:2")];
        var key = new byte[32];
        key[0] = 7;
        var d = new byte[RendezvousMessage.GetLength(32, 3)];
        int n = RendezvousMessage.Write(d, 5, Id, 3_000_000, IpAddress.Parse("239.255.0.4"), 1400, 8, 2, key, members);
        Assert.Equal(d.Length, n);
        Assert.Equal(ReadStatus.Ok, RendezvousMessage.TryRead(d, out var m));
        Assert.Equal(IpAddress.Parse("239.255.0.4"), m.Group);
        Assert.Equal((1400, 8, 2, 3), (m.DatagramPayload, m.FecRate, m.FecLayers, m.MemberCount));
        for (int i = 0; i < 3; i++) Assert.Equal(members[i], m.Member(i));
        Assert.Equal(2143, m.DatagramCount);
        Assert.Equal(7, m.Key[0]);
    }

    [Fact]
    public void Ack_RoundTrip_AndRejectsOverlappingRanges()
    {
        var d = new byte[AckMessage.FixedLength + 16];
        AckMessage.WriteFixed(d, MessageType.Ack, 1, 2, AckState.Receiving, 90);
        AckMessage.WriteRange(d, 0, 0, 40);
        AckMessage.WriteRange(d, 1, 50, 50);
        Assert.Equal(d.Length, AckMessage.Finish(d, 2, truncated: true));
        Assert.Equal(ReadStatus.Ok, AckMessage.TryRead(d, out var m));
        Assert.True(m.Truncated);
        Assert.Equal(((uint)50, (uint)50), m.Range(1));
        AckMessage.WriteRange(d, 1, 39, 5);        // overlaps the first range
        Assert.Equal(ReadStatus.OutOfRange, AckMessage.TryRead(d, out _));
        AckMessage.WriteRange(d, 1, 60, 0);        // empty range
        Assert.Equal(ReadStatus.OutOfRange, AckMessage.TryRead(d, out _));
    }

    public static TheoryData<string, byte[]> ValidMessages()
    {
        var data = new TheoryData<string, byte[]>();
        var p = new byte[ProposalMessage.Length]; ProposalMessage.Write(p, 1, Id, 10, 1); data.Add("proposal", p);
        var b = new byte[BidMessage.Length]; BidMessage.Write(b, 1, Id, 0, 1, 1); data.Add("bid", b);
        var c = new byte[ChunkMessage.Length]; ChunkMessage.Write(c, MessageType.Outcome, 1, Id, code: 1); data.Add("outcome", c);
        var r = new byte[RendezvousMessage.GetLength(16, 1)]; RendezvousMessage.Write(r, 1, Id, 10, IpAddress.Parse("239.255.0.1"), 1400, 4, 1, new byte[16], [IpAddress.Parse("10.0.0.1")]); data.Add("rendezvous", r);
        var a = new byte[AckMessage.FixedLength + 8]; AckMessage.WriteFixed(a, MessageType.Ack, 1, 0, 0, 3); AckMessage.WriteRange(a, 0, 0, 3); AckMessage.Finish(a, 1, false); data.Add("ack", a);
        var q = new byte[PollMessage.Length]; PollMessage.Write(q, 1, 4); data.Add("poll", q);
        return data;
    }

    /// <summary>Every prefix of a valid message is Truncated (never Ok with garbage, never an exception).</summary>
    [Theory]
    [MemberData(nameof(ValidMessages))]
    public void EveryTruncation_IsTruncated(string name, byte[] message)
    {
        for (int cut = 0; cut < message.Length; cut++)
        {
            var s = Read(message.AsSpan(0, cut));
            Assert.True(s is ReadStatus.Truncated, $"{name} cut at {cut}: {s}");
        }
        Assert.Equal(ReadStatus.Ok, Read(message));
    }

    /// <summary>Random bytes and bit flips of valid messages: every reader returns a status and never throws.</summary>
    [Theory]
    [MemberData(nameof(ValidMessages))]
    public void BitFlipsAndNoise_NeverThrow(string name, byte[] message)
    {
        var random = new Random(name.Length);
        for (int i = 0; i < 2000; i++)
        {
            var copy = (byte[])message.Clone();
            copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
            _ = Read(copy);
            var noise = new byte[random.Next(0, 200)];
            random.NextBytes(noise);
            if (noise.Length > 3) { noise[0] = 0x54; noise[1] = 0x52; noise[2] = 1; noise[3] = (byte)random.Next(1, 16); }
            _ = Read(noise);
        }
        Assert.Equal(ReadStatus.Ok, Read(message));
    }

    private static ReadStatus Read(ReadOnlySpan<byte> d)
    {
        var h = TransferHeader.TryRead(d, out var type, out _);
        if (h != ReadStatus.Ok) return h;
        return type switch
        {
            MessageType.Proposal => ProposalMessage.TryRead(d, out _),
            MessageType.Bid => BidMessage.TryRead(d, out _),
            MessageType.Rendezvous => RendezvousMessage.TryRead(d, out _),
            MessageType.Ack or MessageType.GetFetch => AckMessage.TryRead(d, out _),
            MessageType.Poll => PollMessage.TryRead(d, out _, out _),
            MessageType.Data or MessageType.Parity or MessageType.GetData => DataMessage.TryRead(d, out _),
            _ when ChunkMessage.IsChunkMessage(type) => ChunkMessage.TryRead(d, out _),
            _ => ReadStatus.NotOurs,
        };
    }
}
