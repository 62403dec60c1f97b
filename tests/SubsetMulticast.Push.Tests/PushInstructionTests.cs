using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Push.Tests;

public class PushInstructionTests
{
    internal static readonly byte[] Key = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];
    internal static PushKeyRing Keys() => new PushKeyRing().Add(1, 1, Key).Add(42, 2, Key);
    private static byte[] Hex(string s) => Convert.FromHexString(string.Concat(s.Where(char.IsAsciiHexDigit)));

    // drafts/push-instruction.md Appendix A; MACs computed with Python's hmac, not with our code.
    internal const string V4Push = "5453 01 01 00 03 0001 0001 0000 00000007 0000000000000001 00001388 ef010001 efff0007 0a000102 0a000203 0a000304 c935da00cc3c16e6f688e9e904a20c76";
    internal const string V6Release = "5453 01 02 01 00 002a 0002 0000 01020304 0102030405060708 00000000 ff150000000000000000000000000001 ff150000000000000000000000070009 0842370799fda4d45ccf28485fdce973";

    [Fact]
    public void DraftVector_V4Push_DecodesAndVerifies()
    {
        var bytes = Hex(V4Push);
        Assert.Equal(PushVerdict.Accepted, new PushVerifier(Keys()).Verify(bytes, out var p, out var detail));
        Assert.Null(detail);
        Assert.Equal(PushOpcode.PushMembership, p.Opcode);
        Assert.False(p.IsV6);
        Assert.Equal((ushort)1, p.Vlan.Value);
        Assert.Equal((ushort)1, p.KeyId);
        Assert.Equal(7u, p.SenderId);
        Assert.Equal(1UL, p.Sequence);
        Assert.Equal(5000u, p.LeaseMs);
        Assert.Equal(IpAddress.Parse("239.1.0.1"), p.Reference);
        Assert.Equal(IpAddress.Parse("239.255.0.7"), p.Group);
        Assert.Equal(3, p.MemberCount);
        Assert.Equal(IpAddress.Parse("10.0.1.2"), p.MemberAt(0));
        Assert.Equal(IpAddress.Parse("10.0.2.3"), p.MemberAt(1));
        Assert.Equal(IpAddress.Parse("10.0.3.4"), p.MemberAt(2));
    }

    [Fact]
    public void DraftVector_V6Release_DecodesAndVerifies()
    {
        var bytes = Hex(V6Release);
        Assert.Equal(PushVerdict.Accepted, new PushVerifier(Keys()).Verify(bytes, out var p, out _));
        Assert.Equal(PushOpcode.Release, p.Opcode);
        Assert.True(p.IsV6);
        Assert.Equal((ushort)42, p.Vlan.Value);
        Assert.Equal(0x01020304u, p.SenderId);
        Assert.Equal(0x0102030405060708UL, p.Sequence);
        Assert.Equal(IpAddress.Parse("ff15::7:9"), p.Group);
        Assert.Equal(0, p.MemberCount);
    }

    [Theory]
    [InlineData(V4Push, PushOpcode.PushMembership, 1, 1, 7u, 1UL, 5000u, "239.1.0.1", "239.255.0.7", "10.0.1.2,10.0.2.3,10.0.3.4")]
    [InlineData(V6Release, PushOpcode.Release, 42, 2, 0x01020304u, 0x0102030405060708UL, 0u, "ff15::1", "ff15::7:9", "")]
    public void Writer_ProducesTheDraftVectorsByteForByte(string hex, PushOpcode op, int vlan, int keyId, uint sender, ulong seq, uint lease, string reference, string group, string members)
    {
        IpAddress[] m = members.Length == 0 ? [] : [.. members.Split(',').Select(IpAddress.Parse)];
        var buffer = new byte[PushInstruction.LengthFor(IpAddress.Parse(group).IsV6, m.Length)];
        int n = PushInstructionWriter.Write(buffer, op, (ushort)vlan, (ushort)keyId, sender, seq, lease, IpAddress.Parse(reference), IpAddress.Parse(group), m, Keys());
        Assert.Equal(Hex(hex), buffer[..n]);
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 255)]
    [InlineData(true, 3)]
    [InlineData(true, 255)]
    public void RoundTrip_AnyMemberCount(bool v6, int count)
    {
        var reference = IpAddress.Parse(v6 ? "ff15::1" : "239.1.0.1");
        var group = IpAddress.Parse(v6 ? "ff15::7:1" : "239.255.0.1");
        var members = Enumerable.Range(1, count).Select(i => v6 ? IpAddress.FromV6(0xfd00UL << 48, (ulong)i) : IpAddress.FromV4(0x0a000000u + (uint)i)).ToArray();
        var buffer = new byte[PushInstruction.LengthFor(v6, count) + 7];
        int n = PushInstructionWriter.Write(buffer, PushOpcode.PushMembership, 1, 1, 9, 99, 1, reference, group, members, Keys());
        Assert.Equal(PushInstruction.LengthFor(v6, count), n);
        Assert.True(PushInstruction.TryRead(buffer, out var p, out int consumed)); // trailing bytes are the caller's business
        Assert.Equal(n, consumed);
        var read = new IpAddress[p.MemberCount];
        for (int i = 0; i < read.Length; i++) read[i] = p.MemberAt(i);
        Assert.Equal(members, read);
        Assert.Equal(0, PushInstructionWriter.Write(buffer.AsSpan(0, n - 1), PushOpcode.PushMembership, 1, 1, 9, 99, 1, reference, group, members, Keys()));
    }

    public static TheoryData<string, int> MalformedRows => new()
    {
        // hex with one field broken, and the offset the reader must name
        { "5454" + V4Push[4..], 0 },                                   // magic
        { V4Push[..5] + "02" + V4Push[7..], 2 },                       // version 2
        { V4Push[..8] + "07" + V4Push[10..], 3 },                      // opcode 7
        { V4Push[..11] + "80" + V4Push[13..], 4 },                     // reserved flag
        { V4Push[..14] + "00" + V4Push[16..], 5 },                     // push with no member
        { V6Release[..14] + "01" + V6Release[16..], 5 },               // release with a member
        { V4Push[..17] + "0fff" + V4Push[21..], 6 },                   // VLAN 4095
        { V4Push[..27] + "0001" + V4Push[31..], 10 },                  // reserved field
        { V4Push.Replace("ef010001", "0a010001"), 28 },                // reference not multicast
        { V4Push.Replace("efff0007", "0a000007"), 32 },                // group not multicast
    };

    [Theory]
    [MemberData(nameof(MalformedRows))]
    public void Malformed_ThrowsOurExceptionWithTheOffset_AndTheVerifierSaysMalformed(string hex, int offset)
    {
        var bytes = Hex(hex);
        var e = Assert.Throws<PushFormatException>(() => PushInstruction.TryRead(bytes, out _, out _));
        Assert.Equal(offset, e.Offset);
        Assert.Equal(PushVerdict.Malformed, new PushVerifier(Keys()).Verify(bytes, out _, out var detail));
        Assert.NotNull(detail);
    }

    [Theory]
    [InlineData(V4Push)]
    [InlineData(V6Release)]
    public void TruncatedAtEveryOffset_NeedsMoreBytes_NeverThrowsAnythingElse(string hex)
    {
        var bytes = Hex(hex);
        var verifier = new PushVerifier(Keys());
        for (int cut = 0; cut < bytes.Length; cut++)
        {
            Assert.False(PushInstruction.TryRead(bytes.AsSpan(0, cut), out _, out int consumed), $"cut {cut}");
            Assert.Equal(0, consumed);
            Assert.Equal(PushVerdict.Truncated, verifier.Verify(bytes.AsSpan(0, cut), out _, out _));
        }
    }

    [Fact]
    public void HugeMemberCount_WithoutTheBytes_IsTruncated_NotARead()
    {
        var bytes = Hex(V4Push);
        bytes[5] = 255; // claims 255 members in a 64-byte datagram
        Assert.False(PushInstruction.TryRead(bytes, out _, out _));
        Assert.Equal(PushVerdict.Truncated, new PushVerifier(Keys()).Verify(bytes, out _, out _));
    }

    [Fact]
    public void EveryBitFlip_IsRefused_AndOnlyTheUntouchedOriginalIsAccepted()
    {
        var original = Hex(V4Push);
        for (int bit = 0; bit < original.Length * 8; bit++)
        {
            var bytes = (byte[])original.Clone();
            bytes[bit / 8] ^= (byte)(1 << (bit % 8));
            var verdict = new PushVerifier(Keys()).Verify(bytes, out _, out _);
            Assert.True(verdict != PushVerdict.Accepted, $"bit {bit} flipped and still accepted");
        }
        Assert.Equal(PushVerdict.Accepted, new PushVerifier(Keys()).Verify(original, out _, out _));
    }

    [Fact]
    public void TrailingBytes_AfterTheInstruction_AreMalformed()
    {
        var bytes = Hex(V4Push).Append((byte)0).ToArray();
        Assert.Equal(PushVerdict.Malformed, new PushVerifier(Keys()).Verify(bytes, out _, out var detail));
        Assert.Contains("1 bytes after", detail);
    }

    [Fact]
    public void UnknownKey_IsSaidSo()
    {
        var ring = new PushKeyRing().Add(1, 9, Key);
        Assert.Equal(PushVerdict.UnknownKey, new PushVerifier(ring).Verify(Hex(V4Push), out _, out var detail));
        Assert.Contains("no key 1 for VLAN 1", detail);
    }
}
