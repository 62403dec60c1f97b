using BenchmarkDotNet.Attributes;
using SubsetMulticast.Snooping;

namespace SubsetMulticast.Benchmarks.Snooping;

/// <summary>
/// Frames parsed and applied per second by <see cref="Snooper.Process(PortId, ReadOnlySpan{byte}, long)"/> in steady
/// state: 1,024 existing groups on 8 ports, refreshed by a mix of IGMPv2 reports, IGMPv3 reports (an EXCLUDE record and
/// an INCLUDE record with 2 sources) and MLDv2 reports, each frame one operation. With <see cref="FastLeave"/> every
/// port has fast leave, so the IGMPv3/MLDv2 records also refresh their host's explicit tracking entry.
/// </summary>
[MemoryDiagnoser]
public class SnoopingBenchmarks : SteadyStateSnooping
{
    private byte[][] _frames = [];

    [Params(false, true)]
    public bool FastLeave { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var fastLeave = FastLeave ? Enumerable.Range(1, 8).Select(i => $"p{i}").ToHashSet() : [];
        _frames = CreateSnooper(new SnoopingOptions { FastLeavePorts = fastLeave });
        Run();   // create every membership: what follows is steady state
    }

    [Benchmark(OperationsPerInvoke = Frames, Description = "parse + apply one report (steady state)")]
    public int Run() => Feed(_frames);
}
