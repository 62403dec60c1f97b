using System.Buffers.Binary;
using System.Text;
using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.OpenFlow.Protocol;

/// <summary>
/// An OpenFlow 1.3 message. Encoding is symmetric with <see cref="Decode"/>: for every message this
/// codec produces, Decode(Encode(m)) re-encodes to the same bytes.
/// </summary>
public abstract record OfpMessage
{
    // A backing field the decoder sets once on the message it just built (before anyone sees it): the xid is
    // passed in rather than cloning every decoded message with `with { Xid }`.
    private uint _xid;
    public uint Xid { get => _xid; init => _xid = value; }
    public abstract OfpType Type { get; }
    public virtual byte Version => Ofp.Version13;
    protected abstract int BodyLength { get; }
    protected abstract void WriteBody(ref SpanWriter w);

    public int EncodedLength => Ofp.HeaderLength + BodyLength;

    /// <summary>False (writing nothing) when <paramref name="destination"/> is too small.</summary>
    public bool TryEncode(Span<byte> destination, out int written)
    {
        int length = EncodedLength;
        if (length > Ofp.MaxMessageLength) throw new InvalidOperationException($"{Type} would be {length} bytes; OpenFlow messages are at most 65535.");
        if (destination.Length < length) { written = 0; return false; }
        new OfpHeader(Version, Type, (ushort)length, Xid).WriteTo(destination);
        var w = new SpanWriter(destination[Ofp.HeaderLength..length]);
        WriteBody(ref w);
        if (w.Position != length - Ofp.HeaderLength) throw new InvalidOperationException($"{Type} wrote {w.Position} body bytes, measured {length - Ofp.HeaderLength}.");
        written = length;
        return true;
    }

    public byte[] ToArray()
    {
        var bytes = new byte[EncodedLength];
        TryEncode(bytes, out _);
        return bytes;
    }

    /// <summary>
    /// Reads one whole message from the front of <paramref name="buffer"/>. False only when more bytes
    /// are needed (then <paramref name="message"/> is null and <paramref name="consumed"/> 0).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> buffer, out OfpMessage? message, out int consumed)
    {
        message = null; consumed = 0;
        if (!OfpHeader.TryRead(buffer, out var h)) return false;
        if (h.Length < Ofp.HeaderLength) throw new OpenFlowFormatException($"header length {h.Length} is less than 8", 2);
        if (buffer.Length < h.Length) return false;
        message = DecodeOwned(buffer[..h.Length].ToArray());
        consumed = h.Length;
        return true;
    }

    /// <summary>Decodes exactly one message; <paramref name="message"/> must be exactly its length field long. Copies it once.</summary>
    public static OfpMessage Decode(ReadOnlySpan<byte> message) => DecodeOwned(message.ToArray());

    /// <summary>
    /// Decodes exactly one message that owns <paramref name="bytes"/> from now on: a PACKET_IN's frame is a slice of
    /// them, not a copy (the framer copies each message once out of the pipe, which reuses its memory).
    /// </summary>
    public static OfpMessage DecodeOwned(ReadOnlyMemory<byte> bytes)
    {
        var message = bytes.Span;
        var h = OfpHeader.Read(message);
        if (h.Length != message.Length)
            throw new OpenFlowFormatException($"header length {h.Length} but {message.Length} bytes given", 2);
        if (h.Type != OfpType.Hello && h.Version != Ofp.Version13)
            throw new OpenFlowFormatException($"version 0x{h.Version:x2} is not OpenFlow 1.3", 0);
        var r = new SpanReader(message[Ofp.HeaderLength..], Ofp.HeaderLength);
        OfpMessage m = h.Type switch
        {
            OfpType.Hello => HelloMessage.ReadBody(ref r, h.Version),
            OfpType.Error => ErrorMessage.ReadBody(ref r),
            OfpType.EchoRequest => new EchoRequest(r.Rest.ToArray()),
            OfpType.EchoReply => new EchoReply(r.Rest.ToArray()),
            OfpType.FeaturesRequest => new FeaturesRequest(),
            OfpType.FeaturesReply => FeaturesReply.ReadBody(ref r),
            OfpType.BarrierRequest => new BarrierRequest(),
            OfpType.BarrierReply => new BarrierReply(),
            OfpType.PortStatus => PortStatus.ReadBody(ref r),
            OfpType.PacketIn => PacketIn.ReadBody(ref r, bytes),
            OfpType.PacketOut => PacketOut.ReadBody(ref r),
            OfpType.FlowMod => FlowMod.ReadBody(ref r),
            OfpType.GroupMod => GroupMod.ReadBody(ref r),
            OfpType.MultipartRequest => MultipartRequest.ReadBody(ref r),
            OfpType.MultipartReply => MultipartReply.ReadBody(ref r),
            OfpType.RoleRequest => RoleRequest.ReadBody(ref r),
            OfpType.RoleReply => RoleReply.ReadBody(ref r),
            OfpType.SetAsync => SetAsync.ReadBody(ref r),
            OfpType.Experimenter => OfpBundle.ReadExperimenter(ref r, bytes, h.Xid),
            _ => new UnknownMessage(h.Type, h.Version, r.Rest.ToArray()),
        };
        if (h.Type is OfpType.FeaturesRequest or OfpType.BarrierRequest or OfpType.BarrierReply && r.Remaining != 0)
            throw new OpenFlowFormatException($"{h.Type} has a {r.Remaining}-byte body; it must be empty", Ofp.HeaderLength);
        m._xid = h.Xid;
        return m;
    }
}

