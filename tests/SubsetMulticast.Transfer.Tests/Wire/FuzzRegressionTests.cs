using SubsetMulticast.Transfer.Wire;

namespace SubsetMulticast.Transfer.Tests.Wire;

/// <summary>
/// Datagrams the fuzzing campaign (fuzz/run.sh, target transfer) found to break a reader's contract, kept in
/// corpus/regressions after the fix: every reader gives a status and an Ok message has sane derived fields.
/// </summary>
public sealed class FuzzRegressionTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "corpus", "regressions");

    public static TheoryData<string> Reproducers() => new(Directory.GetFiles(Folder).Select(Path.GetFileName).Order()!);

    [Theory]
    [MemberData(nameof(Reproducers))]
    public void Reproducer_ReadsWithoutNonsense(string file)
    {
        var d = File.ReadAllBytes(Path.Combine(Folder, file));
        if (RendezvousMessage.TryRead(d, out var r) == ReadStatus.Ok) Assert.True(r.DatagramCount >= 0);
    }

    [Fact]
    public void Rendezvous_WhoseDatagramCountOverflowsAnInt_IsOutOfRange()
    {
        // Was: size near 4 GiB with a 1-byte datagram payload read Ok and DatagramCount came out negative.
        var d = File.ReadAllBytes(Path.Combine(Folder, "rendezvous-datagram-count-over-int.bin"));
        Assert.Equal(ReadStatus.OutOfRange, RendezvousMessage.TryRead(d, out _));
    }
}
