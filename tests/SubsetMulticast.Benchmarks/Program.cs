using BenchmarkDotNet.Running;

namespace SubsetMulticast.Benchmarks;

public static class Program
{
    // dotnet run -c Release --project tests/SubsetMulticast.Benchmarks -- --filter '*'
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
