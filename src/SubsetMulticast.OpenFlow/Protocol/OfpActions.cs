using System.Buffers.Binary;

namespace SubsetMulticast.OpenFlow.Protocol;

/// <summary>
/// An action (spec §7.2.5): <c>type u16 | len u16 | body</c>, len a multiple of 8.
/// OUTPUT is <c>port u32 | max_len u16 | pad6</c> (16 B); GROUP is <c>group_id u32</c> (8 B).
/// Any other action is kept verbatim.
/// </summary>
public abstract record OfpAction
{
    public abstract int EncodedLength { get; }
    public abstract void Write(ref SpanWriter w);

    public static TlvEnumerator Enumerate(ReadOnlySpan<byte> actions, int baseOffset) =>
        new(actions, baseOffset, lengthOffset: 2, minLength: 8, alignment: 8, what: "action");

    public static OfpAction Read(ReadOnlySpan<byte> action, int offset)
    {
        var r = new SpanReader(action, offset);
        ushort type = r.U16();
        ushort len = r.U16();
        switch (type)
        {
            case Ofp.ActionOutput:
                if (len != 16) throw new OpenFlowFormatException($"OUTPUT action length {len}, expected 16", offset + 2);
                return new OutputAction(r.U32(), r.U16());
            case Ofp.ActionGroup:
                if (len != 8) throw new OpenFlowFormatException($"GROUP action length {len}, expected 8", offset + 2);
                return new GroupAction(r.U32());
            default:
                return new RawAction(type, action.ToArray());
        }
    }

    public static List<OfpAction> ReadAll(ReadOnlySpan<byte> actions, int baseOffset)
    {
        var list = new List<OfpAction>();
        var e = Enumerate(actions, baseOffset);
        while (e.MoveNext()) list.Add(Read(e.Current, e.CurrentOffset));
        return list;
    }

    public static int LengthOf(IReadOnlyList<OfpAction> actions)
    {
        int n = 0;
        // Index loops: foreach over an IReadOnlyList boxes an enumerator, on every message encoded.
        for (int i = 0; i < actions.Count; i++) n += actions[i].EncodedLength;
        return n;
    }

    public static void WriteAll(ref SpanWriter w, IReadOnlyList<OfpAction> actions)
    {
        for (int i = 0; i < actions.Count; i++) actions[i].Write(ref w);
    }
}

public sealed record OutputAction(uint Port, ushort MaxLength = 0) : OfpAction
{
    public override int EncodedLength => 16;
    public override void Write(ref SpanWriter w) { w.U16(Ofp.ActionOutput); w.U16(16); w.U32(Port); w.U16(MaxLength); w.Zero(6); }
    public override string ToString() => $"output:{Port}";
}

public sealed record GroupAction(uint GroupId) : OfpAction
{
    public override int EncodedLength => 8;
    public override void Write(ref SpanWriter w) { w.U16(Ofp.ActionGroup); w.U16(8); w.U32(GroupId); }
    public override string ToString() => $"group:{GroupId}";
}

/// <summary>An action this codec does not interpret; <see cref="Bytes"/> is the whole TLV.</summary>
public sealed record RawAction(ushort Type, byte[] Bytes) : OfpAction
{
    public override int EncodedLength => Bytes.Length;
    public override void Write(ref SpanWriter w) => w.Bytes(Bytes);
    public override string ToString() => $"action{Type}({Bytes.Length}B)";
}

/// <summary>
/// An instruction (spec §7.2.4): <c>type u16 | len u16 | …</c>. APPLY_ACTIONS carries
/// <c>pad4 | actions</c>; others are kept verbatim.
/// </summary>
public abstract record OfpInstruction
{
    public abstract int EncodedLength { get; }
    public abstract void Write(ref SpanWriter w);

    public static TlvEnumerator Enumerate(ReadOnlySpan<byte> instructions, int baseOffset) =>
        new(instructions, baseOffset, lengthOffset: 2, minLength: 8, alignment: 8, what: "instruction");

