namespace SubsetMulticast.Push.Tests;

/// <summary>
/// Datagrams the fuzzing campaign (fuzz/run.sh, target push) found to break the reader's contract, kept in
/// corpus/regressions after the fix: each is refused with PushFormatException (or verified) and nothing else escapes.
/// </summary>
public sealed class FuzzRegressionTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "corpus", "regressions");

    public static TheoryData<string> Reproducers() => new(Directory.GetFiles(Folder).Select(Path.GetFileName).Order()!);

    [Theory]
    [MemberData(nameof(Reproducers))]
    public void Reproducer_IsRefusedAsMalformed(string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(Folder, file));
        Assert.Equal(PushVerdict.Malformed, new PushVerifier(PushInstructionTests.Keys()).Verify(bytes, out _, out var detail));
        Assert.NotNull(detail);
    }

    [Fact]
    public void V6Instruction_WithAnIpv4MappedMember_IsMalformedAtThatMember()
    {
        // Was: accepted, with the member reading as IPv4 236.1.225.0 inside an IPv6 instruction (the writer then refused it).
        var bytes = File.ReadAllBytes(Path.Combine(Folder, "v6-member-ipv4-mapped.bin"));
        var e = Assert.Throws<PushFormatException>(() => PushInstruction.TryRead(bytes, out _, out _));
        Assert.Equal(76, e.Offset); // the second member: header 28 + reference, group, first member 16 each
    }
}
