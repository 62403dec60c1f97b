using System.Buffers;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.OpenFlow.Tests.Protocol;

namespace SubsetMulticast.OpenFlow.Tests.Connections;

public class FramerTests
{
    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> m, Segment? prev) { Memory = m; if (prev is not null) { prev.Next = this; RunningIndex = prev.RunningIndex + prev.Memory.Length; } }
    }

    /// <summary>Splits the bytes into 1-byte segments: the framer must reassemble across segments.</summary>
    private static ReadOnlySequence<byte> Fragmented(byte[] bytes)
    {
        Segment? first = null, last = null;
        foreach (var b in bytes) { last = new Segment(new[] { b }, last); first ??= last; }
        return new ReadOnlySequence<byte>(first!, 0, last!, 1);
    }

    [Fact]
    public void TryReadMessage_FragmentedStream_YieldsEachMessageOnce()
    {
        var all = Samples.All().SelectMany(m => m.ToArray()).ToArray();
        var seq = Fragmented(all);
        int n = 0;
        while (OpenFlowFramer.TryReadMessage(ref seq, Ofp.MaxMessageLength, out var m)) { Assert.NotNull(m); n++; }
        Assert.Equal(Samples.All().Count(), n);
        Assert.Equal(0, seq.Length);
    }

    [Fact]
    public void TryReadMessage_OversizeHeader_RejectedBeforeBody()
    {
        var seq = new ReadOnlySequence<byte>(Convert.FromHexString("0413FFFF00000001"));
        var ex = Assert.Throws<OpenFlowFormatException>(() => OpenFlowFramer.TryReadMessage(ref seq, 1024, out _));
        Assert.Contains("exceeds the limit", ex.Message);
    }

    [Fact]
    public void TryReadMessage_PartialMessage_ReturnsFalseAndConsumesNothing()
    {
        var bytes = new EchoRequest([1, 2, 3]).ToArray();
        var seq = new ReadOnlySequence<byte>(bytes[..^1]);
        Assert.False(OpenFlowFramer.TryReadMessage(ref seq, Ofp.MaxMessageLength, out var m));
        Assert.Null(m);
        Assert.Equal(bytes.Length - 1, seq.Length);
    }
}