    public static List<OfpInstruction> ReadAll(ReadOnlySpan<byte> instructions, int baseOffset)
    {
        var list = new List<OfpInstruction>();
        var e = Enumerate(instructions, baseOffset);
        while (e.MoveNext())
        {
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(e.Current);
            list.Add(type == Ofp.InstructionApplyActions
                ? new ApplyActions(OfpAction.ReadAll(e.Current[8..], e.CurrentOffset + 8))
                : new RawInstruction(type, e.Current.ToArray()));
        }
        return list;
    }

    public static int LengthOf(IReadOnlyList<OfpInstruction> instructions)
    {
        int n = 0;
        for (int i = 0; i < instructions.Count; i++) n += instructions[i].EncodedLength;
        return n;
    }
}

public sealed record ApplyActions(IReadOnlyList<OfpAction> Actions) : OfpInstruction
{
    public override int EncodedLength => 8 + OfpAction.LengthOf(Actions);
    public override void Write(ref SpanWriter w)
    {
        w.U16(Ofp.InstructionApplyActions); w.U16((ushort)EncodedLength); w.Zero(4);
        OfpAction.WriteAll(ref w, Actions);
    }
    public bool Equals(ApplyActions? other) => other is not null && Actions.SequenceEqual(other.Actions);
    public override int GetHashCode() => Actions.Count;
    public override string ToString() => $"apply({string.Join(',', Actions)})";
}

public sealed record RawInstruction(ushort Type, byte[] Bytes) : OfpInstruction
{
    public override int EncodedLength => Bytes.Length;
    public override void Write(ref SpanWriter w) => w.Bytes(Bytes);
    public bool Equals(RawInstruction? other) => other is not null && Type == other.Type && Bytes.AsSpan().SequenceEqual(other.Bytes);
    public override int GetHashCode() => Type;
}

/// <summary>
/// A group bucket (spec §7.3.4.2): <c>len u16 | weight u16 | watch_port u32 | watch_group u32 | pad4 | actions</c>.
/// </summary>
public sealed record OfpBucket(IReadOnlyList<OfpAction> Actions, ushort Weight = 0, uint WatchPort = Ofp.PortAny, uint WatchGroup = Ofp.GroupAny)
{
    public const int HeaderLength = 16;
    public int EncodedLength => HeaderLength + OfpAction.LengthOf(Actions);

    public void Write(ref SpanWriter w)
    {
        w.U16((ushort)EncodedLength); w.U16(Weight); w.U32(WatchPort); w.U32(WatchGroup); w.Zero(4);
        OfpAction.WriteAll(ref w, Actions);
    }

    public static TlvEnumerator Enumerate(ReadOnlySpan<byte> buckets, int baseOffset) =>
        new(buckets, baseOffset, lengthOffset: 0, minLength: HeaderLength, alignment: 8, what: "bucket");

    public static List<OfpBucket> ReadAll(ReadOnlySpan<byte> buckets, int baseOffset)
    {
        var list = new List<OfpBucket>();
        var e = Enumerate(buckets, baseOffset);
        while (e.MoveNext())
        {
            var r = new SpanReader(e.Current, e.CurrentOffset);
            r.U16();
            ushort weight = r.U16();
            uint watchPort = r.U32(), watchGroup = r.U32();
            r.Skip(4);
            list.Add(new OfpBucket(OfpAction.ReadAll(r.Rest, r.Offset), weight, watchPort, watchGroup));
        }
        return list;
    }

    public static int LengthOf(IReadOnlyList<OfpBucket> buckets)
    {
        int n = 0;
        for (int i = 0; i < buckets.Count; i++) n += buckets[i].EncodedLength;
        return n;
    }

    public bool Equals(OfpBucket? other) => other is not null && Weight == other.Weight && WatchPort == other.WatchPort &&
        WatchGroup == other.WatchGroup && Actions.SequenceEqual(other.Actions);
    public override int GetHashCode() => HashCode.Combine(Weight, WatchPort, WatchGroup, Actions.Count);
    public override string ToString() => $"bucket({string.Join(',', Actions)})";
}
