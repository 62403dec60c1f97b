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

/// <summary>The report's "decision → answer and answer → received, apart" table (issue 14: why optimistic gains less than its answer).</summary>
public class LatencyReportTests
{
    private static SetupRow Ours(string mode, double[] total, double[] answer, double[] firstToAll, double[] missed)
    {
        var s = new SetupRow($"ours: REST create, {mode}", "test");
        s.SetupMs.AddRange(total);
        s.ControlMs.AddRange(answer);
        s.FirstSendToAllMs.AddRange(firstToAll);
        s.ProbesMissed.AddRange(missed);
        return s;
    }

    [Fact]
    public void Markdown_SplitsEachModeAtTheAnswer_AndCountsFirstProbesThatMissed()
    {
        var r = new ProofResult { Options = new ProofOptions() };
        r.Setup.Add(Ours("confirmed", [2.0, 3.0], [1.0, 1.5], [0.9, 1.4], [0, 0]));
        r.Setup.Add(Ours("optimistic", [4.0, 6.0], [0.5, 0.5], [3.4, 5.4], [0, 12]));
        string md = LatencyRun.Markdown(r);
        // confirmed: answer → all received = total − answer (1.0, 1.5); optimistic (3.5, 5.5), one trial's first probe missed a target.
        Assert.Contains("| ours: REST create, confirmed | 1.000 / 1.500 | 1.000 / 1.500 | — | 0.900 / 1.400 | — | 0 / 0 | 0 of 2 | — |", md, StringComparison.Ordinal);
        Assert.Contains("| ours: REST create, optimistic | 0.500 / 0.500 | 3.500 / 5.500 | — | 3.400 / 5.400 | — | 0 / 12 | 1 of 2 | — |", md, StringComparison.Ordinal);
        Assert.Contains("decision → all received 4.000 vs 2.000 ms — **not met**; decision → answer 0.500 vs 1.000 ms, first probe → all received 3.400 vs 0.900 ms", md, StringComparison.Ordinal);
    }
}
