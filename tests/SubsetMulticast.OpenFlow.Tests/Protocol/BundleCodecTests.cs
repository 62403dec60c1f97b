using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.OpenFlow.Tests.Protocol;

/// <summary>
/// ONF bundle messages over OpenFlow 1.3 (experimenter 0x4F4E4600, exp_type 2300/2301). The vectors were printed by
/// Open vSwitch 3.1 (`ovs-ofctl ofp-print HEX`), whose output is quoted beside each row.
/// </summary>
public class BundleCodecTests
{
    [Theory]
    // ONFT_BUNDLE_CONTROL (OF1.3) (xid=0x1): bundle_id=0x7 type=OPEN_REQUEST flags=atomic ordered   (operations.md §3)
    [InlineData("04040018 00000001 4f4e4600 000008fc 00000007 0000 0003", 7u, BundleControlType.OpenRequest, (ushort)3)]
    // ONFT_BUNDLE_CONTROL (OF1.3) (xid=0x2): bundle_id=0x7 type=COMMIT_REPLY flags=atomic
    [InlineData("04040018 00000002 4f4e4600 000008fc 00000007 0005 0001", 7u, BundleControlType.CommitReply, (ushort)1)]
    // ONFT_BUNDLE_CONTROL (OF1.3) (xid=0x3): bundle_id=0xffffffff type=DISCARD_REQUEST flags=0
    [InlineData("04040018 00000003 4f4e4600 000008fc ffffffff 0006 0000", 0xFFFF_FFFFu, BundleControlType.DiscardRequest, (ushort)0)]
    public void BundleControl_Vector_DecodesAndReencodes(string hex, uint id, BundleControlType type, ushort flags)
    {
        var bytes = CodecTests.Hex(hex);
        var m = Assert.IsType<BundleControl>(OfpMessage.Decode(bytes));
        Assert.Equal(id, m.BundleId);
        Assert.Equal(type, m.ControlType);
        Assert.Equal(flags, m.Flags);
        Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(m.ToArray()));
        CodecTests.VerifyTruncations(bytes);
        CodecTests.VerifyMutations(bytes, seed: 2300);
    }

    [Fact]
    public void BundleAdd_GroupMod_InnerXidIsTheOuterXid()
    {
        // ONFT_BUNDLE_ADD_MESSAGE (OF1.3) (xid=0xa): bundle_id=0x7 flags=atomic ordered
        // OFPT_GROUP_MOD (OF1.3) (xid=0xa): ADD group_id=16,type=all,bucket=actions=output:1
        const string hex = "04040048 0000000a 4f4e4600 000008fd 00000007 0000 0003 " +
                           "040f0030 0000000a 0000 00 00 00000010 0020 0000 ffffffff ffffffff 00000000 0000 0010 00000001 0000 000000000000";
        var inner = new GroupMod(GroupModCommand.Add, GroupType.All, 16, [new OfpBucket([new OutputAction(1)])]) { Xid = 999 };
        var add = new BundleAdd(7, OfpBundle.FlagAtomic | OfpBundle.FlagOrdered, inner) { Xid = 10 };
        Assert.Equal(hex.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant(), Convert.ToHexString(add.ToArray()));

        var back = Assert.IsType<BundleAdd>(OfpMessage.Decode(add.ToArray()));
        Assert.Equal(10u, back.Xid);
        Assert.Equal(10u, back.Inner.Xid);
        Assert.Equal(16u, Assert.IsType<GroupMod>(back.Inner).GroupId);
        Assert.Equal(Convert.ToHexString(add.ToArray()), Convert.ToHexString(back.ToArray()));
        CodecTests.VerifyTruncations(add.ToArray());
        CodecTests.VerifyMutations(add.ToArray(), seed: 2301);
    }

    [Theory]
    // inner xid 0xb under outer 0xa: OVS says OFPBFC_MSG_BAD_XID; we refuse it at the inner xid (offset 24 + 4)
    [InlineData("04040020 0000000a 4f4e4600 000008fd 00000007 0000 0003 04140008 0000000b", 28)]
    // inner length 16 but 8 bytes follow
    [InlineData("04040020 0000000a 4f4e4600 000008fd 00000007 0000 0003 04140010 0000000a", 26)]
    // a control body one byte short of 8 after the experimenter header
    [InlineData("04040017 00000001 4f4e4600 000008fc 00000007 0000 00", 16)]
    // a bundle nested in a bundle
    [InlineData("04040030 0000000a 4f4e4600 000008fd 00000007 0000 0003 04040018 0000000a 4f4e4600 000008fc 00000007 0000 0003", 25)]
    public void BundleAdd_Malformed_ThrowsAtTheOffset(string hex, int offset)
    {
        var e = Assert.Throws<OpenFlowFormatException>(() => OfpMessage.Decode(CodecTests.Hex(hex)));
        Assert.Equal(offset, e.Offset);
    }

    [Fact]
    public void Experimenter_OtherExperimenter_KeptVerbatim()
    {
        var bytes = CodecTests.Hex("04040014 00000005 00002320 00000010 01020304");
        var m = Assert.IsType<ExperimenterMessage>(OfpMessage.Decode(bytes));
        Assert.Equal(0x2320u, m.Experimenter);
        Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(m.ToArray()));
    }

    [Fact]
    public void Error_OnfBundleError_NamedAndFailedTypeFound()
    {
        // OFPT_ERROR (OF1.3): OFPBFC_MSG_FAILED, experimenter ONF, then the failed request's header (experimenter message).
        var m = (ErrorMessage)OfpMessage.Decode(CodecTests.Hex("04010018 0000000c ffff 0909 4f4e4600 04040018 0000000c"));
        Assert.Equal("BUNDLE_FAILED/MSG_FAILED", m.Name);
        Assert.Equal(OfpType.Experimenter, m.FailedType);
        Assert.Equal("BUNDLE_FAILED/BUNDLE_IN_PROGRESS", OfpBundle.ErrorName(2315));
        Assert.Null(OfpBundle.ErrorName(2316));
    }
}
