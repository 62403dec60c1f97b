using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Controller;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.ReferenceGroups;
using SubsetMulticast.Emulator;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.Push;

namespace SubsetMulticast.Benchmarks.Controller;

/// <summary>
/// One create + release cycle through the running controller's coordinator (validation, planning,
/// address allocation, two-phase transaction, southbound apply and commit) on the emulated
/// leaf-spine:2:4:8 fabric, in both modes. The target: ≥ 20k cycles/s.
/// </summary>
[MemoryDiagnoser]
public class GroupCycleBenchmarks
{
    private TsmControllerHost _host = null!;
    private CreateGroupRequest _request = null!;

    [Params(ApplyMode.Computed, ApplyMode.Pushed)]
    public ApplyMode Mode { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var fabric = new EmulatedFabric(FabricSpec.Parse("leaf-spine:2:4:8"));
        fabric.Announce();
        var reference = IpAddress.Parse("239.1.0.1");
        var servers = Enumerable.Range(0, 12).Select(i => fabric.Hosts[i * 2]).ToArray();
        foreach (var s in servers) fabric.Join(s, reference);
        var hosts = new HostTable();
        fabric.ExportHosts(hosts);
        var references = new ReferenceGroupTable(fabric.Topology);
        fabric.ExportReferenceGroups(references);
        var keys = new PushKeyRing().Add(1, 1, new byte[32]);
        var southbound = new EmulatorSouthbound(fabric, keys);
        _host = TsmControllerHost.StartAsync(new ControllerOptions
        {
            ApiUrl = "http://127.0.0.1:0",
            PushUdp = null,
            Mode = Mode,
            PushKeys = keys,
            Lifecycle = new LifecycleOptions().AddVlan(1, "239.255.0.0/16"),
            ConfigureLogging = l => l.ClearProviders(),
        }, fabric.Topology, hosts, references, southbound, southbound, TimeProvider.System).GetAwaiter().GetResult();
        _request = new CreateGroupRequest(1, reference, [servers[0].Ipv4, servers[5].Ipv4, servers[10].Ipv4], TimeSpan.FromSeconds(30));
    }

    [GlobalCleanup]
    public void Cleanup() => _host.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Description = "create + release")]
    public async Task<long> CreateRelease()
    {
        var created = await _host.Groups.CreateAsync(_request, default);
        if (!created.Succeeded) throw new InvalidOperationException(created.Problem!.Detail);
        var released = await _host.Groups.ReleaseAsync(created.Value!.Group.Id, default);
        if (!released.Succeeded) throw new InvalidOperationException(released.Problem!.Detail);
        return created.Value.SetupMicros;
    }
}
