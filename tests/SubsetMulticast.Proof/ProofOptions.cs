using System.Globalization;

namespace SubsetMulticast.Proof;

/// <summary>What to run. The defaults are the full proof (issue 9); <see cref="Smoke"/> is the few-second CI check.</summary>
public sealed record ProofOptions
{
    public int Receivers { get; init; } = 12;
    public int RateMbit { get; init; } = 200;
    public int Warmup { get; init; } = 20;
    public int SetupTrials { get; init; } = 200;
    public int OursTeardownTrials { get; init; } = 200;
    public int OvsTeardownTrials { get; init; } = 40;
    public int FloodTeardownTrials { get; init; } = 10;
    public int KernelTeardownTrials { get; init; } = 20;
    public int[] PutSizes { get; init; } = [64 * 1024, 1024 * 1024, 8 * 1024 * 1024];
    public double[] LossPercents { get; init; } = [0, 0.1, 1];
    public bool KernelBridge { get; init; } = true;
    public bool Uftp { get; init; } = true;
    public string? Output { get; init; }

    /// <summary>
    /// The latency proof only (issue 14): setup decision → all 3 received for the IGMP path and each of our setup
    /// modes, hop by hop, then <see cref="LatencyTeardownTrials"/> releases with DELETE ?wait=stopped. No puts,
    /// no Linux bridge. Results go to results/latency.md.
    /// </summary>
    public bool Latency { get; init; }
    public int LatencyTeardownTrials { get; init; } = 1000;

    /// <summary>
    /// <c>--latency-quick</c>: the latency proof's verdict in a few minutes — the IGMP path with flooding off, and
    /// each setup mode (confirmed over HTTP/1.1, h2c and the push instruction; optimistic; persistent) on one
    /// controller, 200 trials each (in turns), 50 releases with ?wait=stopped; no one-flow or pool-write controllers.
    /// </summary>
    public bool LatencyQuick { get; init; }

    /// <summary>
    /// Creates (and releases) made on each controller before anything is measured, over every client path it serves:
    /// the hot path's methods reach the JIT's optimised tier (30 calls, then a background recompile), so the first
    /// measured mode is not timed on unoptimised code (the 2026-12-02 04:13 run's first mode showed 2× the parse and
    /// prepare of the later ones). On the 2-core VM the background compiler was still busy after 3,000 creates with
    /// dynamic PGO on (tsm now runs without it), and still settling after 3,000 without (tests/proof/create-hops.sh); 4,500 take ~20 s on OVS.
    /// </summary>
    public int PreWarmCreates { get; init; } = 4500;
    public string Command { get; init; } = "tests/proof/run.sh";

    /// <summary>Put trials per size: enough for a p99 on small chunks within the time budget.</summary>
    public Func<int, int> PutTrials { get; init; } = bytes => bytes <= 64 * 1024 ? 40 : bytes <= 1024 * 1024 ? 20 : 8;

    public static ProofOptions Smoke => new()
    {
        Receivers = 5, Warmup = 3, SetupTrials = 8, OursTeardownTrials = 4, OvsTeardownTrials = 2, FloodTeardownTrials = 1, KernelTeardownTrials = 0,
        PutSizes = [64 * 1024], LossPercents = [0], KernelBridge = true, Uftp = true, PutTrials = _ => 2, Command = "dotnet test tests/SubsetMulticast.Proof.Tests",
    };

    public static ProofOptions Parse(string[] args)
    {
        var o = new ProofOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            o = args[i] switch
            {
                "--smoke" => Smoke with { Output = o.Output, Command = o.Command },
                "--out" => o with { Output = Next() },
                "--receivers" => o with { Receivers = Int() },
                "--rate-mbit" => o with { RateMbit = Int() },
                "--trials" => o with { SetupTrials = Int() },
                "--warmup" => o with { Warmup = Int() },
                "--command" => o with { Command = Next() },
                "--no-kernel-bridge" => o with { KernelBridge = false },
                "--latency" => o with { Latency = true },
                "--latency-quick" => o with { Latency = true, LatencyQuick = true, SetupTrials = 200, LatencyTeardownTrials = 50 },
                "--pre-warm" => o with { PreWarmCreates = Int() },
                "--teardown-trials" => o with { LatencyTeardownTrials = Int() },
                "--sizes" => o with { PutSizes = Next().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() },
                "--losses" => o with { LossPercents = Next().Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray() },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }
        if (o.Receivers < 4) throw new ArgumentException("--receivers must be at least 4 (3 targets and a non-target)");
        return o;
    }
}
