using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Push.Tests;

public class PushVerifierTests
{
    private static byte[] Instruction(ulong sequence, uint sender = 7, ushort vlan = 1)
    {
        var buffer = new byte[PushInstruction.LengthFor(false, 1)];
        PushInstructionWriter.Write(buffer, PushOpcode.PushMembership, vlan, 1, sender, sequence, 5000,
            IpAddress.Parse("239.1.0.1"), IpAddress.Parse("239.255.0.7"), [IpAddress.Parse("10.0.1.2")],
            new PushKeyRing().Add(vlan, 1, PushInstructionTests.Key));
        return buffer;
    }

    /// <summary>Each row: the sequences sent in order, and the verdict each must get (A accepted, R replayed).</summary>
    [Theory]
    [InlineData("1 2 3", "AAA")]
    [InlineData("5 5", "AR")]
    [InlineData("0", "R")]                                   // sequences start at 1
    [InlineData("10 9 8 10", "AAAR")]                        // late but inside the window: once
    [InlineData("100 37 36", "AAR")]                         // 100-37 = 63: last slot of the window; 64 back is too old
    [InlineData("100 200 150 136 137", "AAARA")]             // the window moved to 200: 136 is too old, 137 is not
    [InlineData("1 1000000 999999 1", "AAAR")]
    public void ReplayWindow_SixtyFourWide(string sequences, string verdicts)
    {
        var verifier = new PushVerifier(new PushKeyRing().Add(1, 1, PushInstructionTests.Key));
        var seqs = sequences.Split(' ').Select(ulong.Parse).ToArray();
        for (int i = 0; i < seqs.Length; i++)
        {
            var verdict = verifier.Verify(Instruction(seqs[i]), out _, out _);
            Assert.True((verdicts[i] == 'A' ? PushVerdict.Accepted : PushVerdict.Replayed) == verdict, $"#{i} seq {seqs[i]}: {verdict}");
        }
    }

    [Fact]
    public void Windows_ArePerVlanAndSender()
    {
        var keys = new PushKeyRing().Add(1, 1, PushInstructionTests.Key).Add(2, 1, PushInstructionTests.Key);
        var verifier = new PushVerifier(keys);
        Assert.Equal(PushVerdict.Accepted, verifier.Verify(Instruction(5, sender: 1), out _, out _));
        Assert.Equal(PushVerdict.Accepted, verifier.Verify(Instruction(5, sender: 2), out _, out _));
        Assert.Equal(PushVerdict.Accepted, verifier.Verify(Instruction(5, sender: 1, vlan: 2), out _, out _));
        Assert.Equal(PushVerdict.Replayed, verifier.Verify(Instruction(5, sender: 1), out _, out _));
    }

    [Fact]
    public void ForgedMac_DoesNotMoveTheWindow()
    {
        var verifier = new PushVerifier(new PushKeyRing().Add(1, 1, PushInstructionTests.Key));
        var forged = Instruction(50);
        forged[^1] ^= 1;
        Assert.Equal(PushVerdict.BadMac, verifier.Verify(forged, out _, out _));
        // Had the forgery moved the window to 50, sequence 1 would now be too old.
        Assert.Equal(PushVerdict.Accepted, verifier.Verify(Instruction(1), out _, out _));
    }
}

public class PushKeyRingTests
{
    // RFC 4231 §4.6 (test case 5: HMAC-SHA-256 truncated to 128 bits) and §4.7 (test case 6, a key longer than the block).
    [Theory]
    [InlineData("0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "546573742057697468205472756e636174696f6e", "a3b6167473100ee06e0c796c2955552b")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579204669727374", "60e431591ee0b67f0d8a26aacbf5b77f")]
    public void Mac_IsRfc4231Truncated(string key, string data, string mac16)
    {
        var ring = new PushKeyRing().Add(1, 1, Convert.FromHexString(key));
        var mac = new byte[16];
        Assert.True(ring.TrySign(1, 1, Convert.FromHexString(data), mac));
        Assert.Equal(mac16, Convert.ToHexStringLower(mac));
        Assert.False(ring.TrySign(1, 2, Convert.FromHexString(data), mac));
    }

    [Fact]
    public void ShortKey_IsRefused() =>
        Assert.Throws<ArgumentException>(() => new PushKeyRing().Add(1, 1, "Jefe"u8.ToArray()));

    [Fact]
    public void Signing_FromManyThreadsAtOnce_GivesTheSameMac()
    {
        // The ring keeps one HMAC per thread; concurrent signers must not share state.
        var ring = new PushKeyRing().Add(1, 1, PushInstructionTests.Key);
        var data = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        var expected = new byte[16];
        ring.TrySign(1, 1, data, expected);
        int mismatches = 0;
        Parallel.For(0, 20_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
        {
            Span<byte> mac = stackalloc byte[16];
            ring.TrySign(1, 1, data, mac);
            if (!mac.SequenceEqual(expected)) Interlocked.Increment(ref mismatches);
        });
        Assert.Equal(0, mismatches);
    }
}
