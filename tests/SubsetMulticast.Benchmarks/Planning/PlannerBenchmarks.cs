using BenchmarkDotNet.Attributes;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.Planning;
using SubsetMulticast.Core.ReferenceGroups;
using SubsetMulticast.Emulator;
using SubsetMulticast.Emulator.Topology;

namespace SubsetMulticast.Benchmarks.Planning;

/// <summary>
/// Controller-computed planning on a 1,000-switch fabric (leaf-spine 20 spines × 980 leaves × 20 hosts,
/// 19,600 hosts): a 12-server negotiating group on 12 leaves, 3 members per plan, written into a reused
/// buffer. The target: ≥ 500k plans/s on one core, nothing allocated.
/// </summary>
[MemoryDiagnoser]
public class PlannerBenchmarks
{
    private SubsetPlanner _planner = null!;
    private ReferenceGroup _reference = null!;
    private IpAddress[][] _memberSets = null!;
    private readonly PlanBuffer _buffer = new();
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var fabric = new EmulatedFabric(FabricSpec.LeafSpine(20, 980, 20, ipv6: false));
        var hosts = new HostTable();
        fabric.ExportHosts(hosts);
        var references = new ReferenceGroupTable(fabric.Topology);
        var group = IpAddress.Parse("239.1.0.1");
        var servers = Enumerable.Range(0, 12).Select(i => fabric.Hosts[i * 1637 % fabric.Hosts.Count]).ToArray();
        foreach (var s in servers) { hosts.TryResolve(s.Vlan, s.Ipv4, out var at); references.Join(group, at); }
        references.TryGet(1, group, out _reference);
        _planner = new SubsetPlanner(fabric.Topology, hosts);
        var rng = new Random(7);
        _memberSets = [.. Enumerable.Range(0, 64).Select(_ => servers.OrderBy(_ => rng.Next()).Take(3).Select(h => h.Ipv4).ToArray())];
        _planner.Plan(_reference, _memberSets[0], _buffer);
        if (_buffer.EffectiveCount != 3 || _buffer.SwitchCount == 0) throw new InvalidOperationException("Setup produced an empty plan.");
    }

    [Benchmark(Description = "plan 3 of 12 on 1,000 switches")]
    public int Plan()
    {
        var members = _memberSets[_next++ & 63];
        _planner.Plan(_reference, members, _buffer);
        return _buffer.SwitchCount;
    }
}