/// <summary>
/// HELLO (spec §7.5.1) with elements <c>type u16 | length u16 | …</c> padded to 8; VERSIONBITMAP (1)
/// carries u32 bitmaps, bit n of word 0 = wire version n. Only the first bitmap word is kept.
/// </summary>
public sealed record HelloMessage(uint? VersionBitmap, byte HeaderVersion = Ofp.Version13) : OfpMessage
{
    public const uint Bitmap13 = 1u << Ofp.Version13;
    public override OfpType Type => OfpType.Hello;
    public override byte Version => HeaderVersion;
    protected override int BodyLength => VersionBitmap is null ? 0 : 8;
    protected override void WriteBody(ref SpanWriter w)
    {
        if (VersionBitmap is { } b) { w.U16(Ofp.HelloElemVersionBitmap); w.U16(8); w.U32(b); }
    }

    /// <summary>Does the peer accept 1.3? Bitmap when present, else the header version (spec §6.3.1).</summary>
    public bool Supports13 => VersionBitmap is { } b ? (b & Bitmap13) != 0 : HeaderVersion >= Ofp.Version13;

    internal static HelloMessage ReadBody(ref SpanReader r, byte version)
    {
        uint? bitmap = null;
        while (r.Remaining > 0)
        {
            int start = r.Offset;
            ushort type = r.U16("hello element");
            ushort len = r.U16("hello element");
            if (len < 4) throw new OpenFlowFormatException($"hello element length {len} is less than 4", start + 2);
            var body = r.Bytes(len - 4, "hello element");
            int pad = SpanWriter.Pad8(len) - len;
            r.Skip(Math.Min(pad, r.Remaining));
            if (type == Ofp.HelloElemVersionBitmap)
            {
                if (body.Length < 4 || body.Length % 4 != 0) throw new OpenFlowFormatException($"version bitmap of {body.Length} bytes", start + 4);
                bitmap ??= BinaryPrimitives.ReadUInt32BigEndian(body);
            }
        }
        return new HelloMessage(bitmap, version);
    }
}

/// <summary>ERROR (spec §7.4.4): <c>type u16 | code u16 | data</c>.</summary>
public sealed record ErrorMessage(ushort ErrorType, ushort Code, byte[] Data) : OfpMessage
{
    public override OfpType Type => OfpType.Error;
    protected override int BodyLength => 4 + Data.Length;
    protected override void WriteBody(ref SpanWriter w) { w.U16(ErrorType); w.U16(Code); w.Bytes(Data); }

    /// <summary>"GROUP_MOD_FAILED/GROUP_EXISTS"; an ONF bundle error (type EXPERIMENTER, experimenter ONF) as "BUNDLE_FAILED/MSG_FAILED".</summary>
    public string Name => IsOnfExperimenterError && OfpBundle.ErrorName(Code) is { } bundle ? bundle : OfpErrorNames.Name(ErrorType, Code);

    /// <summary>OF1.3 experimenter errors (type 0xFFFF) carry exp_code in the code field and the experimenter id before the data.</summary>
    private bool IsOnfExperimenterError => ErrorType == 0xFFFF && Data.Length >= 4 && System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(Data) == OfpBundle.OnfExperimenterId;

