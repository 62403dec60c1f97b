namespace SubsetMulticast.Proof.Tests;

/// <summary>The latency proof's verdict per mode (issue 14): the split it reports and how it reads it against the goals. No testbed.</summary>
public class LatencySplitTests
{
    private static SetupRow Row(double[] total, double[] own, double[] barrier, double[] upcall)
    {
        var s = new SetupRow("ours: REST create, confirmed", "test");
        s.SetupMs.AddRange(total);
        s.ControllerOwnMs.AddRange(own);
        foreach (var b in barrier) s.AddHop("barrier", b);
        s.UpcallMs.AddRange(upcall);
        return s;
    }

    [Fact]
    public void Of_TakesEachPartsP50_AndTheTotalsP99()
    {
        var split = LatencySplit.Of(Row([1, 2, 3, 4, 100], [0.1, 0.2, 0.3, 0.4, 0.5], [0.5, 0.6, 0.7, 0.8, 0.9], [0.2, 0.3, 0.4, 0.5, 0.6]));
        Assert.Equal(3, split.P50);
        Assert.Equal(100, split.P99);
        Assert.Equal(0.3, split.OwnP50);
        Assert.Equal(0.7, split.BarrierP50);
        Assert.Equal(0.4, split.UpcallP50);
        Assert.True(double.IsNaN(split.ReportDelayP50));
    }

    [Theory]
    [InlineData(0.55, 1.9, 0.3, "**met** (≤ 0.6 ms p50, ≤ 2 ms p99)")]
    [InlineData(0.65, 1.9, 0.3, "controller's own share **not met** (0.300 > 0.2 ms)")]
    [InlineData(0.55, 2.1, 0.15, "controller's own share **met** (0.150 ≤ 0.2 ms)")]
    [InlineData(1.4, 3, 0.2, "controller's own share **met** (0.200 ≤ 0.2 ms)")]
    public void Verdict_ReadsTheTotal_ThenTheControllersShare(double p50, double p99, double own, string expected)
    {
        var v = new LatencySplit("x", p50, p99, own, 0.4, 0.3, double.NaN, 0.1).Verdict();
        Assert.EndsWith(expected, v, StringComparison.Ordinal);
        if (!expected.StartsWith("**met**", StringComparison.Ordinal)) Assert.Contains("total not met", v, StringComparison.Ordinal);
    }

    [Fact]
    public void Verdict_WithoutAControllerShare_SaysWhy()
    {
        Assert.EndsWith("the kernel's report delay dominates", new LatencySplit("igmp", 12, 18, double.NaN, double.NaN, 0.05, 9.2, 2.7).Verdict(), StringComparison.Ordinal);
        Assert.EndsWith("controller share not split out", new LatencySplit("push", 4, 40, double.NaN, double.NaN, 0.3, double.NaN, double.NaN).Verdict(), StringComparison.Ordinal);
    }
}
