using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SubsetMulticast.Controller.OpenFlowFabric;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Emulator.Topology;
using Xunit.Abstractions;
using EmulatedOpenFlowFabric = SubsetMulticast.Emulator.OpenFlow.OpenFlowFabric;

namespace SubsetMulticast.Emulator.Tests.OpenFlow;

/// <summary>
/// The foundation's invariants, end to end over OpenFlow: on random fabrics (multi-spine leaf-spine and
/// fat-trees, so several paths) whose switches are OpenFlow agents of the real controller composition, with a
/// random reference group learned from real IGMPv3 joins and random member lists (members, non-members,
/// unknown addresses) requested over REST and sent from random hosts (members, outsiders, hosts on switches
/// without a rule): exactly members ∩ reference group receive, nobody outside the reference group ever does,
/// and no link carries two copies of a frame. Fixed seeds.
/// </summary>
public sealed class OpenFlowPropertyTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private static readonly IpAddress Reference = IpAddress.Parse("239.1.0.1");

    public static TheoryData<int> Seeds => [.. Enumerable.Range(1, 40)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task RandomFabricAndGroups_DeliverExactlyToMembersInTheReferenceGroup_OneCopyPerLink(int seed)
    {
        var rng = new Random(seed);
        var spec = rng.Next(4) == 0
            ? FabricSpec.FatTree(4, vlan: 0, ipv6: false)
            : FabricSpec.LeafSpine(rng.Next(1, 4), rng.Next(2, 7), rng.Next(2, 5), vlan: 0, ipv6: false);
        await using var service = await TestController.StartAsync();
        await using var switches = await EmulatedOpenFlowFabric.ConnectAsync(new EmulatedFabric(spec), service.Listener.LocalEndpoint);
        var fabric = switches.Fabric;
        await Eventually.UntilAsync(() => fabric.Switches.All(switches.PuntsIgmp), Wait, "punt flows");
        await Eventually.UntilAsync(() => service.Learner.Topology.Links.Count == spec.Links.Count, Wait, "LLDP links");

        // A random reference group of at least 3 hosts, joined with real reports.
        var joined = fabric.Hosts.Where(_ => rng.Next(3) != 0).ToList();
        while (joined.Count < 3) joined.Add(fabric.Hosts.First(h => !joined.Contains(h)));
        fabric.Announce();
        foreach (var h in joined) fabric.Join(h, Reference);
        await switches.WaitForPacketInsSentAsync(Wait);
        await Eventually.UntilAsync(() => service.Hosts.Count == fabric.Hosts.Count, Wait, "every host located");
        await TestController.WaitForReferenceGroupAsync(service, switches, Reference, joined, Wait);
        await TestController.WaitForUnregisteredGroupFlowsAsync(switches, Wait);
        output.WriteLine($"seed {seed}: {fabric.Switches.Count} switches, {spec.Links.Count} links, {joined.Count}/{fabric.Hosts.Count} hosts in the reference group");

        using var http = new HttpClient { BaseAddress = service.Controller.ApiUrl, Timeout = TimeSpan.FromSeconds(30) };
        var inReference = joined.Select(h => h.Index).ToHashSet();
        for (int round = 0; round < 3; round++)
        {
            var chosen = fabric.Hosts.Where(_ => rng.Next(4) == 0).Take(6).ToList();
            if (!chosen.Any(h => inReference.Contains(h.Index))) chosen.Add(joined[rng.Next(joined.Count)]);
            var addresses = chosen.Select(h => h.Ipv4.ToString()).Append("10.250.0.9").ToArray(); // plus an unknown host
            using var created = await http.PostAsJsonAsync("api/v1/groups", new { vlan = 0, reference = Reference.ToString(), members = addresses, ttlMs = 60_000 });
            var body = (await created.Content.ReadFromJsonAsync<JsonNode>())!;
            Assert.True(created.StatusCode == HttpStatusCode.Created, body.ToJsonString());
            var group = IpAddress.Parse((string)body["group"]!);
            var expected = chosen.Where(h => inReference.Contains(h.Index)).Select(h => h.Index).ToHashSet();
            Assert.Equal(chosen.Count(h => !inReference.Contains(h.Index)) + 1, body["ignored"]!.AsArray().Count);

            // Senders: a member, a host outside the reference group, and one anywhere.
            var senders = new List<EmulatedHost> { fabric.Hosts[expected.First()], fabric.Hosts[rng.Next(fabric.Hosts.Count)] };
            if (fabric.Hosts.FirstOrDefault(h => !inReference.Contains(h.Index)) is { } outsider) senders.Add(outsider);
            foreach (var sender in senders)
            {
                var report = fabric.SendUdp(sender, group, "chunk"u8);
                var reached = report.HostsReached().ToHashSet();
                Assert.True(reached.SetEquals(expected.Where(i => i != sender.Index)),
                    $"seed {seed} round {round}: from {sender.Name} reached [{string.Join(' ', reached.Select(i => fabric.Hosts[i].Name))}], expected [{string.Join(' ', expected.Where(i => i != sender.Index).Select(i => fabric.Hosts[i].Name))}]");
                Assert.DoesNotContain(reached, i => !inReference.Contains(i));
                Assert.True(report.MaxCopiesPerLinkPerFrame <= 1, $"seed {seed}: {report.MaxCopiesPerLinkPerFrame} copies on one link");
            }
            using var deleted = await http.DeleteAsync($"api/v1/groups/{(string)body["id"]!}");
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }
        Assert.All(switches.Agents, a => Assert.Empty(a.Groups));
    }
}
