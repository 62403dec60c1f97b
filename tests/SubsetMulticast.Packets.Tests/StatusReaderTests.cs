using SubsetMulticast.Packets.Tests.Support;

namespace SubsetMulticast.Packets.Tests;

/// <summary>
/// The non-throwing readers (<c>Read…</c>, what the snooper's hot path calls) and the throwing ones at the API edge
/// (<c>TryRead…</c>) agree on every frame of the catalogue and on every single-byte corruption of it: the same
/// "ok"/"short", the same reason at the same offset.
/// </summary>
public sealed class StatusReaderTests
{
    private static IEnumerable<(string Name, byte[] Bytes)> Frames() =>
        Catalog.All().Select(f => (f.Name, f.Bytes)).Concat(Vectors.AllFrames.Select((h, i) => ($"capture-{i}", Hex.Parse(h))));

    [Fact]
    public void EveryFrameAndEveryByteCorruption_StatusEqualsException()
    {
        byte[] values = [0x00, 0xFF, 0x80, 0x7F, 0x01, 0x3F];
        int malformed = 0, compared = 0;
        foreach (var (name, original) in Frames())
        {
            var frame = original.ToArray();
            Assert.Equal(StatusStack.ThrowingOutcome(frame), StatusStack.Outcome(frame));
            for (int i = 0; i < frame.Length; i++)
            {
                byte keep = frame[i];
                foreach (var v in values.Append((byte)(keep ^ 0x01)))
                {
                    frame[i] = v;
                    string expected = StatusStack.ThrowingOutcome(frame), actual = StatusStack.Outcome(frame);
                    Assert.True(expected == actual, $"{name} byte {i} = 0x{v:x2}: exception path {expected}, status path {actual}");
                    if (actual.Contains('@')) malformed++;
                    compared++;
                }
                frame[i] = keep;
            }
            for (int cut = 0; cut < frame.Length; cut++)
                Assert.Equal(StatusStack.ThrowingOutcome(frame.AsSpan(0, cut)), StatusStack.Outcome(frame.AsSpan(0, cut)));
        }
        // The corpus exercises the malformed path, not only "ok".
        Assert.True(malformed > compared / 20, $"only {malformed} of {compared} corruptions were malformed");
    }
}
