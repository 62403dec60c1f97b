using System.Buffers;
using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.OpenFlow.Connections;

/// <summary>
/// Takes a PACKET_IN read in place (valid only during the call). Returns true when the decoded, owning
/// <see cref="PacketIn"/> is wanted as well (someone keeps messages), false when the view was all that was needed.
/// </summary>
public delegate bool PacketInViewHandler(PacketInView packetIn);

/// <summary>A session's (or listener's) handler of a PACKET_IN read in place (valid only during the call).</summary>
public delegate void PacketInViewAction(OpenFlowSession session, PacketInView packetIn);

/// <summary>Cuts whole OpenFlow messages off the front of a pipe buffer.</summary>
public static class OpenFlowFramer
{
    /// <summary>Larger PACKET_INs that straddle two pipe segments are copied to the heap instead of the stack.</summary>
    private const int MaxStackCopy = 2048;

    /// <summary>
    /// False until a whole message is buffered. The header's length is judged as soon as the 8 header
    /// bytes arrive: below 8 or above <paramref name="maxMessageLength"/> throws before the body is buffered.
    /// On success <paramref name="buffer"/> is advanced past the message.
    /// </summary>
    public static bool TryReadMessage(ref ReadOnlySequence<byte> buffer, int maxMessageLength, out OfpMessage? message) =>
        TryReadMessage(ref buffer, maxMessageLength, null, out message);

    /// <summary>
    /// As <see cref="TryReadMessage(ref ReadOnlySequence{byte}, int, out OfpMessage?)"/>, but with a
    /// <paramref name="packetIns"/> handler a PACKET_IN is not copied out of the pipe: the handler gets a
    /// <see cref="PacketInView"/> over the buffer's own bytes (a message straddling two segments is gathered on the
    /// stack), and <paramref name="message"/> is null unless the handler asks for the decoded message too. The
    /// buffer is advanced past the PACKET_IN either way, so the caller must not release the pipe's memory until the
    /// handler has returned (it runs inside this call).
    /// </summary>
    public static bool TryReadMessage(ref ReadOnlySequence<byte> buffer, int maxMessageLength, PacketInViewHandler? packetIns, out OfpMessage? message)
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
        var whole = buffer.Slice(0, header.Length);
        if (packetIns is not null && header.Type == OfpType.PacketIn)
        {
            bool owned;
            if (whole.IsSingleSegment) owned = packetIns(PacketInView.Read(whole.FirstSpan));
            else if (header.Length <= MaxStackCopy)
            {
                Span<byte> gathered = stackalloc byte[header.Length];
                whole.CopyTo(gathered);
                owned = packetIns(PacketInView.Read(gathered));
            }
            else owned = packetIns(PacketInView.Read(whole.ToArray()));
            if (owned) message = OfpMessage.DecodeOwned(whole.ToArray());
            buffer = buffer.Slice(header.Length);
            return true;
        }
        // One copy out of the pipe (which reuses its memory once we advance): the message owns these bytes, so a
        // PACKET_IN's frame is a slice of them and nothing is copied again.
        var bytes = new byte[header.Length];
        whole.CopyTo(bytes);
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
