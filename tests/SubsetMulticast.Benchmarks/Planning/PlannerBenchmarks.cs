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
/// buffer. The target: ≥ 500k plans/s on one core, nothing allocated. Also the shape of <c>tsm load</c>'s fabric
/// (leaf-spine 4 × 96 × 4, every one of the 384 hosts in the reference group, so all 100 switches are planned): 3 members.
/// </summary>
[MemoryDiagnoser]
public class PlannerBenchmarks
{
    private SubsetPlanner _planner = null!;
    private ReferenceGroup _reference = null!;
    private IpAddress[][] _memberSets = null!;
    private readonly PlanBuffer _buffer = new();
    private int _next;
    private SubsetPlanner _loadPlanner = null!;
    private ReferenceGroup _loadReference = null!;
    private IpAddress[][] _loadMembers = null!;

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

        var load = new EmulatedFabric(FabricSpec.LeafSpine(4, 96, 4, ipv6: false));
        var loadHosts = new HostTable();
        load.ExportHosts(loadHosts);
        var loadRefs = new ReferenceGroupTable(load.Topology);
        foreach (var h in load.Hosts) { loadHosts.TryResolve(h.Vlan, h.Ipv4, out var at); loadRefs.Join(group, at); }
        loadRefs.TryGet(load.Hosts[0].Vlan, group, out _loadReference);
        _loadPlanner = new SubsetPlanner(load.Topology, loadHosts);
        _loadMembers = [.. Enumerable.Range(0, 64).Select(_ => load.Hosts.OrderBy(_ => rng.Next()).Take(3).Select(h => h.Ipv4).ToArray())];
        _loadPlanner.Plan(_loadReference, _loadMembers[0], _buffer);
        if (_buffer.EffectiveCount != 3 || _buffer.SwitchCount == 0)
            throw new InvalidOperationException($"Load-shaped setup produced an empty plan ({_loadReference.SwitchCount} switches in the reference group, {_buffer.EffectiveCount} members).");
    }

    [Benchmark(Description = "plan 3 of 384 on 100 switches (tsm load's fabric)")]
    public int PlanLoadShape()
    {
        var members = _loadMembers[_next++ & 63];
        _loadPlanner.Plan(_loadReference, members, _buffer);
        return _buffer.SwitchCount;
    }

    [Benchmark(Description = "plan 3 of 12 on 1,000 switches")]
    public int Plan()
    {
        var members = _memberSets[_next++ & 63];
        _planner.Plan(_reference, members, _buffer);
        return _buffer.SwitchCount;
    }
}
