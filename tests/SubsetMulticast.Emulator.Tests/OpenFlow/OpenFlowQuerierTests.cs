using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SubsetMulticast.Controller.OpenFlowFabric;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Emulator.Switching;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.Snooping;
using Xunit.Abstractions;
using EmulatedOpenFlowFabric = SubsetMulticast.Emulator.OpenFlow.OpenFlowFabric;

namespace SubsetMulticast.Emulator.Tests.OpenFlow;

/// <summary>
/// The controller's own querier on emulated OpenFlow switches whose hosts answer queries. Memberships
/// outlive the group membership interval because the hosts answer general queries; when one of two members
/// behind a leaf leaves, the spine (which heard the leave on its port toward that leaf) keeps the port,
/// because the other member answers the leaf's group-specific query — the two things a fabric without an
/// answering host stack gets wrong.
/// </summary>
public sealed class OpenFlowQuerierTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private static readonly IpAddress Reference = IpAddress.Parse("239.1.0.1");

    [Fact]
    public async Task HostsAnswerOurQueries_MembershipsOutliveGmi_AndALeaveKeepsTheOtherMembersPath()
    {
        // Query every 3 s, robustness 3: GMI = 3 × 3 + 1 = 10 s; last-member query time 2 × 1 s.
        var snooping = SnoopingOptions.FromQueryTimers(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1),
            new QuerierOptions { IPv4Source = IpAddress.Parse("10.0.0.254") }, robustness: 3);
        await using var service = await TestController.StartAsync(snooping);
        var spec = FabricSpec.LeafSpine(1, 2, 2, vlan: 0, ipv6: false);
        await using var switches = await EmulatedOpenFlowFabric.ConnectAsync(new EmulatedFabric(spec), service.Listener.LocalEndpoint);
        var fabric = switches.Fabric;
        await Eventually.UntilAsync(() => fabric.Switches.All(switches.PuntsIgmp), Wait, "punt flows");
        await Eventually.UntilAsync(() => service.Learner.Topology.Links.Count == spec.Links.Count, Wait, "LLDP links");

        var (h11, h12, h21) = (fabric.Host("h1-1"), fabric.Host("h1-2"), fabric.Host("h2-1"));
        var spine = fabric.Switch("spine1");
        fabric.Announce();
        foreach (var h in new[] { h11, h12, h21 }) fabric.Join(h, Reference);
        await switches.WaitForPacketInsSentAsync(Wait);
        await TestController.WaitForReferenceGroupAsync(service, switches, Reference, [h11, h12, h21], Wait);
        await Eventually.UntilAsync(() => service.Hosts.Count == fabric.Hosts.Count, Wait, "host locations");
        uint spineTowardLeaf1 = fabric.Topology.Tree.PortToward(spine.Index, new PortRef(h11.Switch, h11.Port));

        // Nobody re-reports on their own: only answers to our general queries keep the memberships past GMI.
        var watch = Stopwatch.StartNew();
        var missing = new List<string>();
        for (int i = 0; i < 1000 && watch.Elapsed < TimeSpan.FromSeconds(14); i++)
        {
            foreach (var h in new[] { h11, h12, h21 })
                if (!IsMemberPort(service, fabric.Switches[h.Switch], h.Port)) missing.Add($"{h.Name} at {watch.Elapsed.TotalSeconds:0.0} s");
            if (!IsMemberPort(service, spine, spineTowardLeaf1)) missing.Add($"spine toward leaf1 at {watch.Elapsed.TotalSeconds:0.0} s");
            await Task.Delay(100);
        }
        output.WriteLine($"queries sent {service.Feed.QueriesSent}, answered with {fabric.QueryAnswers?.FramesSent ?? 0} reports");
        Assert.Empty(missing);
        Assert.True(fabric.QueryAnswers?.FramesSent >= 3, "the three members answered at least one general query");

        // h1-1 leaves. Its own port goes after the last-member query time; h1-2 answers leaf1's group-specific
        // query, so the spine's port toward leaf1 (where it heard the leave) and h1-2's port stay.
        fabric.Leave(h11, Reference);
        await Eventually.UntilAsync(() => !IsMemberPort(service, fabric.Switches[h11.Switch], h11.Port), Wait, "h1-1's port to leave the group");
        var afterLeave = Stopwatch.StartNew();
        for (int i = 0; i < 100 && afterLeave.Elapsed < TimeSpan.FromSeconds(4); i++)
        {
            Assert.True(IsMemberPort(service, spine, spineTowardLeaf1), $"the spine dropped its port toward leaf1 {afterLeave.Elapsed.TotalSeconds:0.0} s after h1-1's port went");
            Assert.True(IsMemberPort(service, fabric.Switches[h12.Switch], h12.Port), "h1-2's port left with h1-1's");
            await Task.Delay(100);
        }

        // And a rendezvous group for h1-2 and h2-1 reaches both; h1-1 is outside the reference group now.
        using var http = new HttpClient { BaseAddress = service.Controller.ApiUrl, Timeout = TimeSpan.FromSeconds(30) };
        var created = await http.PostAsJsonAsync("api/v1/groups", new { vlan = 0, reference = Reference.ToString(), members = new[] { h11, h12, h21 }.Select(h => h.Ipv4.ToString()).ToArray() });
        var body = (await created.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.True(created.StatusCode == HttpStatusCode.Created, body.ToJsonString());
        Assert.Equal([h11.Ipv4.ToString()], body["ignored"]!.AsArray().Select(n => (string)n!["member"]!));
        var report = fabric.SendUdp(fabric.Host("h2-2"), IpAddress.Parse((string)body["group"]!), "chunk"u8);
        Assert.Equal([h12.Index, h21.Index], report.HostsReached().Order());
    }

    private static bool IsMemberPort(OpenFlowControllerService service, EmulatedSwitch sw, uint port) =>
        service.References.TryGet(0, Reference, out var g) &&
        service.References.Topology.TryGetIndex(EmulatedOpenFlowFabric.SwitchIdOf(sw), out int index) && g.HasMemberPort(index, port);
}
