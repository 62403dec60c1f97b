using SubsetMulticast.Capture;

namespace SubsetMulticast.Snooping.Tests.Capture;

/// <summary>
/// Captures the fuzzing campaign (fuzz/run.sh, target capture) found to break the reader's contract, kept in
/// corpus/regressions after the fix: reading every record (and its Time) throws nothing but InvalidDataException.
/// </summary>
public sealed class FuzzRegressionTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "corpus", "regressions");

    public static TheoryData<string> Reproducers() => new(Directory.GetFiles(Folder).Select(Path.GetFileName).Order()!);

    /// <summary>Reads to the end; the one exception the reader documents is an outcome, anything else fails the test.</summary>
    private static string ReadAll(string file)
    {
        try
        {
            using var reader = CaptureFileReader.Open(Path.Combine(Folder, file));
            int records = 0;
            while (reader.TryRead(out var record))
            {
                _ = record.Time;
                records++;
            }
            return $"{records} records";
        }
        catch (InvalidDataException e)
        {
            return e.Message;
        }
    }

    [Theory]
    [MemberData(nameof(Reproducers))]
    public void Reproducer_ReadsToTheEnd_WithOnlyTheDocumentedException(string file) => Assert.NotNull(ReadAll(file));

    [Fact]
    public void TimestampBeyondYear9999_IsInvalidData_NotAThrowFromRecordTime()
    {
        // Was: a 64-bit EPB timestamp scaled to ticks wrapped, and CaptureRecord.Time threw ArgumentOutOfRangeException.
        Assert.Contains("outside years 1 to 9999", ReadAll("pcapng-timestamp-beyond-year-9999.pcapng"));
    }

    [Fact]
    public void SimplePacketBlock_WithOriginalLengthOver2GiB_ReadsTheBytesItHolds()
    {
        // Was: the SPB's original length read as a negative int made the captured length negative, and slicing threw.
        var outcome = ReadAll("pcapng-spb-original-length-over-2g.pcapng");
        Assert.DoesNotContain("Exception", outcome);
    }
}
