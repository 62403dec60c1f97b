using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Controller;
using SubsetMulticast.Controller.OpenFlowFabric;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Emulator;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Discovery;
using EmulatedOpenFlowFabric = SubsetMulticast.Emulator.OpenFlow.OpenFlowFabric;

namespace SubsetMulticast.Benchmarks.OpenFlow;

/// <summary>
/// One create + release cycle through the controller against 100 emulated OpenFlow switches over TCP
/// (leaf-spine 4 × 96 × 4, 384 hosts): the controller learned the topology from LLDP and the reference group
/// from the hosts' punted IGMPv3 joins; each cycle plans 3 members on 3 leaves, writes GROUP_MOD + FLOW_MOD to
/// every switch of the group's subtree, awaits every barrier, then removes them the same way. Measured through
/// the coordinator behind REST and through REST itself (HTTP on loopback).
/// </summary>
public class OpenFlowCycleBenchmarks
{
    private static readonly IpAddress Reference = IpAddress.Parse("239.1.0.1");
    private OpenFlowControllerService _service = null!;
    private EmulatedOpenFlowFabric _switches = null!;
    private HttpClient _http = null!;
    private CreateGroupRequest _request = null!;
    private object _body = null!;

    // BenchmarkDotNet's in-process toolchain does not await an async setup; it calls this on its own main
    // thread (not a pool thread), which waits once for the fabric to come up.
    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => CleanupAsync().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        _service = await OpenFlowControllerService.StartAsync(new OpenFlowControllerSettings
        {
            Controller = new ControllerOptions
            {
                ApiUrl = "http://127.0.0.1:0",
                PushUdp = null,
                Lifecycle = new LifecycleOptions().AddVlan(0, "239.255.0.0/16"),
                ConfigureLogging = l => l.ClearProviders(),
            },
            OpenFlowEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
            Connection = new OpenFlowOptions { HandshakeTimeout = TimeSpan.FromSeconds(30), RequestTimeout = TimeSpan.FromSeconds(30) },
            Discovery = new DiscoveryOptions { LldpInterval = TimeSpan.FromSeconds(5), LinkTimeout = TimeSpan.FromSeconds(60) },
        });
        var spec = FabricSpec.LeafSpine(4, 96, 4, vlan: 0, ipv6: false);
        _switches = await EmulatedOpenFlowFabric.ConnectAsync(new EmulatedFabric(spec), _service.Listener.LocalEndpoint);
        var fabric = _switches.Fabric;
        var wait = TimeSpan.FromSeconds(120);
        await Eventually.UntilAsync(() => fabric.Switches.All(_switches.PuntsIgmp), wait, "punt flows");
        await Eventually.UntilAsync(() => _service.Learner.Topology.Links.Count == spec.Links.Count, wait, "LLDP links");
        fabric.Announce();
        foreach (var h in fabric.Hosts) fabric.Join(h, Reference);
        await _switches.WaitForPacketInsSentAsync(wait);
        await Eventually.UntilAsync(() => _service.References.TryGet(0, Reference, out var g) && g.SwitchCount == 100, wait, "reference group on 100 switches");
        await Eventually.UntilAsync(() => _service.Hosts.Count == fabric.Hosts.Count, wait, "every host located by the learner");

        var members = new[] { fabric.Host("h7-2"), fabric.Host("h40-1"), fabric.Host("h95-4") };
        _request = new CreateGroupRequest(0, Reference, [.. members.Select(m => m.Ipv4)], TimeSpan.FromSeconds(60));
        _body = new { vlan = 0, reference = Reference.ToString(), members = members.Select(m => m.Ipv4.ToString()).ToArray(), ttlMs = 60_000 };
        _http = new HttpClient { BaseAddress = _service.Controller.ApiUrl, Timeout = TimeSpan.FromSeconds(30) };
        var first = await _service.Controller.Groups.CreateAsync(_request, default);
        if (!first.Succeeded) throw new InvalidOperationException(first.Problem!.Detail);
        Console.WriteLine($"// group on {first.Value!.Group.Switches.Count} of 100 switches; {_service.Hosts.Count} hosts learned");
        await _service.Controller.Groups.ReleaseAsync(first.Value.Group.Id, default);
    }

    private async Task CleanupAsync()
    {
        _http.Dispose();
        await _switches.DisposeAsync();
        await _service.DisposeAsync();
    }

    [Benchmark(Description = "create + release, coordinator, 100 OpenFlow switches")]
    public async Task<long> CoordinatorCycle()
    {
        var created = await _service.Controller.Groups.CreateAsync(_request, default);
        if (!created.Succeeded) throw new InvalidOperationException(created.Problem!.Detail);
        var released = await _service.Controller.Groups.ReleaseAsync(created.Value!.Group.Id, default);
        if (!released.Succeeded) throw new InvalidOperationException(released.Problem!.Detail);
        return created.Value.SetupMicros;
    }

    [Benchmark(Description = "create + release, REST, 100 OpenFlow switches")]
    public async Task<string> RestCycle()
    {
        using var created = await _http.PostAsJsonAsync("api/v1/groups", _body);
        if (created.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException(await created.Content.ReadAsStringAsync());
        var id = (string)(await created.Content.ReadFromJsonAsync<JsonNode>())!["id"]!;
        using var deleted = await _http.DeleteAsync($"api/v1/groups/{id}");
        if (!deleted.IsSuccessStatusCode) throw new InvalidOperationException(await deleted.Content.ReadAsStringAsync());
        return id;
    }
}
