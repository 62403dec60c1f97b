using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.OpenFlow.Tests.Protocol;

public class CodecTests
{
    /// <summary>
    /// Hand-assembled from the OpenFlow 1.3.5 wire structures (ofp_header, ofp_hello_elem_versionbitmap,
    /// ofp_group_mod, ofp_bucket, ofp_action_output, ofp_flow_mod, ofp_match, ofp_instruction_actions …).
    /// The match vector matches Scapy's openflow3 test ("OFPMatch(), check padding").
    /// </summary>
    [Theory]
    // HELLO xid=1, element VERSIONBITMAP len 8, bitmap 0x10 (bit 4 = 1.3)
    [InlineData("04000010 00000001 0001000800000010", OfpType.Hello)]
    // HELLO without elements
    [InlineData("04000008 00000000", OfpType.Hello)]
    // ERROR GROUP_MOD_FAILED/GROUP_EXISTS with the first 8 bytes of the failed request
    [InlineData("04010014 00000007 00060000 040f005000000007", OfpType.Error)]
    // ECHO_REQUEST "hi"
    [InlineData("0402000a 00000002 6869", OfpType.EchoRequest)]
    [InlineData("04050008 00000003", OfpType.FeaturesRequest)]
    // FEATURES_REPLY dpid 1, 256 buffers, 254 tables, aux 0, capabilities 0x4f
    [InlineData("04060020 00000003 0000000000000001 00000100 fe 00 0000 0000004f 00000000", OfpType.FeaturesReply)]
    [InlineData("04140008 00000004", OfpType.BarrierRequest)]
    [InlineData("04150008 00000004", OfpType.BarrierReply)]
    // GROUP_MOD ADD ALL group 16, buckets output:1 and output:2
    [InlineData("040f0050 00000008 0000 00 00 00000010 " +
                "0020 0000 ffffffff ffffffff 00000000 0000 0010 00000001 0000 000000000000 " +
                "0020 0000 ffffffff ffffffff 00000000 0000 0010 00000002 0000 000000000000", OfpType.GroupMod)]
    // FLOW_MOD ADD cookie 0x5342000000000010 prio 1000, match eth_type=0x0800,ipv4_dst=239.1.1.1 → apply(group:16)
    [InlineData("040e0058 00000006 5342000000000010 0000000000000000 00 00 0000 0000 03e8 ffffffff ffffffff ffffffff 0000 0000 " +
                "0001 0012 80000a02 0800 80001804 ef010101 000000000000 " +
                "0004 0010 00000000 0016 0008 00000010", OfpType.FlowMod)]
    // MULTIPART_REQUEST PORT_DESC
    [InlineData("04120010 0000000a 000d 0000 00000000", OfpType.MultipartRequest)]
    // PACKET_IN no buffer, total_len 4, reason ACTION, table 0, cookie 0, match in_port=3, pad2, 4 data bytes
    [InlineData("040a002e 00000000 ffffffff 0004 01 00 0000000000000000 0001 000c 80000004 00000003 00000000 0000 01020304", OfpType.PacketIn)]
    // MULTIPART_REPLY GROUP_DESC, REPLY_MORE, one ALL group 16 with bucket output:1
    [InlineData("04130038 0000000c 0007 0001 00000000 0028 00 00 00000010 0020 0000 ffffffff ffffffff 00000000 0000 0010 00000001 0000 000000000000", OfpType.MultipartReply)]
    public void Decode_HexVector_ReencodesToSameBytes(string hex, OfpType type)
    {
        var bytes = Hex(hex);
        var m = OfpMessage.Decode(bytes);
        Assert.Equal(type, m.Type);
        Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(m.ToArray()));
        VerifyTruncations(bytes);
    }

    [Fact]
    public void Decode_GroupModVector_HasTwoOutputBuckets()
    {
        var m = (GroupMod)OfpMessage.Decode(Hex("040f0050 00000008 0000 00 00 00000010 " +
            "0020 0000 ffffffff ffffffff 00000000 0000 0010 00000001 0000 000000000000 " +
            "0020 0000 ffffffff ffffffff 00000000 0000 0010 00000002 0000 000000000000"));
        Assert.Equal(GroupModCommand.Add, m.Command);
        Assert.Equal(16u, m.GroupId);
        Assert.Equal([1u, 2u], m.Buckets.Select(b => ((OutputAction)b.Actions.Single()).Port));
    }

    [Fact]
    public void Decode_Error_NamesTypeAndCode()
    {
        var m = (ErrorMessage)OfpMessage.Decode(Hex("04010014 00000007 00060000 040f005000000007"));
        Assert.Equal("GROUP_MOD_FAILED/GROUP_EXISTS", m.Name);
        Assert.Equal(OfpType.GroupMod, m.FailedType);
        Assert.Equal("BAD_MATCH/BAD_PREREQ", OfpErrorNames.Name(4, 9));
        Assert.Equal("TYPE_99/CODE_7", OfpErrorNames.Name(99, 7));
    }

    [Fact]
    public void Decode_PacketIn_ReadsMatchAndData()
    {
        var m = (PacketIn)OfpMessage.Decode(Hex("040a002e 00000000 ffffffff 0004 01 00 0000000000000000 0001 000c 80000004 00000003 00000000 0000 01020304"));
        Assert.Equal(3u, m.Match.InPort);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, m.Data.ToArray());
    }

    [Fact]
    public void Decode_PacketIn_FromOwnedBytes_SlicesTheFrameAndKeepsTheXid()
    {
        byte[] bytes = Hex("040a002e 0000abcd ffffffff 0004 01 00 0000000000000000 0001 000c 80000004 00000003 00000000 0000 01020304");
        var m = (PacketIn)OfpMessage.DecodeOwned(bytes);
        Assert.Equal(0xABCDu, m.Xid);
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(m.Data, out var segment));
        Assert.Same(bytes, segment.Array);
        Assert.Equal(bytes.Length - 4, segment.Offset);
        Assert.Equal(bytes, m.ToArray());
    }

    public static TheoryData<int> SampleIndexes()
    {
        var d = new TheoryData<int>();
        for (int i = 0; i < Samples.All().Count(); i++) d.Add(i);
        return d;
    }

    [Theory]
    [MemberData(nameof(SampleIndexes))]
    public void EncodeDecode_EveryMessageType_RoundTrips(int index)
    {
        var message = Samples.All().ElementAt(index);
        var bytes = message.ToArray();
        var decoded = OfpMessage.Decode(bytes);
        Assert.Equal(message.GetType(), decoded.GetType());
        Assert.Equal(message.Xid, decoded.Xid);
        Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(decoded.ToArray()));
        VerifyTruncations(bytes);
        VerifyMutations(bytes, seed: index);
    }

    [Fact]
    public void TryEncode_DestinationOneByteShort_ReturnsFalseAndWritesNothing()
    {
        var m = Samples.All().OfType<FlowMod>().First();
        var buffer = new byte[m.EncodedLength + 4];
        buffer.AsSpan().Fill(0xFF);
        Assert.False(m.TryEncode(buffer.AsSpan(0, m.EncodedLength - 1), out int written));
        Assert.Equal(0, written);
        Assert.All(buffer, b => Assert.Equal(0xFF, b));
        Assert.True(m.TryEncode(buffer, out written));
        Assert.Equal(m.EncodedLength, written);
        Assert.All(buffer[written..], b => Assert.Equal(0xFF, b));
    }

    [Fact]
    public void Match_Roundtrip_KeepsTypedFieldsAndPadding()
    {
        var w = new byte[Samples.Everything.EncodedLength];
        var sw = new SpanWriter(w);
        Samples.Everything.Write(ref sw);
        Assert.Equal(0, w.Length % 8);
        var r = new SpanReader(w);
        var back = OfpMatch.Read(ref r);
        Assert.True(back.SameAs(Samples.Everything));
        Assert.Equal(0, r.Remaining);
    }

    [Theory]
    [InlineData("0000000000000000", "length 0 is less than 8")]
    [InlineData("04000004 00000000", "less than 8")]
    [InlineData("05000008 00000000 ", null)] // HELLO of another version is legal
    [InlineData("05020008 00000000", "not OpenFlow 1.3")]
    [InlineData("04050009 00000003 00", "must be empty")]
    // FEATURES_REPLY one byte short
    [InlineData("0406001f 00000003 0000000000000001 00000100 fe 00 0000 0000004f 000000", "FEATURES_REPLY")]
    // GROUP_MOD whose bucket says 0x40 bytes but only 0x20 follow
    [InlineData("040f0030 00000008 0000 00 00 00000010 0040 0000 ffffffff ffffffff 00000000 0000 0010 00000001 0000 000000000000", "bucket length 64 exceeds")]
    // bucket length 8 < 16
    [InlineData("040f0018 00000008 0000 00 00 00000010 0008 0000 ffffffff ffffffff 00000000", "bucket length 8 is less than 16")]
    // OUTPUT action with length 8
    [InlineData("040f0020 00000008 0000 00 00 00000010 0018 0000 ffffffff ffffffff 00000000 0000 0008 00000001", "OUTPUT action length 8")]
    // FLOW_MOD whose match claims 0x20 bytes: OXM runs past the message
    [InlineData("040e0040 00000006 5342000000000010 0000000000000000 00 00 0000 0000 03e8 ffffffff ffffffff ffffffff 0000 0000 0001 0020 80000a02 0800 80001804", "truncated match")]
    // truncated OXM: ipv4_dst says 4 bytes, 2 remain in the match
    [InlineData("040e0048 00000006 5342000000000010 0000000000000000 00 00 0000 0000 03e8 ffffffff ffffffff ffffffff 0000 0000 0001 000c 80000a02 0800 8000 000000000000", "truncated OXM")]
    // OXM eth_type with wrong length 4
    [InlineData("040e0048 00000006 5342000000000010 0000000000000000 00 00 0000 0000 03e8 ffffffff ffffffff ffffffff 0000 0000 0001 000c 80000a04 08000000 00000000", "expected 2")]
    // huge multipart: flow stats entry claims 0xffff bytes
    [InlineData("04130048 0000000b 0001 0000 00000000 fff8 00 00 00000000 00000000 0000 0000 0000 0000 00000000 0000000000000000 0000000000000000 0000000000000000 0001 0004 00000000", "exceeds")]
    // PACKET_OUT actions_len larger than the message
    [InlineData("040d0018 00000005 ffffffff fffffffd 0100 000000000000", "actions_len 256")]
    // group stats entry with a partial bucket counter
    [InlineData("04130038 0000000d 0006 0000 00000000 0030 0000 00000010 00000001 00000000 0000000000000000 0000000000000000 00000000 00000000 0000000000000000", "partial bucket")]
    public void Decode_HostileInput_ThrowsOpenFlowFormatException(string hex, string? expected)
    {
        var bytes = Hex(hex);
        // Rows describe the body; the header length is made to agree unless the row is about the header itself.
        int declared = (bytes[2] << 8) | bytes[3];
        if (declared >= Ofp.HeaderLength) { bytes[2] = (byte)(bytes.Length >> 8); bytes[3] = (byte)bytes.Length; }
        if (expected is null) { OfpMessage.Decode(bytes); return; }
        var ex = Assert.Throws<OpenFlowFormatException>(() => OfpMessage.Decode(bytes));
        Assert.Contains(expected, ex.Message);
        Assert.InRange(ex.Offset, 0, bytes.Length);
    }

    [Fact]
    public void TryRead_LengthBelowEight_ThrowsBeforeBuffering()
    {
        Assert.Throws<OpenFlowFormatException>(() => OfpMessage.TryRead(Hex("04000007 00000000"), out _, out _));
    }

    [Fact]
    public void TryRead_TwoMessagesInOneBuffer_ReadsOneAtATime()
    {
        var a = new EchoRequest([9]) { Xid = 1 }.ToArray();
        var b = new BarrierRequest { Xid = 2 }.ToArray();
        var both = a.Concat(b).ToArray();
        Assert.True(OfpMessage.TryRead(both, out var m1, out int c1));
        Assert.Equal(a.Length, c1);
        Assert.IsType<EchoRequest>(m1);
        Assert.True(OfpMessage.TryRead(both.AsSpan(c1), out var m2, out _));
        Assert.IsType<BarrierRequest>(m2);
    }

    [Fact]
    public void Decode_UnknownType_ReturnsUnknownMessage()
    {
        var m = OfpMessage.Decode(Hex("04630008 00000001"));
        Assert.IsType<UnknownMessage>(m);
    }

    /// <summary>
    /// Every prefix: TryRead says "need more" (false) and never throws; the same prefix with its length
    /// field patched to the prefix length decodes or throws <see cref="OpenFlowFormatException"/>, nothing else.
    /// </summary>
    internal static void VerifyTruncations(byte[] bytes)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            var prefix = bytes[..i];
            Assert.False(OfpMessage.TryRead(prefix, out var m, out int consumed));
            Assert.Null(m);
            Assert.Equal(0, consumed);
            if (i < Ofp.HeaderLength) continue;
            prefix[2] = (byte)(i >> 8); prefix[3] = (byte)i;
            try { OfpMessage.Decode(prefix); }
            catch (OpenFlowFormatException) { }
        }
    }

    /// <summary>Random byte flips: decode succeeds or throws our exception type.</summary>
    internal static void VerifyMutations(byte[] bytes, int seed, int rounds = 300)
    {
        var rng = new Random(seed);
        for (int n = 0; n < rounds; n++)
        {
            var copy = (byte[])bytes.Clone();
            int flips = 1 + rng.Next(3);
            for (int f = 0; f < flips; f++) copy[Ofp.HeaderLength + rng.Next(Math.Max(1, copy.Length - Ofp.HeaderLength)) - (copy.Length == Ofp.HeaderLength ? Ofp.HeaderLength : 0)] = (byte)rng.Next(256);
            copy[0] = Ofp.Version13;
            copy[2] = (byte)(copy.Length >> 8); copy[3] = (byte)copy.Length;
            try { OfpMessage.Decode(copy); }
            catch (OpenFlowFormatException) { }
        }
    }

    internal static byte[] Hex(string s) => Convert.FromHexString(s.Replace(" ", ""));
}
