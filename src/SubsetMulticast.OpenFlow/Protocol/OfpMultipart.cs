namespace SubsetMulticast.OpenFlow.Protocol;

/// <summary>MULTIPART_REQUEST (spec §7.3.5): <c>type u16 | flags u16 | pad4 | body</c>.</summary>
public abstract record MultipartRequest(ushort Flags) : OfpMessage
{
    public override OfpType Type => OfpType.MultipartRequest;
    public abstract MultipartType MultipartType { get; }
    protected abstract int RequestBodyLength { get; }
    protected abstract void WriteRequestBody(ref SpanWriter w);
    protected sealed override int BodyLength => 8 + RequestBodyLength;
    protected sealed override void WriteBody(ref SpanWriter w)
    {
        w.U16((ushort)MultipartType); w.U16(Flags); w.Zero(4);
        WriteRequestBody(ref w);
    }

    internal static MultipartRequest ReadBody(ref SpanReader r)
    {
        var type = (MultipartType)r.U16("multipart header"); ushort flags = r.U16("multipart header"); r.Skip(4, "multipart header");
        switch (type)
        {
            case MultipartType.PortDesc:
            case MultipartType.GroupDesc:
                if (r.Remaining != 0) throw new OpenFlowFormatException($"{type} request has a {r.Remaining}-byte body; it must be empty", r.Offset);
                return type == MultipartType.PortDesc ? new PortDescRequest() { } : new GroupDescRequest();
            case MultipartType.Group:
                { uint g = r.U32("group stats request"); r.Skip(4, "group stats request"); End(ref r); return new GroupStatsRequest(g); }
            case MultipartType.Flow:
                {
                    byte table = r.U8("flow stats request"); r.Skip(3, "flow stats request");
                    uint outPort = r.U32("flow stats request"), outGroup = r.U32("flow stats request"); r.Skip(4, "flow stats request");
                    ulong cookie = r.U64("flow stats request"), mask = r.U64("flow stats request");
                    var match = OfpMatch.Read(ref r);
                    End(ref r);
                    return new FlowStatsRequest(match) { TableId = table, OutPort = outPort, OutGroup = outGroup, Cookie = cookie, CookieMask = mask };
                }
            default:
                return new RawMultipartRequest(type, flags, r.Rest.ToArray());
        }
    }

    private static void End(ref SpanReader r)
    {
        if (r.Remaining != 0) throw new OpenFlowFormatException($"{r.Remaining} trailing bytes after multipart body", r.Offset);
    }
}

public sealed record PortDescRequest() : MultipartRequest(0)
{
    public override MultipartType MultipartType => MultipartType.PortDesc;
    protected override int RequestBodyLength => 0;
    protected override void WriteRequestBody(ref SpanWriter w) { }
}

public sealed record GroupDescRequest() : MultipartRequest(0)
{
    public override MultipartType MultipartType => MultipartType.GroupDesc;
    protected override int RequestBodyLength => 0;
    protected override void WriteRequestBody(ref SpanWriter w) { }
}

/// <summary>ofp_group_stats_request: <c>group_id u32 | pad4</c> (OFPG_ALL for every group).</summary>
public sealed record GroupStatsRequest(uint GroupId = Ofp.GroupAll) : MultipartRequest(0)
{
    public override MultipartType MultipartType => MultipartType.Group;
    protected override int RequestBodyLength => 8;
    protected override void WriteRequestBody(ref SpanWriter w) { w.U32(GroupId); w.Zero(4); }
}

/// <summary>ofp_flow_stats_request: <c>table_id u8 | pad3 | out_port u32 | out_group u32 | pad4 | cookie u64 | cookie_mask u64 | match</c>.</summary>
public sealed record FlowStatsRequest(OfpMatch Match) : MultipartRequest(0)
{
    public const byte AllTables = 0xFF;
    public byte TableId { get; init; } = AllTables;
    public uint OutPort { get; init; } = Ofp.PortAny;
    public uint OutGroup { get; init; } = Ofp.GroupAny;
    public ulong Cookie { get; init; }
    public ulong CookieMask { get; init; }

