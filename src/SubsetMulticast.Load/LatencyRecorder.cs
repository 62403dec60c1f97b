namespace SubsetMulticast.Load;

/// <summary>A client's latency samples in microseconds; merged and sorted once, after the run.</summary>
internal sealed class LatencyRecorder
{
    private int[] _samples = new int[1 << 16];
    public int Count { get; private set; }

    public void Add(long micros)
    {
        if (Count == _samples.Length) Array.Resize(ref _samples, _samples.Length * 2);
        _samples[Count++] = (int)Math.Min(micros, int.MaxValue);
    }

    public static Percentiles Merge(IEnumerable<LatencyRecorder> recorders)
    {
        var all = new List<int>();
        foreach (var r in recorders) all.AddRange(r._samples.AsSpan(0, r.Count).ToArray());
        if (all.Count == 0) return new Percentiles(0, 0, 0, 0, 0);
        all.Sort();
        double At(double q) => all[Math.Min(all.Count - 1, (int)Math.Floor(q * all.Count))] / 1000.0;
        return new Percentiles(all.Count, At(0.5), At(0.99), At(0.999), all[^1] / 1000.0);
    }
}

/// <summary>Latency percentiles in milliseconds.</summary>
public sealed record Percentiles(int Samples, double P50, double P99, double P999, double Max)
{
    public override string ToString() => $"p50 {P50:0.000} ms, p99 {P99:0.000} ms, p99.9 {P999:0.000} ms, max {Max:0.000} ms ({Samples:N0} samples)";
}