    /// <summary>The type of the message that failed, when the switch echoed its header (after the experimenter id for an experimenter error).</summary>
    public OfpType? FailedType => ErrorType == 0xFFFF ? (Data.Length >= 6 ? (OfpType)Data[5] : null) : Data.Length >= 2 ? (OfpType)Data[1] : null;

    internal static ErrorMessage ReadBody(ref SpanReader r) => new(r.U16("error type"), r.U16("error code"), r.Rest.ToArray());
    public override string ToString() => $"ERROR {Name} xid={Xid}";
}

public sealed record EchoRequest(byte[] Data) : OfpMessage
{
    public override OfpType Type => OfpType.EchoRequest;
    protected override int BodyLength => Data.Length;
    protected override void WriteBody(ref SpanWriter w) => w.Bytes(Data);
}

public sealed record EchoReply(byte[] Data) : OfpMessage
{
    public override OfpType Type => OfpType.EchoReply;
    protected override int BodyLength => Data.Length;
    protected override void WriteBody(ref SpanWriter w) => w.Bytes(Data);
}

public sealed record FeaturesRequest : OfpMessage
{
    public override OfpType Type => OfpType.FeaturesRequest;
    protected override int BodyLength => 0;
    protected override void WriteBody(ref SpanWriter w) { }
}

/// <summary>FEATURES_REPLY (spec §7.3.1): <c>datapath_id u64 | n_buffers u32 | n_tables u8 | auxiliary_id u8 | pad2 | capabilities u32 | reserved u32</c>.</summary>
public sealed record FeaturesReply(ulong DatapathId, uint NBuffers, byte NTables, byte AuxiliaryId, uint Capabilities) : OfpMessage
{
    public override OfpType Type => OfpType.FeaturesReply;
    protected override int BodyLength => 24;
    protected override void WriteBody(ref SpanWriter w)
    {
        w.U64(DatapathId); w.U32(NBuffers); w.U8(NTables); w.U8(AuxiliaryId); w.Zero(2); w.U32(Capabilities); w.U32(0);
    }

    internal static FeaturesReply ReadBody(ref SpanReader r)
    {
        if (r.Remaining != 24) throw new OpenFlowFormatException($"FEATURES_REPLY body is {r.Remaining} bytes, expected 24", r.Offset);
        ulong dpid = r.U64(); uint nb = r.U32(); byte nt = r.U8(); byte aux = r.U8(); r.Skip(2); uint caps = r.U32(); r.U32();
        return new FeaturesReply(dpid, nb, nt, aux, caps);
    }
}

public sealed record BarrierRequest : OfpMessage
{
    public override OfpType Type => OfpType.BarrierRequest;
    protected override int BodyLength => 0;
    protected override void WriteBody(ref SpanWriter w) { }
}

public sealed record BarrierReply : OfpMessage
{
    public override OfpType Type => OfpType.BarrierReply;
    protected override int BodyLength => 0;
    protected override void WriteBody(ref SpanWriter w) { }
}

/// <summary>
/// ofp_port (spec §7.2.1), 64 bytes: <c>port_no u32 | pad4 | hw_addr 6 | pad2 | name 16 | config | state |
/// curr | advertised | supported | peer | curr_speed | max_speed</c> (all u32).
/// </summary>
public sealed record OfpPort(uint PortNo, MacAddress HwAddr, string Name, uint Config = 0, uint State = 0,
    uint Curr = 0, uint Advertised = 0, uint Supported = 0, uint Peer = 0, uint CurrSpeed = 0, uint MaxSpeed = 0)
{
    public const int Length = 64;
    public const uint ConfigPortDown = 1;
    public const uint StateLinkDown = 1;

    public bool IsUp => (Config & ConfigPortDown) == 0 && (State & StateLinkDown) == 0;

    public void Write(ref SpanWriter w)
    {
        w.U32(PortNo); w.Zero(4);
        w.U16((ushort)(HwAddr.Value >> 32)); w.U32((uint)HwAddr.Value); w.Zero(2);
        Span<byte> name = stackalloc byte[16];
        name.Clear();
        Encoding.ASCII.GetBytes(Name.AsSpan(0, Math.Min(Name.Length, 15)), name);
        w.Bytes(name);
        w.U32(Config); w.U32(State); w.U32(Curr); w.U32(Advertised); w.U32(Supported); w.U32(Peer); w.U32(CurrSpeed); w.U32(MaxSpeed);
    }

    public static OfpPort Read(ref SpanReader r)
    {
        uint no = r.U32("port"); r.Skip(4, "port");
        var mac = MacAddress.Read(r.Bytes(6, "port")); r.Skip(2, "port");
        var nameBytes = r.Bytes(16, "port name");
        int nul = nameBytes.IndexOf((byte)0);
        string name = Encoding.ASCII.GetString(nul < 0 ? nameBytes : nameBytes[..nul]);
        return new OfpPort(no, mac, name, r.U32("port"), r.U32("port"), r.U32("port"), r.U32("port"), r.U32("port"), r.U32("port"), r.U32("port"), r.U32("port"));
    }
}

