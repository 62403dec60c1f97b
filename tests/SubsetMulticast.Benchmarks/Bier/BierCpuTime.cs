using System.Diagnostics;

namespace SubsetMulticast.Benchmarks.Bier;

/// <summary>
/// `dotnet SubsetMulticast.Benchmarks.dll bier-cputime`: the <see cref="BierForwardingBenchmarks"/> operations
/// timed by the process's CPU time as well as the wall clock. On a shared machine the wall clock counts the time
/// other builds hold the core; CPU time counts only the cycles this loop ran, so it is the per-core rate.
/// Single-threaded loop, so process CPU time is this thread's (plus a JIT/GC share, which makes it conservative).
/// </summary>
public static class BierCpuTime
{
    public static void Run(TextWriter output)
    {
        var b = new BierForwardingBenchmarks();
        b.Setup();
        var cases = new (string Name, Func<long> Op)[]
        {
            ("decision at spine, 3 BFERs", () => b.Spine3()),
            ("decision at spine, 32 BFERs", () => b.Spine32()),
            ("decision at spine, 256 BFERs", () => b.Spine256()),
            ("decision at leaf, 3 BFERs", () => b.Leaf3()),
            ("packet at spine (read, checks, copies), 3 BFERs", () => b.RouterProcess3()),
            ("header decode BSL 256", () => (long)b.Decode()),
            ("header encode BSL 256", () => b.Encode()),
        };
        output.WriteLine("| Operation | ns/op (CPU time) | M ops/s per core (CPU time) | ns/op (wall) | bytes allocated / op |");
        output.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var (name, op) in cases)
        {
            const int warm = 1_000_000, n = 5_000_000;
            long sink = 0;
            for (int i = 0; i < warm; i++) sink += op();
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            var cpu0 = Environment.CpuUsage.TotalTime;
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < n; i++) sink += op();
            double wall = Stopwatch.GetElapsedTime(t0).TotalNanoseconds / n;
            double cpu = (Environment.CpuUsage.TotalTime - cpu0).TotalNanoseconds / n;
            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            output.WriteLine($"| {name} | {cpu:F1} | {1000 / cpu:F1} | {wall:F1} | {(double)allocated / n:F2} |");
            if (sink == 42) output.WriteLine();   // keeps the loop's result alive
        }
    }
}
