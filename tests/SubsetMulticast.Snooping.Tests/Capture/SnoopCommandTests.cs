using System.Text.Json;
using SubsetMulticast.Capture;
using static SubsetMulticast.Snooping.Tests.Frames;

namespace SubsetMulticast.Snooping.Tests.Capture;

/// <summary><c>tsm snoop --pcap FILE --at …</c>: the real CLI process, state at chosen moments of a capture.</summary>
public sealed class SnoopCommandTests
{
    // 2026-01-01T12:00:00Z; the capture: x-p5 joins 239.2.2.2 at +0 s, x-p6 joins 239.3.3.3 at +10 s.
    private static readonly long Noon = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();

    private static string WriteCapture()
    {
        var file = new CaptureFileReaderTests.NgWriter(false).Section().Interface("x-p5").Interface("x-p6")
            .Enhanced(0, (ulong)Noon * 1_000_000, V2Report("239.2.2.2"))
            .Enhanced(1, (ulong)(Noon + 10) * 1_000_000, V2Report("239.3.3.3"))
            .ToArray();
        var path = Path.Combine(Path.GetTempPath(), $"tsm-snoop-at-{Guid.NewGuid():N}.pcapng");
        File.WriteAllBytes(path, file);
        return path;
    }

    private static List<(DateTimeOffset Time, string[] Members)> Lines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(line =>
        {
            using var doc = JsonDocument.Parse(line);
            var time = DateTimeOffset.Parse(doc.RootElement.GetProperty("time").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            var members = doc.RootElement.GetProperty("groups").EnumerateArray()
                .Select(g => $"{g.GetProperty("port").GetString()}:{g.GetProperty("group").GetString()}").ToArray();
            return (time, members);
        }).ToList();

    [Fact]
    public async Task SeveralMoments_OneJsonLineEach_InTimeOrder_WithTheStateThen()
    {
        string path = WriteCapture();
        try
        {
            // Relative, time of day, unix seconds and ISO 8601, out of order and comma-separated.
            var (code, stdout, stderr) = await TsmProcess.RunAsync("snoop", "--pcap", path, "--json", "--gmi", "8",
                "--at", "+15", "--at", "12:00:05,1767268809.5", "--at", "2026-01-01T11:59:59Z");
            Assert.True(code == 0, stderr);
            var lines = Lines(stdout);
            var noon = DateTimeOffset.FromUnixTimeSeconds(Noon);
            Assert.Equal([noon.AddSeconds(-1), noon.AddSeconds(5), noon.AddSeconds(9.5), noon.AddSeconds(15)], lines.Select(l => l.Time));
            Assert.Empty(lines[0].Members);                                  // before the first frame
            Assert.Equal(["x-p5:239.2.2.2"], lines[1].Members);
            Assert.Empty(lines[2].Members);                                  // GMI 8 s ran out; 239.3.3.3 not yet heard
            Assert.Equal(["x-p6:239.3.3.3"], lines[3].Members);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public async Task NoMoment_PrintsTheStateAtTheEnd_AsOneObject()
    {
        string path = WriteCapture();
        try
        {
            var (code, stdout, stderr) = await TsmProcess.RunAsync("snoop", "--pcap", path, "--json");
            Assert.True(code == 0, stderr);
            var line = Assert.Single(Lines(stdout));
            Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(Noon + 10), line.Time);
            Assert.Equal(["x-p5:239.2.2.2", "x-p6:239.3.3.3"], line.Members);
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("--at", "yesterday", "is not a moment")]
    [InlineData("--at", "+-3", "is not a moment")]
    [InlineData("--at", "25:00:00", "is not a moment")]
    [InlineData("--query-response", "0", "positive number of seconds")]
    [InlineData("--robustness", "0", "integer ≥ 1")]
    public async Task BadArgument_ExitsTwoWithAClearMessage(string option, string value, string message)
    {
        string path = WriteCapture();
        try
        {
            var (code, stdout, stderr) = await TsmProcess.RunAsync("snoop", "--pcap", path, option, value);
            Assert.Equal(2, code);
            Assert.Contains(message, stderr, StringComparison.Ordinal);
            Assert.Empty(stdout);
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("1767268800", CaptureMomentKind.Absolute, 1767268800_0000000L)]
    [InlineData("1767268800.1234567", CaptureMomentKind.Absolute, 1767268800_1234567L)]
    [InlineData("2026-01-01T12:00:00.25Z", CaptureMomentKind.Absolute, 1767268800_2500000L)]
    [InlineData("2026-01-01T13:00:00+01:00", CaptureMomentKind.Absolute, 1767268800_0000000L)]
    [InlineData("+2.5", CaptureMomentKind.SinceStart, 2_5000000L)]
    [InlineData("12:00:03", CaptureMomentKind.TimeOfDay, 43203_0000000L)]
    [InlineData("9:05:00.5", CaptureMomentKind.TimeOfDay, 32700_5000000L)]
    public void CaptureMoment_Parses_EveryForm(string text, CaptureMomentKind kind, long ticks)
    {
        Assert.True(CaptureMoment.TryParse(text, out var m, out string error), error);
        Assert.Equal(new CaptureMoment(kind, ticks), m);
    }

    [Fact]
    public void CaptureMoment_TimeOfDay_ResolvesOnTheCapturesFirstDay()
    {
        long first = DateTimeOffset.Parse("2026-03-04T23:59:58Z", System.Globalization.CultureInfo.InvariantCulture).UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        Assert.True(CaptureMoment.TryParse("12:00:03", out var m, out _));
        Assert.Equal(DateTimeOffset.Parse("2026-03-04T12:00:03Z", System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.UnixEpoch.AddTicks(m.Resolve(first)));
        Assert.True(CaptureMoment.TryParse("+3", out m, out _));
        Assert.Equal(first + 3 * TimeSpan.TicksPerSecond, m.Resolve(first));
    }
}
