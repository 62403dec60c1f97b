using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using SubsetMulticast.Controller.OpenFlowFabric;
using SubsetMulticast.Controller.Tests.Support;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Discovery;

namespace SubsetMulticast.Controller.Tests;

/// <summary>
/// <see cref="OpenFlowControllerService"/> with switch agents connected over TCP: the controller learns the
/// fabric from LLDP, reference groups and hosts from punted frames, and a REST request programs the agents.
/// </summary>
public sealed class OpenFlowServiceTests
{
    private static readonly IpAddress Reference = IpAddress.Parse("239.1.0.1");

    /// <summary>The controller's clock; LLDP rounds and ticks come when a test advances it (<see cref="UntilAsync{T}"/>).</summary>
    internal static OpenFlowControllerSettings Settings(FakeTimeProvider time) => new()
    {
        OpenFlowEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
        // On the fake clock these only bound a test that is stuck: the test's own wall-clock deadline comes first,
        // and a handshake slowed by a loaded machine must not time out because the test advanced the clock meanwhile.
        Connection = new OpenFlowOptions
        {
            HandshakeTimeout = TimeSpan.FromHours(1), RequestTimeout = TimeSpan.FromHours(1),
            EchoInterval = TimeSpan.FromHours(1), EchoTimeout = TimeSpan.FromHours(1),
        },
        Discovery = new DiscoveryOptions { LldpInterval = LldpInterval },
        TickInterval = TimeSpan.FromMilliseconds(200),
        Time = time,
        Controller = new ControllerOptions
        {
            ApiUrl = "http://127.0.0.1:0",
            PushUdp = null,
            Lifecycle = new LifecycleOptions().AddVlan(0, "239.255.0.0/16", "ff15::7:0/112"),
            ConfigureLogging = l => l.ClearProviders(),
        },
    };

    internal static readonly TimeSpan LldpInterval = TimeSpan.FromMilliseconds(300);

    internal static FakeTimeProvider Clock() => new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Service_LearnsFabricFromOpenFlow_AndProgramsTheAgentsOverRest()
    {
        var time = Clock();
        await using var service = await OpenFlowControllerService.StartAsync(Settings(time));
        await using var fabric = new AgentFabric();
        await fabric.ConnectAsync(service.Listener.LocalEndpoint);
        using var http = new HttpClient { BaseAddress = service.Controller.ApiUrl, Timeout = TimeSpan.FromSeconds(30) };

        // Topology from handshakes and LLDP.
        var topology = await UntilAsync(async () => JsonDocument.Parse(await http.GetStringAsync("api/v1/topology")).RootElement,
            t => t.GetProperty("switches").GetArrayLength() == 3 && t.GetProperty("links").GetArrayLength() == 2, "3 switches and 2 links", time);
        Assert.Contains(topology.GetProperty("switches").EnumerateArray(), s => s.GetProperty("id").GetString() == AgentFabric.Id(AgentFabric.SpineDpid) && s.GetProperty("root").GetBoolean());

        // Punt flows arrived (the discovery's bootstrap) before we punt anything.
        // (Only the discovery's cookie space: the unregistered-group flows arrive on their own schedule.)
        await UntilAsync(() => Task.FromResult(fabric.All.All(a => a.Flows.Count(f => f.Cookie >> 48 == 0x534E) >= 9)), ok => ok, "punt flows on every agent", time);
        for (int h = 1; h <= 6; h++) await fabric.EmitAsync(h, AgentFabric.Join(h, Reference));
        // Each switch's session reads its packet-ins on its own: wait for the last port of the slowest (the spine's).
        var refs = await UntilAsync(async () => JsonDocument.Parse(await http.GetStringAsync("api/v1/reference-groups")).RootElement,
            AgentFabric.EveryJoinLearned, "the six joins learned on 3 switches", time);
        Assert.Equal("239.1.0.1", refs[0].GetProperty("group").GetString());
        // The group is on 3 switches after the first join; the other joins' packet-ins may still be in flight.
        await UntilAsync(() => Task.FromResult(service.Hosts.Count), n => n == 6, "six hosts located", time);
        Assert.True(service.Hosts.TryResolve(default, AgentFabric.Ip(5), out var h5));
        Assert.Equal(2u, h5.Port.Port);
        Assert.Equal(AgentFabric.Id(AgentFabric.Leaf2Dpid), service.References.Topology.Switches[h5.Port.Switch].Id);

        // A rendezvous group for h2, h5, h6: rules on all three agents.
        using var created = await http.PostAsJsonAsync("api/v1/groups", new
        {
            vlan = 0, reference = "239.1.0.1", members = new[] { "10.0.1.2", "10.0.2.2", "10.0.2.3" }, ttlMs = 60_000,
        });
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, body);
        var group = JsonDocument.Parse(body).RootElement;
        Assert.Empty(group.GetProperty("ignored").EnumerateArray());
        Assert.All(fabric.All, a => Assert.Single(a.Groups));
        // Each switch's portset is the ports toward the members: h2 is behind leaf 1's port 2, h5/h6 behind leaf 2's 2 and 3.
        Assert.Equal([2u, 10u], Buckets(fabric.Leaf1));
        Assert.Equal([1u, 2u], Buckets(fabric.Spine));
        Assert.Equal([2u, 3u, 10u], Buckets(fabric.Leaf2));

        // A switch restart: its tables are gone when it reconnects, and reconciliation restores them.
        fabric.Leaf2.Mutate((groups, flows) => { groups.Clear(); flows.RemoveAll(f => f.Cookie >> 48 == 0x534D); });
        await fabric.Leaf2.DisconnectAsync();
        await fabric.Leaf2.ConnectAsync(service.Listener.LocalEndpoint);
        await UntilAsync(() => Task.FromResult(fabric.Leaf2.Groups.Count), n => n == 1, "reconciliation of leaf 2", time);
        Assert.Equal([2u, 3u, 10u], Buckets(fabric.Leaf2));
        Assert.Equal(3, service.References.Topology.Switches.Count); // same switch, same index

        using var deleted = await http.DeleteAsync($"api/v1/groups/{Uri.EscapeDataString(group.GetProperty("id").GetString()!)}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.All(fabric.All, a => Assert.Empty(a.Groups));
    }

    private static uint[] Buckets(SubsetMulticast.OpenFlow.Agent.OpenFlowSwitchAgent agent) =>
        [.. agent.Groups.Values.Single().Buckets.Select(b => ((SubsetMulticast.OpenFlow.Protocol.OutputAction)b.Actions[0]).Port).Order()];

    /// <summary>
    /// Reads until <paramref name="done"/>, for up to <paramref name="timeoutMs"/> of real time (the switches and the
    /// API answer over real sockets). With a <paramref name="time"/>, each unmet read advances the controller's clock by
    /// one LLDP interval, so probes, ticks and timeouts come from the test, not from the wall clock.
    /// </summary>
    internal static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what, FakeTimeProvider? time = null, int timeoutMs = 20_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        for (int i = 0; i < 10_000; i++)
        {
            var value = await read();
            if (done(value)) return value;
            if (DateTime.UtcNow > deadline) throw new Xunit.Sdk.XunitException($"timed out after {timeoutMs} ms waiting for {what}; last: {value}");
            time?.Advance(LldpInterval);
            await Task.Delay(50);   // what is awaited crosses a socket
        }
        throw new Xunit.Sdk.XunitException($"gave up waiting for {what}");
    }
}