/// <summary>PORT_STATUS (spec §7.4.3): <c>reason u8 | pad7 | ofp_port</c>.</summary>
public sealed record PortStatus(PortStatusReason Reason, OfpPort Port) : OfpMessage
{
    public override OfpType Type => OfpType.PortStatus;
    protected override int BodyLength => 8 + OfpPort.Length;
    protected override void WriteBody(ref SpanWriter w) { w.U8((byte)Reason); w.Zero(7); Port.Write(ref w); }

    internal static PortStatus ReadBody(ref SpanReader r)
    {
        if (r.Remaining != 8 + OfpPort.Length) throw new OpenFlowFormatException($"PORT_STATUS body is {r.Remaining} bytes, expected 72", r.Offset);
        var reason = (PortStatusReason)r.U8(); r.Skip(7);
        return new PortStatus(reason, OfpPort.Read(ref r));
    }
}

/// <summary>PACKET_IN (spec §7.4.1): <c>buffer_id u32 | total_len u16 | reason u8 | table_id u8 | cookie u64 | match | pad2 | data</c>.</summary>
/// <remarks><see cref="Data"/> of a decoded PACKET_IN is a slice of the message's bytes (no copy per frame).</remarks>
public sealed record PacketIn(uint BufferId, ushort TotalLength, PacketInReason Reason, byte TableId, ulong Cookie, OfpMatch Match, ReadOnlyMemory<byte> Data) : OfpMessage
{
    public override OfpType Type => OfpType.PacketIn;
    protected override int BodyLength => 16 + Match.EncodedLength + 2 + Data.Length;
    protected override void WriteBody(ref SpanWriter w)
    {
        w.U32(BufferId); w.U16(TotalLength); w.U8((byte)Reason); w.U8(TableId); w.U64(Cookie);
        Match.Write(ref w); w.Zero(2); w.Bytes(Data.Span);
    }

    /// <param name="message">The whole message <paramref name="r"/> reads (its offsets are absolute in it).</param>
    internal static PacketIn ReadBody(ref SpanReader r, ReadOnlyMemory<byte> message)
    {
        uint buffer = r.U32("packet_in"); ushort total = r.U16("packet_in"); byte reason = r.U8("packet_in"); byte table = r.U8("packet_in");
        ulong cookie = r.U64("packet_in");
        var match = OfpMatch.Read(ref r);
        r.Skip(2, "packet_in padding");
        return new PacketIn(buffer, total, (PacketInReason)reason, table, cookie, match, message[r.Offset..]);
    }
}

/// <summary>PACKET_OUT (spec §7.3.7): <c>buffer_id u32 | in_port u32 | actions_len u16 | pad6 | actions | data</c>.</summary>
public sealed record PacketOut(uint BufferId, uint InPort, IReadOnlyList<OfpAction> Actions, byte[] Data) : OfpMessage
{
    public override OfpType Type => OfpType.PacketOut;
    protected override int BodyLength => 16 + OfpAction.LengthOf(Actions) + Data.Length;
    protected override void WriteBody(ref SpanWriter w)
    {
        w.U32(BufferId); w.U32(InPort); w.U16((ushort)OfpAction.LengthOf(Actions)); w.Zero(6);
        OfpAction.WriteAll(ref w, Actions); w.Bytes(Data);
    }

    internal static PacketOut ReadBody(ref SpanReader r)
    {
        uint buffer = r.U32("packet_out"); uint inPort = r.U32("packet_out");
        int lenAt = r.Offset;
        ushort actionsLen = r.U16("packet_out"); r.Skip(6, "packet_out");
        if (actionsLen > r.Remaining) throw new OpenFlowFormatException($"actions_len {actionsLen} exceeds the {r.Remaining} bytes that remain", lenAt);
        int at = r.Offset;
        var actions = OfpAction.ReadAll(r.Bytes(actionsLen), at);
        return new PacketOut(buffer, inPort, actions, r.Rest.ToArray());
    }
}

