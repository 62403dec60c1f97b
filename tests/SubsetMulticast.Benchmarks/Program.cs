using BenchmarkDotNet.Running;

namespace SubsetMulticast.Benchmarks;

public static class Program
{
    // dotnet run -c Release --project tests/SubsetMulticast.Benchmarks -- --filter '*'
    // dotnet run -c Release --project tests/SubsetMulticast.Benchmarks -- transfer-put [N]   (put completion harness)
    public static void Main(string[] args)
    {
        // dotnet SubsetMulticast.Benchmarks.dll bier-trade: the TSM-over-BIER counts (results/bier.md)
        if (args is ["bier-trade"]) { Bier.BierTradeTable.Print(Console.Out); return; }
        if (args is ["bier-cputime"]) { Bier.BierCpuTime.Run(Console.Out); return; }
        // dotnet SubsetMulticast.Benchmarks.dll audit-scale [SWITCHES] [GROUPS] [RUNS]: the rule audit at scale (results/audit.md)
        if (args.Length > 0 && args[0] == "audit-scale") { Audit.AuditScaleHarness.RunAsync(args).GetAwaiter().GetResult(); return; }
        if (args.Length > 0 && args[0] == "transfer-put")
        {
            Transfer.PutCompletionHarness.RunAsync(args).GetAwaiter().GetResult();
            return;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
