using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.OpenFlow.Tests.Connections;

/// <summary>
/// A PACKET_IN handed from the framer to its handler as a view of the pipe's bytes: same fields as the owning decode,
/// the frame not copied (it is the buffer's own memory), nothing allocated per message, the same errors for hostile
/// bytes, and the owning message only when the handler asks for it.
/// </summary>
public sealed class PacketInViewTests
{
    private static PacketIn RandomPacketIn(Random rng)
    {
        var frame = new byte[rng.Next(0, 1600)];
        rng.NextBytes(frame);
        var match = new OfpMatch { InPort = rng.Next(2) == 0 ? null : (uint)rng.Next(1, 0xFF00) };
        if (rng.Next(3) == 0) match = match with { EthType = (ushort)rng.Next(0x600, 0xFFFF), VlanVid = (ushort)(0x1000 | rng.Next(0, 4095)) };
        if (rng.Next(4) == 0) match = match with { Ipv4Dst = (uint)rng.Next(), Ipv4DstMask = 0xFFFF_FF00 };
        return new PacketIn((uint)rng.Next(), (ushort)frame.Length, (PacketInReason)rng.Next(0, 3), (byte)rng.Next(0, 255),
            (ulong)rng.NextInt64(), match, frame) { Xid = (uint)rng.Next() };
    }

    [Fact]
    public void RandomPacketIns_ViewMatchesTheOwningDecode_InOneSegmentAndStraddlingTwo()
    {
        var rng = new Random(7_2026);
        for (int i = 0; i < 500; i++)
        {
            var bytes = RandomPacketIn(rng).ToArray();
            var owned = (PacketIn)OfpMessage.DecodeOwned(bytes.ToArray());
            int split = rng.Next(1, bytes.Length);
            foreach (var seq in new[] { new ReadOnlySequence<byte>(bytes), TwoSegments(bytes, split) })
            {
                var buffer = seq;
                PacketIn? seen = null;
                Assert.True(OpenFlowFramer.TryReadMessage(ref buffer, Ofp.MaxMessageLength, v =>
                {
                    Assert.Equal(owned.Match.InPort, v.InPort);
                    Assert.True(v.Data.SequenceEqual(owned.Data.Span));
                    seen = v.ToMessage();
                    return false;
                }, out var message));
                Assert.Null(message);                 // the handler did not ask for the owning message
                Assert.Equal(0, buffer.Length);
                Assert.Equal(bytes, seen!.ToArray()); // every field, the match's OXMs and the frame survive
            }
        }
    }

    [Fact]
    public void SingleSegment_FrameIsThePipesOwnMemory_AndTheOwningMessageOnlyOnRequest()
    {
        var sent = new PacketIn(Ofp.NoBuffer, 46, PacketInReason.Action, 0, 0x5342_0000_0000_0001, new OfpMatch { InPort = 3 }, new byte[46]) { Xid = 9 };
        var bytes = sent.ToArray();
        var buffer = new ReadOnlySequence<byte>(bytes);
        int offset = -1;
        Assert.True(OpenFlowFramer.TryReadMessage(ref buffer, Ofp.MaxMessageLength, v =>
        {
            offset = (int)Unsafe.ByteOffset(ref MemoryMarshal.GetArrayDataReference(bytes), ref MemoryMarshal.GetReference(v.Data));
            return true;
        }, out var message));
        Assert.Equal(bytes.Length - 46, offset);     // a slice of the buffer, not a copy
        var owned = Assert.IsType<PacketIn>(message);
        Assert.Equal(bytes, owned.ToArray());
        bytes[^1] = 0xEE;                             // the owning message has its own copy
        Assert.Equal(0, owned.Data.Span[^1]);
    }

    [Fact]
    public void FramingAPacketInAsAView_AllocatesNothing()
    {
        var bytes = new PacketIn(Ofp.NoBuffer, 46, PacketInReason.Action, 0, 1, new OfpMatch { InPort = 3 }, new byte[46]).ToArray();
        var wire = new ReadOnlySequence<byte>(bytes);
        long sum = 0;
        PacketInViewHandler handler = v => { sum += v.Data.Length + (v.InPort ?? 0); return false; };
        for (int i = 0; i < 100; i++) { var b = wire; OpenFlowFramer.TryReadMessage(ref b, Ofp.MaxMessageLength, handler, out _); }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++) { var b = wire; OpenFlowFramer.TryReadMessage(ref b, Ofp.MaxMessageLength, handler, out _); }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(10_100 * 49L, sum);
        // Per message: an object per PACKET_IN would be ≥ 24 B × 10,000; the runtime may allocate a few bytes once
        // (tiering) inside the measured loop, which is not the codec's.
        Assert.True(allocated < 10_000, $"{allocated} B for 10,000 PACKET_INs: {allocated / 10_000.0:0.##} B each");
    }

    [Fact]
    public void HostilePacketIns_ThrowTheCodecsError_AsTheOwningDecodeDoes()
    {
        var rng = new Random(7_0007);
        int rejected = 0;
        for (int i = 0; i < 2_000; i++)
        {
            var bytes = RandomPacketIn(rng).ToArray();
            // Damage the body (never the length field, so the framer still cuts the same message).
            for (int k = rng.Next(1, 4); k > 0; k--) bytes[rng.Next(8, Math.Min(bytes.Length, 48))] = (byte)rng.Next(256);
            Exception? ownedError = Record.Exception(() => OfpMessage.DecodeOwned(bytes.ToArray()));
            var buffer = new ReadOnlySequence<byte>(bytes);
            Exception? viewError = Record.Exception(() => OpenFlowFramer.TryReadMessage(ref buffer, Ofp.MaxMessageLength, _ => false, out _));
            Assert.Equal(ownedError?.GetType(), viewError?.GetType());
            if (viewError is not null) { Assert.IsType<OpenFlowFormatException>(viewError); rejected++; }
        }
        Assert.True(rejected > 100, $"only {rejected} of 2,000 damaged PACKET_INs were malformed");
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> m, Segment? prev) { Memory = m; if (prev is not null) { prev.Next = this; RunningIndex = prev.RunningIndex + prev.Memory.Length; } }
    }

    private static ReadOnlySequence<byte> TwoSegments(byte[] bytes, int split)
    {
        var first = new Segment(bytes.AsMemory(0, split), null);
        var second = new Segment(bytes.AsMemory(split), first);
        return new ReadOnlySequence<byte>(first, 0, second, bytes.Length - split);
    }
}