    public override MultipartType MultipartType => MultipartType.Flow;
    protected override int RequestBodyLength => 32 + Match.EncodedLength;
    protected override void WriteRequestBody(ref SpanWriter w)
    {
        w.U8(TableId); w.Zero(3); w.U32(OutPort); w.U32(OutGroup); w.Zero(4); w.U64(Cookie); w.U64(CookieMask);
        Match.Write(ref w);
    }
}

public sealed record RawMultipartRequest(MultipartType RawMultipartType, ushort RawFlags, byte[] Body) : MultipartRequest(RawFlags)
{
    public override MultipartType MultipartType => RawMultipartType;
    protected override int RequestBodyLength => Body.Length;
    protected override void WriteRequestBody(ref SpanWriter w) => w.Bytes(Body);
}

/// <summary>MULTIPART_REPLY (spec §7.3.5): <c>type u16 | flags u16 | pad4 | body</c>; flag REPLY_MORE = 1.</summary>
public abstract record MultipartReply(ushort Flags) : OfpMessage
{
    public override OfpType Type => OfpType.MultipartReply;
    public abstract MultipartType MultipartType { get; }
    public bool More => (Flags & Ofp.MultipartMore) != 0;
    protected abstract int ReplyBodyLength { get; }
    protected abstract void WriteReplyBody(ref SpanWriter w);
    protected sealed override int BodyLength => 8 + ReplyBodyLength;
    protected sealed override void WriteBody(ref SpanWriter w)
    {
        w.U16((ushort)MultipartType); w.U16(Flags); w.Zero(4);
        WriteReplyBody(ref w);
    }

    internal static MultipartReply ReadBody(ref SpanReader r)
    {
        var type = (MultipartType)r.U16("multipart header"); ushort flags = r.U16("multipart header"); r.Skip(4, "multipart header");
        int at = r.Offset;
        var body = r.Rest;
        switch (type)
        {
            case MultipartType.PortDesc:
                {
                    if (body.Length % OfpPort.Length != 0) throw new OpenFlowFormatException($"port description body of {body.Length} bytes is not a multiple of 64", at);
                    var ports = new List<OfpPort>(body.Length / OfpPort.Length);
                    while (r.Remaining > 0) ports.Add(OfpPort.Read(ref r));
                    return new PortDescReply(ports, flags);
                }
            case MultipartType.Flow:
                {
                    var list = new List<FlowStatsEntry>();
                    var e = FlowStatsEntry.Enumerate(body, at);
                    while (e.MoveNext()) list.Add(FlowStatsEntry.Read(e.Current, e.CurrentOffset));
                    return new FlowStatsReply(list, flags);
                }
            case MultipartType.GroupDesc:
                {
                    var list = new List<GroupDescEntry>();
                    var e = GroupDescEntry.Enumerate(body, at);
                    while (e.MoveNext()) list.Add(GroupDescEntry.Read(e.Current, e.CurrentOffset));
                    return new GroupDescReply(list, flags);
                }
            case MultipartType.Group:
                {
                    var list = new List<GroupStatsEntry>();
                    var e = GroupStatsEntry.Enumerate(body, at);
                    while (e.MoveNext()) list.Add(GroupStatsEntry.Read(e.Current, e.CurrentOffset));
                    return new GroupStatsReply(list, flags);
                }
            default:
                return new RawMultipartReply(type, flags, body.ToArray());
        }
    }
}

public sealed record PortDescReply(IReadOnlyList<OfpPort> Ports, ushort ReplyFlags = 0) : MultipartReply(ReplyFlags)
{
    public override MultipartType MultipartType => MultipartType.PortDesc;
    protected override int ReplyBodyLength => Ports.Count * OfpPort.Length;
    protected override void WriteReplyBody(ref SpanWriter w) { foreach (var p in Ports) p.Write(ref w); }
}

