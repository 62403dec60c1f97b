namespace SubsetMulticast.OpenFlow.Protocol;

/// <summary>
/// ONF bundles over OpenFlow 1.3 (ONF extension 230, as Open vSwitch implements it in <c>lib/ofp-bundle.c</c>): an
/// OFPT_EXPERIMENTER message with experimenter <see cref="OnfExperimenterId"/> carrying the OpenFlow 1.4 bundle
/// structures. A controller opens a bundle, adds messages to it and commits it: the switch applies all of them or
/// none (ATOMIC), in order (ORDERED), and forwards on its old tables until the commit.
/// <code>
/// ofp_experimenter_header:  header(type 4) | experimenter u32 | exp_type u32
/// BUNDLE_CONTROL (2300):    bundle_id u32 | type u16 | flags u16                      (24 bytes in all)
/// BUNDLE_ADD_MESSAGE (2301): bundle_id u32 | pad u16 | flags u16 | the whole inner message (its xid = the outer xid)
/// </code>
/// </summary>
public static class OfpBundle
{
    /// <summary>ONF's experimenter id (OUI 0x4F4E46, "ONF").</summary>
    public const uint OnfExperimenterId = 0x4F4E_4600;
    public const uint ControlExpType = 2300;
    public const uint AddMessageExpType = 2301;

    /// <summary>ofp_experimenter_header after the common header: experimenter + exp_type.</summary>
    public const int ExperimenterHeaderLength = 8;

    /// <summary>Where a BUNDLE_ADD_MESSAGE's inner message starts: header, experimenter header, bundle id, pad, flags.</summary>
    public const int AddInnerOffset = Ofp.HeaderLength + ExperimenterHeaderLength + 8;

    public const ushort FlagAtomic = 1;
    public const ushort FlagOrdered = 2;

    /// <summary>ONF experimenter error codes (OF1.3 encoding: type 0xFFFF, exp_code 2300 + n, experimenter ONF).</summary>
    private static readonly string[] ErrorNames =
    [
        "UNKNOWN", "EPERM", "BAD_ID", "BUNDLE_EXIST", "BUNDLE_CLOSED", "OUT_OF_BUNDLES", "BAD_TYPE", "BAD_FLAGS",
        "MSG_BAD_LEN", "MSG_BAD_XID", "MSG_UNSUP", "MSG_CONFLICT", "MSG_TOO_MANY", "MSG_FAILED", "TIMEOUT", "BUNDLE_IN_PROGRESS",
    ];

    /// <summary>"BUNDLE_FAILED/MSG_FAILED" for an ONF bundle error code, null for anything else.</summary>
    public static string? ErrorName(ushort expCode) =>
        expCode >= ControlExpType && expCode - ControlExpType < ErrorNames.Length ? "BUNDLE_FAILED/" + ErrorNames[expCode - ControlExpType] : null;