/// <summary>
/// FLOW_MOD (spec §7.3.4.1): <c>cookie u64 | cookie_mask u64 | table_id u8 | command u8 | idle u16 | hard u16 |
/// priority u16 | buffer_id u32 | out_port u32 | out_group u32 | flags u16 | pad2 | match | instructions</c>.
/// </summary>
public sealed record FlowMod(FlowModCommand Command, OfpMatch Match, IReadOnlyList<OfpInstruction> Instructions) : OfpMessage
{
    public ulong Cookie { get; init; }
    public ulong CookieMask { get; init; }
    public byte TableId { get; init; }
    public ushort IdleTimeout { get; init; }
    public ushort HardTimeout { get; init; }
    public ushort Priority { get; init; } = 0x8000;
    public uint BufferId { get; init; } = Ofp.NoBuffer;
    public uint OutPort { get; init; } = Ofp.PortAny;
    public uint OutGroup { get; init; } = Ofp.GroupAny;
    public ushort Flags { get; init; }

    public override OfpType Type => OfpType.FlowMod;
    protected override int BodyLength => 40 + Match.EncodedLength + OfpInstruction.LengthOf(Instructions);
    protected override void WriteBody(ref SpanWriter w)
    {
        w.U64(Cookie); w.U64(CookieMask); w.U8(TableId); w.U8((byte)Command); w.U16(IdleTimeout); w.U16(HardTimeout);
        w.U16(Priority); w.U32(BufferId); w.U32(OutPort); w.U32(OutGroup); w.U16(Flags); w.Zero(2);
        Match.Write(ref w);
        for (int i = 0; i < Instructions.Count; i++) Instructions[i].Write(ref w);
    }

    internal static FlowMod ReadBody(ref SpanReader r)
    {
        ulong cookie = r.U64("flow_mod"), mask = r.U64("flow_mod");
        byte table = r.U8("flow_mod"), command = r.U8("flow_mod");
        ushort idle = r.U16("flow_mod"), hard = r.U16("flow_mod"), prio = r.U16("flow_mod");
        uint buffer = r.U32("flow_mod"), outPort = r.U32("flow_mod"), outGroup = r.U32("flow_mod");
        ushort flags = r.U16("flow_mod"); r.Skip(2, "flow_mod");
        var match = OfpMatch.Read(ref r);
        int at = r.Offset;
        var instructions = OfpInstruction.ReadAll(r.Rest, at);
        return new FlowMod((FlowModCommand)command, match, instructions)
        {
            Cookie = cookie, CookieMask = mask, TableId = table, IdleTimeout = idle, HardTimeout = hard, Priority = prio,
            BufferId = buffer, OutPort = outPort, OutGroup = outGroup, Flags = flags,
        };
    }
}

/// <summary>GROUP_MOD (spec §7.3.4.2): <c>command u16 | type u8 | pad | group_id u32 | buckets</c>.</summary>
public sealed record GroupMod(GroupModCommand Command, GroupType GroupType, uint GroupId, IReadOnlyList<OfpBucket> Buckets) : OfpMessage
{
    public override OfpType Type => OfpType.GroupMod;
    protected override int BodyLength => 8 + OfpBucket.LengthOf(Buckets);
    protected override void WriteBody(ref SpanWriter w)
    {
        w.U16((ushort)Command); w.U8((byte)GroupType); w.U8(0); w.U32(GroupId);
        for (int i = 0; i < Buckets.Count; i++) Buckets[i].Write(ref w);
    }

    internal static GroupMod ReadBody(ref SpanReader r)
    {
        ushort command = r.U16("group_mod"); byte type = r.U8("group_mod"); r.Skip(1, "group_mod"); uint id = r.U32("group_mod");
        int at = r.Offset;
        return new GroupMod((GroupModCommand)command, (GroupType)type, id, OfpBucket.ReadAll(r.Rest, at));
    }
}

/// <summary>A message type this codec does not decode; the session decides what to do with it.</summary>
public sealed record UnknownMessage(OfpType RawType, byte RawVersion, byte[] Body) : OfpMessage
{
    public override OfpType Type => RawType;
    public override byte Version => RawVersion;
    protected override int BodyLength => Body.Length;
    protected override void WriteBody(ref SpanWriter w) => w.Bytes(Body);
}
