using System.Buffers.Binary;

namespace SubsetMulticast.OpenFlow.Protocol;

/// <summary>
/// A PACKET_IN read in place: its fields, its match's OXM bytes and its frame are views of the message bytes (the
/// session's receive buffer), valid only while the handler it is given to runs. Reading one allocates nothing; a
/// consumer that keeps it calls <see cref="ToMessage"/>, which copies.
/// </summary>
public readonly ref struct PacketInView
{
    private readonly int _oxmOffset;

    private PacketInView(uint xid, uint bufferId, ushort totalLength, PacketInReason reason, byte tableId, ulong cookie,
        uint? inPort, ReadOnlySpan<byte> oxms, int oxmOffset, ReadOnlySpan<byte> data)
    {
        Xid = xid; BufferId = bufferId; TotalLength = totalLength; Reason = reason; TableId = tableId; Cookie = cookie;
        InPort = inPort; Oxms = oxms; _oxmOffset = oxmOffset; Data = data;
    }

    public uint Xid { get; }
    public uint BufferId { get; }
    public ushort TotalLength { get; }
    public PacketInReason Reason { get; }
    public byte TableId { get; }
    public ulong Cookie { get; }

    /// <summary>The match's OXM_OF_IN_PORT (unmasked, first one), as <see cref="OfpMatch.InPort"/> of the decoded message.</summary>
    public uint? InPort { get; }

    /// <summary>The match's OXM TLVs (without the match header and padding).</summary>
    public ReadOnlySpan<byte> Oxms { get; }

    /// <summary>The punted frame.</summary>
    public ReadOnlySpan<byte> Data { get; }

    /// <summary>
    /// Reads one whole PACKET_IN (<paramref name="message"/> exactly its length field long), with the same checks as
    /// <see cref="OfpMessage.DecodeOwned"/>: a malformed one throws <see cref="OpenFlowFormatException"/> with the offset.
    /// </summary>
    public static PacketInView Read(ReadOnlySpan<byte> message)
    {
        var h = OfpHeader.Read(message);
        if (h.Length != message.Length)
            throw new OpenFlowFormatException($"header length {h.Length} but {message.Length} bytes given", 2);
        if (h.Version != Ofp.Version13) throw new OpenFlowFormatException($"version 0x{h.Version:x2} is not OpenFlow 1.3", 0);
        if (h.Type != OfpType.PacketIn) throw new OpenFlowFormatException($"{h.Type} is not a PACKET_IN", 1);
        var r = new SpanReader(message[Ofp.HeaderLength..], Ofp.HeaderLength);
        uint buffer = r.U32("packet_in"); ushort total = r.U16("packet_in"); byte reason = r.U8("packet_in"); byte table = r.U8("packet_in");
        ulong cookie = r.U64("packet_in");
        // Sliced from the message again: the reader's result is scoped to the reader, the view lives as long as the message.
        int oxmLength = OfpMatch.ReadOxms(ref r, out int oxmOffset).Length;
        var oxms = message.Slice(oxmOffset, oxmLength);
        uint? inPort = null;
        // The enumerator validates every TLV (lengths, masks) as OfpMatch.FromOxms does, without building the match.
        foreach (var e in new OxmEnumerator(oxms, oxmOffset))
            if (inPort is null && e.IsBasic && !e.HasMask && (OxmField)e.Field == OxmField.InPort)
                inPort = BinaryPrimitives.ReadUInt32BigEndian(e.Value);
        r.Skip(2, "packet_in padding");
        return new PacketInView(h.Xid, buffer, total, (PacketInReason)reason, table, cookie, inPort, oxms, oxmOffset, message[r.Offset..]);
    }

    /// <summary>The decoded message, owning copies of the match and the frame (for consumers that keep it).</summary>
    public PacketIn ToMessage() =>
        new(BufferId, TotalLength, Reason, TableId, Cookie, OfpMatch.FromOxms(Oxms, _oxmOffset), Data.ToArray()) { Xid = Xid };
}