    /// <summary>Decodes the body of an OFPT_EXPERIMENTER message (<paramref name="r"/> after the common header).</summary>
    internal static OfpMessage ReadExperimenter(ref SpanReader r, ReadOnlyMemory<byte> message, uint outerXid)
    {
        uint experimenter = r.U32("experimenter");
        uint expType = r.U32("experimenter exp_type");
        if (experimenter != OnfExperimenterId || expType is not (ControlExpType or AddMessageExpType))
            return new ExperimenterMessage(experimenter, expType, r.Rest.ToArray());
        if (expType == ControlExpType)
        {
            if (r.Remaining != 8) throw new OpenFlowFormatException($"BUNDLE_CONTROL body is {r.Remaining} bytes after the experimenter header, expected 8", r.Offset);
            uint id = r.U32("bundle_ctrl"); ushort type = r.U16("bundle_ctrl"); ushort flags = r.U16("bundle_ctrl");
            return new BundleControl(id, (BundleControlType)type, flags);
        }
        uint bundle = r.U32("bundle_add"); r.Skip(2, "bundle_add padding"); ushort addFlags = r.U16("bundle_add");
        int innerAt = r.Offset;
        if (!OfpHeader.TryRead(r.Rest, out var inner)) throw new OpenFlowFormatException("BUNDLE_ADD_MESSAGE holds no whole inner header", innerAt);
        if (inner.Length != r.Remaining)
            throw new OpenFlowFormatException($"BUNDLE_ADD_MESSAGE inner length {inner.Length} but {r.Remaining} bytes follow", innerAt + 2);
        // OVS answers OFPBFC_MSG_BAD_XID; a message we decode must be one the switch would take.
        if (inner.Xid != outerXid) throw new OpenFlowFormatException($"BUNDLE_ADD_MESSAGE inner xid {inner.Xid} differs from the outer xid {outerXid}", innerAt + 4);
        if (inner.Type == OfpType.Experimenter) throw new OpenFlowFormatException("BUNDLE_ADD_MESSAGE nests an experimenter message", innerAt + 1);
        var innerMessage = OfpMessage.DecodeOwned(message[innerAt..]);
        return new BundleAdd(bundle, addFlags, innerMessage);
    }
}

/// <summary>enum ofp_bundle_ctrl_type (OpenFlow 1.4 §7.3.9.1).</summary>
public enum BundleControlType : ushort
{
    OpenRequest = 0, OpenReply = 1, CloseRequest = 2, CloseReply = 3,
    CommitRequest = 4, CommitReply = 5, DiscardRequest = 6, DiscardReply = 7,
}

/// <summary>ONFT_BUNDLE_CONTROL: opens, closes, commits or discards bundle <paramref name="BundleId"/>; the switch answers with the *_REPLY type and the same xid.</summary>
public sealed record BundleControl(uint BundleId, BundleControlType ControlType, ushort Flags) : OfpMessage
{
    public override OfpType Type => OfpType.Experimenter;
    protected override int BodyLength => OfpBundle.ExperimenterHeaderLength + 8;
    protected override void WriteBody(ref SpanWriter w)
    {
        w.U32(OfpBundle.OnfExperimenterId); w.U32(OfpBundle.ControlExpType);
        w.U32(BundleId); w.U16((ushort)ControlType); w.U16(Flags);
    }
}

/// <summary>
/// ONFT_BUNDLE_ADD_MESSAGE: <paramref name="Inner"/> goes into bundle <paramref name="BundleId"/>. The inner message is
/// written with this message's xid (the switch refuses any other with MSG_BAD_XID), so an ERROR for it names ours.
/// </summary>
public sealed record BundleAdd(uint BundleId, ushort Flags, OfpMessage Inner) : OfpMessage
{
    public override OfpType Type => OfpType.Experimenter;
    protected override int BodyLength => OfpBundle.ExperimenterHeaderLength + 8 + Inner.EncodedLength;
    protected override void WriteBody(ref SpanWriter w)
    {
        w.U32(OfpBundle.OnfExperimenterId); w.U32(OfpBundle.AddMessageExpType);
        w.U32(BundleId); w.Zero(2); w.U16(Flags);
        var room = w.Next(Inner.EncodedLength);
        Inner.TryEncode(room, out int written);
        // The inner header's xid is the outer one, whatever the inner record holds.
        new OfpHeader(Inner.Version, Inner.Type, (ushort)written, Xid).WriteTo(room);
        w.Advance(written);
    }
}

/// <summary>An OFPT_EXPERIMENTER message of an experimenter or type this codec does not decode.</summary>
public sealed record ExperimenterMessage(uint Experimenter, uint ExpType, byte[] Data) : OfpMessage
{
    public override OfpType Type => OfpType.Experimenter;
    protected override int BodyLength => OfpBundle.ExperimenterHeaderLength + Data.Length;
    protected override void WriteBody(ref SpanWriter w) { w.U32(Experimenter); w.U32(ExpType); w.Bytes(Data); }
}
