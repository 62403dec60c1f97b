using System.Buffers;
using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.OpenFlow.Connections;

/// <summary>Cuts whole OpenFlow messages off the front of a pipe buffer.</summary>
public static class OpenFlowFramer
{
    /// <summary>
    /// False until a whole message is buffered. The header's length is judged as soon as the 8 header
    /// bytes arrive: below 8 or above <paramref name="maxMessageLength"/> throws before the body is buffered.
    /// On success <paramref name="buffer"/> is advanced past the message.
    /// </summary>
    public static bool TryReadMessage(ref ReadOnlySequence<byte> buffer, int maxMessageLength, out OfpMessage? message)
    {
        message = null;
        if (buffer.Length < Ofp.HeaderLength) return false;
        Span<byte> headerBytes = stackalloc byte[Ofp.HeaderLength];
        buffer.Slice(0, Ofp.HeaderLength).CopyTo(headerBytes);
        OfpHeader.TryRead(headerBytes, out var header);
        if (header.Length < Ofp.HeaderLength)
            throw new OpenFlowFormatException($"header length {header.Length} is less than 8", 2);
        if (header.Length > maxMessageLength)
            throw new OpenFlowFormatException($"header length {header.Length} exceeds the limit of {maxMessageLength}", 2);
        if (buffer.Length < header.Length) return false;
        // One copy out of the pipe (which reuses its memory once we advance): the message owns these bytes, so a
        // PACKET_IN's frame is a slice of them and nothing is copied again.
        var bytes = new byte[header.Length];
        buffer.Slice(0, header.Length).CopyTo(bytes);
        message = OfpMessage.DecodeOwned(bytes);
        buffer = buffer.Slice(header.Length);
        return true;
    }

    /// <summary>
    /// True (advancing <paramref name="buffer"/> past it) when the next message is a bodiless OpenFlow 1.3
    /// BARRIER_REPLY: read from its 8 header bytes, nothing allocated. False leaves the buffer as it was.
    /// </summary>
    public static bool TryReadBarrierReply(ref ReadOnlySequence<byte> buffer, out uint xid)
    {
        xid = 0;
        if (buffer.Length < Ofp.HeaderLength) return false;
        Span<byte> h = stackalloc byte[Ofp.HeaderLength];
        buffer.Slice(0, Ofp.HeaderLength).CopyTo(h);
        if (h[0] != Ofp.Version13 || h[1] != (byte)OfpType.BarrierReply || h[2] != 0 || h[3] != Ofp.HeaderLength) return false;
        xid = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(h[4..]);
        buffer = buffer.Slice(Ofp.HeaderLength);
        return true;
    }
}