public sealed record FlowStatsReply(IReadOnlyList<FlowStatsEntry> Entries, ushort ReplyFlags = 0) : MultipartReply(ReplyFlags)
{
    public override MultipartType MultipartType => MultipartType.Flow;
    protected override int ReplyBodyLength => Entries.Sum(e => e.EncodedLength);
    protected override void WriteReplyBody(ref SpanWriter w) { foreach (var e in Entries) e.Write(ref w); }
}

public sealed record GroupDescReply(IReadOnlyList<GroupDescEntry> Entries, ushort ReplyFlags = 0) : MultipartReply(ReplyFlags)
{
    public override MultipartType MultipartType => MultipartType.GroupDesc;
    protected override int ReplyBodyLength => Entries.Sum(e => e.EncodedLength);
    protected override void WriteReplyBody(ref SpanWriter w) { foreach (var e in Entries) e.Write(ref w); }
}

public sealed record GroupStatsReply(IReadOnlyList<GroupStatsEntry> Entries, ushort ReplyFlags = 0) : MultipartReply(ReplyFlags)
{
    public override MultipartType MultipartType => MultipartType.Group;
    protected override int ReplyBodyLength => Entries.Sum(e => e.EncodedLength);
    protected override void WriteReplyBody(ref SpanWriter w) { foreach (var e in Entries) e.Write(ref w); }
}

public sealed record RawMultipartReply(MultipartType RawMultipartType, ushort RawFlags, byte[] Body) : MultipartReply(RawFlags)
{
    public override MultipartType MultipartType => RawMultipartType;
    protected override int ReplyBodyLength => Body.Length;
    protected override void WriteReplyBody(ref SpanWriter w) => w.Bytes(Body);
}

/// <summary>
/// ofp_flow_stats: <c>length u16 | table_id u8 | pad | duration_sec u32 | duration_nsec u32 | priority u16 |
/// idle u16 | hard u16 | flags u16 | pad4 | cookie u64 | packet_count u64 | byte_count u64 | match | instructions</c>.
/// </summary>
public sealed record FlowStatsEntry(byte TableId, ushort Priority, ulong Cookie, OfpMatch Match, IReadOnlyList<OfpInstruction> Instructions)
{
    public const int FixedLength = 48;
    public uint DurationSec { get; init; }
    public uint DurationNsec { get; init; }
    public ushort IdleTimeout { get; init; }
    public ushort HardTimeout { get; init; }
    public ushort Flags { get; init; }
    public ulong PacketCount { get; init; }
    public ulong ByteCount { get; init; }

    public int EncodedLength => FixedLength + Match.EncodedLength + OfpInstruction.LengthOf(Instructions);

    public static TlvEnumerator Enumerate(ReadOnlySpan<byte> body, int baseOffset) =>
        new(body, baseOffset, lengthOffset: 0, minLength: FixedLength + 8, alignment: 8, what: "flow stats entry");

    public void Write(ref SpanWriter w)
    {
        w.U16((ushort)EncodedLength); w.U8(TableId); w.Zero(1); w.U32(DurationSec); w.U32(DurationNsec);
        w.U16(Priority); w.U16(IdleTimeout); w.U16(HardTimeout); w.U16(Flags); w.Zero(4);
        w.U64(Cookie); w.U64(PacketCount); w.U64(ByteCount);
        Match.Write(ref w);
        foreach (var i in Instructions) i.Write(ref w);
    }

