using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Push;

namespace SubsetMulticast.Fuzz.Targets;

/// <summary>
/// The push instruction (drafts/push-instruction.md): <see cref="PushInstruction.TryRead"/> may throw only
/// <see cref="PushFormatException"/>; <see cref="PushVerifier.Verify"/> never throws; a read instruction
/// re-encodes through <see cref="PushInstructionWriter"/> to the same signed bytes.
/// </summary>
public sealed class PushTarget : FuzzTarget
{
    // The key of the push tests and the draft's Appendix A vectors.
    private static readonly byte[] Key = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];

    public override string Name => "push";
    public override string Description => "push instruction datagram: PushVerifier.Verify, TryRead, round trip";
    public override Type? DocumentedException => typeof(PushFormatException);

    protected override void Run(ReadOnlySpan<byte> input)
    {
        // A fresh verifier per input: its replay window is state the next input must not see.
        var verdict = new PushVerifier(new PushKeyRing().Add(1, 1, Key).Add(42, 2, Key)).Verify(input, out _, out var detail);
        ContractViolation.Check(verdict == PushVerdict.Accepted ? detail is null : detail is not null, $"verdict {verdict} with detail '{detail}'");

        if (!PushInstruction.TryRead(input, out var p, out int consumed)) return;
        ContractViolation.Check(consumed == p.Length && consumed <= input.Length, "consumed bytes disagree with the instruction's length");
        var members = new IpAddress[p.MemberCount];
        for (int i = 0; i < members.Length; i++) members[i] = p.MemberAt(i);
        var ring = new PushKeyRing().Add(p.Vlan, p.KeyId, Key);
        var again = new byte[consumed];
        int n = PushInstructionWriter.Write(again, p.Opcode, p.Vlan, p.KeyId, p.SenderId, p.Sequence, p.LeaseMs, p.Reference, p.Group, members, ring);
        ContractViolation.Check(n == consumed, $"re-encoded length {n}, read {consumed}");
        ContractViolation.Check(again.AsSpan(0, n - PushInstruction.MacLength).SequenceEqual(p.SignedBytes), "push instruction does not re-encode to its signed bytes");
    }

    public override IEnumerable<(string, byte[])> Seeds()
    {
        // drafts/push-instruction.md Appendix A (tests/SubsetMulticast.Push.Tests/PushInstructionTests.cs).
        yield return ("draft-v4-push", Convert.FromHexString("5453010100030001000100000000000700000000000000010000" + "1388ef010001efff00070a0001020a0002030a000304c935da00cc3c16e6f688e9e904a20c76"));
        yield return ("draft-v6-release", Convert.FromHexString("5453010201" + "00002a0002000001020304010203040506070800000000ff150000000000000000000000000001ff1500000000000000000000000700090842370799fda4d45ccf28485fdce973"));
        var ring = new PushKeyRing().Add(1, 1, Key);
        var buffer = new byte[PushInstruction.LengthFor(false, 1)];
        PushInstructionWriter.Write(buffer, PushOpcode.Refresh, 1, 1, 9, 3, 1000, IpAddress.Parse("239.1.0.1"), IpAddress.Parse("239.255.0.1"), [], ring);
        yield return ("refresh", buffer[..PushInstruction.LengthFor(false, 0)]);
    }
}
