namespace SubsetMulticast.Proof;

internal static class Stats
{
    /// <summary>Nearest-rank percentile of the finite samples; NaN when there are none.</summary>
    public static double P(IEnumerable<double> xs, double p)
    {
        var s = xs.Where(double.IsFinite).Order().ToArray();
        if (s.Length == 0) return double.NaN;
        int rank = (int)Math.Ceiling(p / 100.0 * s.Length);
        return s[Math.Clamp(rank - 1, 0, s.Length - 1)];
    }
}