    public static FlowStatsEntry Read(ReadOnlySpan<byte> entry, int offset)
    {
        var r = new SpanReader(entry, offset);
        r.U16(); byte table = r.U8(); r.Skip(1);
        uint ds = r.U32(), dn = r.U32();
        ushort prio = r.U16(), idle = r.U16(), hard = r.U16(), flags = r.U16(); r.Skip(4);
        ulong cookie = r.U64(), packets = r.U64(), bytes = r.U64();
        var match = OfpMatch.Read(ref r);
        var instructions = OfpInstruction.ReadAll(r.Rest, r.Offset);
        return new FlowStatsEntry(table, prio, cookie, match, instructions)
        {
            DurationSec = ds, DurationNsec = dn, IdleTimeout = idle, HardTimeout = hard, Flags = flags, PacketCount = packets, ByteCount = bytes,
        };
    }
}

/// <summary>ofp_group_desc: <c>length u16 | type u8 | pad | group_id u32 | buckets</c>.</summary>
public sealed record GroupDescEntry(GroupType GroupType, uint GroupId, IReadOnlyList<OfpBucket> Buckets)
{
    public int EncodedLength => 8 + OfpBucket.LengthOf(Buckets);

    public static TlvEnumerator Enumerate(ReadOnlySpan<byte> body, int baseOffset) =>
        new(body, baseOffset, lengthOffset: 0, minLength: 8, alignment: 8, what: "group desc entry");

    public void Write(ref SpanWriter w)
    {
        w.U16((ushort)EncodedLength); w.U8((byte)GroupType); w.Zero(1); w.U32(GroupId);
        foreach (var b in Buckets) b.Write(ref w);
    }

    public static GroupDescEntry Read(ReadOnlySpan<byte> entry, int offset)
    {
        var r = new SpanReader(entry, offset);
        r.U16(); byte type = r.U8(); r.Skip(1); uint id = r.U32();
        return new GroupDescEntry((GroupType)type, id, OfpBucket.ReadAll(r.Rest, r.Offset));
    }
}

/// <summary>
/// ofp_group_stats: <c>length u16 | pad2 | group_id u32 | ref_count u32 | pad4 | packet_count u64 | byte_count u64 |
/// duration_sec u32 | duration_nsec u32 | bucket_stats[] (packet_count u64 | byte_count u64)</c>.
/// </summary>
public sealed record GroupStatsEntry(uint GroupId, uint RefCount, ulong PacketCount, ulong ByteCount, IReadOnlyList<(ulong Packets, ulong Bytes)> BucketStats)
{
    public const int FixedLength = 40;
    public uint DurationSec { get; init; }
    public uint DurationNsec { get; init; }
    public int EncodedLength => FixedLength + 16 * BucketStats.Count;

    public static TlvEnumerator Enumerate(ReadOnlySpan<byte> body, int baseOffset) =>
        new(body, baseOffset, lengthOffset: 0, minLength: FixedLength, alignment: 8, what: "group stats entry");

    public void Write(ref SpanWriter w)
    {
        w.U16((ushort)EncodedLength); w.Zero(2); w.U32(GroupId); w.U32(RefCount); w.Zero(4);
        w.U64(PacketCount); w.U64(ByteCount); w.U32(DurationSec); w.U32(DurationNsec);
        foreach (var (p, b) in BucketStats) { w.U64(p); w.U64(b); }
    }

    public static GroupStatsEntry Read(ReadOnlySpan<byte> entry, int offset)
    {
        if ((entry.Length - FixedLength) % 16 != 0)
            throw new OpenFlowFormatException($"group stats entry length {entry.Length} leaves a partial bucket counter", offset);
        var r = new SpanReader(entry, offset);
        r.U16(); r.Skip(2); uint id = r.U32(), refs = r.U32(); r.Skip(4);
        ulong packets = r.U64(), bytes = r.U64(); uint ds = r.U32(), dn = r.U32();
        var buckets = new List<(ulong, ulong)>();
        while (r.Remaining > 0) buckets.Add((r.U64(), r.U64()));
        return new GroupStatsEntry(id, refs, packets, bytes, buckets) { DurationSec = ds, DurationNsec = dn };
    }
}
