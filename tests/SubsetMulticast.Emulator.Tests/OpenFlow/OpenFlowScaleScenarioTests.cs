using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SubsetMulticast.Controller.OpenFlowFabric;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Emulator.OpenFlow;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.OpenFlow.Protocol;
using Xunit.Abstractions;
using EmulatedOpenFlowFabric = SubsetMulticast.Emulator.OpenFlow.OpenFlowFabric;

namespace SubsetMulticast.Emulator.Tests.OpenFlow;

/// <summary>
/// Issue 4's OVS scenario at scale: 100 emulated OpenFlow switches (4 spines, 96 leaves, 384 hosts) connect
/// over TCP to the real controller composition (listener, southbound, LLDP discovery, learner, REST). The
/// controller learns the wiring from LLDP, the reference group from real IGMPv3 joins punted to it, the hosts
/// from gratuitous ARP; a rendezvous group for 3 hosts requested over HTTP carries one UDP datagram to exactly
/// those 3 with no link carrying two copies; the rules are in the switches' group tables exactly where the
/// controller says; a switch that lost its rules and reconnects is reconciled; DELETE removes every rule.
/// </summary>
public sealed class OpenFlowScaleScenarioTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);
    private static readonly IpAddress Reference = IpAddress.Parse("239.1.0.1");

    /// <summary>
    /// leaf-spine:4:96:4 is issue 4's scale; leaf-spine:1:7:4 (8 switches) is the same scenario small enough to
    /// read in a log. Members and senders are by name: "hL-H" is host H of leaf L.
    /// </summary>
    [Theory]
    [InlineData(4, 96, 4, "h7-2 h40-1 h95-4", "h7-1 h40-3")]
    [InlineData(1, 7, 4, "h2-2 h4-1 h6-4", "h2-1 h6-3")]
    public async Task LeafSpine_RestGroupForThreeHosts_DeliversToExactlyThemReconcilesAndReleases(int spines, int leaves, int hostsPerLeaf, string memberNames, string senderNames)
    {
        await using var service = await TestController.StartAsync();
        var spec = FabricSpec.LeafSpine(spines, leaves, hostsPerLeaf, vlan: 0, ipv6: false);
        int switchCount = spines + leaves, treeLinks = switchCount - 1;
        await using var switches = await EmulatedOpenFlowFabric.ConnectAsync(new EmulatedFabric(spec), service.Listener.LocalEndpoint);
        var fabric = switches.Fabric;

        // The controller learns the wiring: every switch, every link, the same spanning tree as the emulator's.
        await Eventually.UntilAsync(() => fabric.Switches.All(switches.PuntsIgmp), Wait, $"punt flows on {switchCount} switches");
        await Eventually.UntilAsync(() => service.Learner.Topology.Links.Count == spec.Links.Count, Wait, $"{spec.Links.Count} links learned from LLDP");
        using var http = new HttpClient { BaseAddress = service.Controller.ApiUrl, Timeout = TimeSpan.FromSeconds(30) };
        var topology = (await http.GetFromJsonAsync<JsonNode>("api/v1/topology"))!;
        Assert.Equal(switchCount, topology["switches"]!.AsArray().Count);
        Assert.Equal(spec.Links.Count, topology["links"]!.AsArray().Count);
        // The same links, and the same ones blocked, as the emulator's own spanning tree.
        static string Link(string a, uint pa, string b, uint pb) => string.CompareOrdinal(a, b) < 0 ? $"{a}:{pa}-{b}:{pb}" : $"{b}:{pb}-{a}:{pa}";
        var learned = topology["links"]!.AsArray().ToDictionary(
            l => Link((string)l!["a"]!["switch"]!, (uint)l["a"]!["port"]!, (string)l["b"]!["switch"]!, (uint)l["b"]!["port"]!), l => (bool)l!["blocked"]!);
        var expected = fabric.Topology.Links.ToDictionary(
            l => Link(EmulatedOpenFlowFabric.SwitchIdOf(fabric.Switches[l.A.Switch]), l.A.Port, EmulatedOpenFlowFabric.SwitchIdOf(fabric.Switches[l.B.Switch]), l.B.Port),
            l => !fabric.Topology.Tree.IsTreePort(l.A.Switch, l.A.Port));
        Assert.Equal(expected.OrderBy(kv => kv.Key, StringComparer.Ordinal), learned.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Equal(spec.Links.Count - treeLinks, learned.Values.Count(b => b));

        // Hosts announce (gratuitous ARP) and join the reference group with real IGMPv3 reports.
        fabric.Announce();
        foreach (var h in fabric.Hosts) fabric.Join(h, Reference);
        await switches.WaitForPacketInsSentAsync(Wait);
        Assert.Equal(0, switches.PacketInsDropped);
        output.WriteLine($"{switches.PacketInsSent} packet-ins sent; learner fed {service.Feed.FramesFed} frames");
        await Eventually.UntilAsync(() => service.Hosts.Count == fabric.Hosts.Count, Wait,
            $"{fabric.Hosts.Count} host locations (learned so far: {service.Hosts.Count})");
        // "Sent" is the switches' side: the controller may still be reading packet-ins (the spine's last).
        await TestController.WaitForReferenceGroupAsync(service, switches, Reference, fabric.Hosts, Wait);
        await TestController.WaitForUnregisteredGroupFlowsAsync(switches, Wait);
        var refs = (await http.GetFromJsonAsync<JsonArray>("api/v1/reference-groups"))!;
        var refGroup = Assert.Single(refs, r => (string)r!["group"]! == Reference.ToString())!;
        Assert.Equal(switchCount, refGroup["switches"]!.AsArray().Count);
        // Every leaf's member ports include its host ports (plus the uplinks the other leaves' reports came in on).
        foreach (var leafNode in refGroup["switches"]!.AsArray())
        {
            var sw = fabric.Switches.Single(s => EmulatedOpenFlowFabric.SwitchIdOf(s) == (string)leafNode!["id"]!);
            if (!sw.Name.StartsWith("leaf", StringComparison.Ordinal)) continue;
            var ports = leafNode!["memberPorts"]!.AsArray().Select(p => (uint)p!).ToHashSet();
            Assert.Superset(Enumerable.Range(1, hostsPerLeaf).Select(p => (uint)p).ToHashSet(), ports);
        }

        // A rendezvous group for 3 hosts on 3 leaves, over HTTP.
        var members = memberNames.Split(' ').Select(fabric.Host).ToArray();
        var senders = senderNames.Split(' ').Select(fabric.Host).ToArray();
        var created = await http.PostAsJsonAsync("api/v1/groups", new
        {
            vlan = 0,
            reference = Reference.ToString(),
            members = members.Select(m => m.Ipv4.ToString()).ToArray(),
            ttlMs = 600_000,
        });
        var body = (await created.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.True(created.StatusCode == HttpStatusCode.Created, body.ToJsonString());
        var group = IpAddress.Parse((string)body["group"]!);
        string id = (string)body["id"]!;
        var rules = body["switches"]!.AsArray().ToDictionary(s => (string)s!["id"]!, s => s!["ports"]!.AsArray().Select(p => (uint)p!).Order().ToArray());
        output.WriteLine($"group {group}: rules on {rules.Count} switches, setup {body["setupMicros"]} µs");
        Assert.Empty(body["ignored"]!.AsArray());

        // The rules are in the switches' group tables exactly where the controller says, and nowhere else.
        AssertGroupTablesAre(switches, rules);

        // A datagram from hosts on members' leaves: exactly the 3, one copy per link.
        foreach (var sender in senders)
        {
            var report = fabric.SendUdp(sender, group, "chunk"u8);
            output.WriteLine($"from {sender.Name}: reached [{string.Join(' ', report.HostsReached().Select(i => fabric.Hosts[i].Name))}], max copies per link {report.MaxCopiesPerLinkPerFrame}");
            Assert.Equal(members.Select(m => m.Index).Order(), report.HostsReached().Order());
            Assert.Equal(1, report.MaxCopiesPerLinkPerFrame);
        }

        // A switch on the group's path loses its tables and its controller connection, then reconnects: reconciled.
        var victim = fabric.Switches.First(s => rules.ContainsKey(EmulatedOpenFlowFabric.SwitchIdOf(s)) && s.Name.StartsWith("leaf", StringComparison.Ordinal));
        var reconciled = new TaskCompletionSource<ReconcileSummary>(TaskCreationOptions.RunContinuationsAsynchronously);
        string victimId = EmulatedOpenFlowFabric.SwitchIdOf(victim);
        service.Southbound.Reconciled += (sw, r, error) =>
        {
            if (sw == victimId && r is not null) reconciled.TrySetResult(new ReconcileSummary(r.Added, r.Removed));
        };
        await switches.DisconnectAsync(victim);
        switches.Agent(victim).Mutate((groups, flows) =>
        {
            groups.Clear();
            flows.RemoveAll(f => f.Instructions.OfType<ApplyActions>().Any(a => a.Actions.OfType<GroupAction>().Any()));
        });
        // Without its rule the leaf treats the address as unregistered (router ports only): its own member is cut off.
        await Eventually.UntilAsync(() => switches.Agent(victim).Flows.Any(f => f.Cookie >> 48 == 0x5355), Wait, "the victim's unregistered-group flow");
        var broken = fabric.SendUdp(senders[0], group, "chunk"u8);
        var cutOff = members.Single(m => m.Switch == victim.Index);
        Assert.DoesNotContain(cutOff.Index, broken.HostsReached());
        await switches.ReconnectAsync(victim);
        var summary = await reconciled.Task.WaitAsync(Wait);
        Assert.Equal(2, summary.Added); // the group and its flow
        AssertGroupTablesAre(switches, rules);
        var again = fabric.SendUdp(senders[1], group, "chunk"u8);
        Assert.Equal(members.Select(m => m.Index).Order(), again.HostsReached().Order());

        // Release: every rule is removed.
        var deleted = await http.DeleteAsync($"api/v1/groups/{id}");
        Assert.True(deleted.IsSuccessStatusCode, await deleted.Content.ReadAsStringAsync());
        AssertGroupTablesAre(switches, new Dictionary<string, uint[]>());
        Assert.All(switches.Agents, a => Assert.DoesNotContain(a.Flows, f => (f.Cookie >> 48) == 0x534D));
    }

    /// <summary>
    /// A member-less leaf's portset is just its uplink, which the planner skips as "what the switch does for
    /// unregistered multicast" (router port = root port by default). Open vSwitch's NORMAL without snooping
    /// would flood it to the leaf's other hosts; the controller's unregistered-group flows must send it to the
    /// router port only.
    /// </summary>
    [Fact]
    public async Task SenderOnLeafWithoutMembers_DatagramReachesOnlyTheMembers()
    {
        await using var service = await TestController.StartAsync();
        var spec = FabricSpec.LeafSpine(1, 7, 4, vlan: 0, ipv6: false);
        await using var switches = await EmulatedOpenFlowFabric.ConnectAsync(new EmulatedFabric(spec), service.Listener.LocalEndpoint);
        var fabric = switches.Fabric;
        await Eventually.UntilAsync(() => fabric.Switches.All(switches.PuntsIgmp), Wait, "punt flows");
        await Eventually.UntilAsync(() => service.Learner.Topology.Links.Count == spec.Links.Count, Wait, "links learned from LLDP");
        fabric.Announce();
        foreach (var h in fabric.Hosts) fabric.Join(h, Reference);
        await switches.WaitForPacketInsSentAsync(Wait);
        await Eventually.UntilAsync(() => service.Hosts.Count == fabric.Hosts.Count, Wait, "host locations");
        var members = new[] { fabric.Host("h2-2"), fabric.Host("h4-1"), fabric.Host("h6-4") };
        await TestController.WaitForReferenceGroupAsync(service, switches, Reference, fabric.Hosts, Wait);
        // The guard under test: every switch holds its unregistered-group flow (written on topology changes and ticks).
        await TestController.WaitForUnregisteredGroupFlowsAsync(switches, Wait);
        using var http = new HttpClient { BaseAddress = service.Controller.ApiUrl, Timeout = TimeSpan.FromSeconds(30) };
        var created = await http.PostAsJsonAsync("api/v1/groups", new { vlan = 0, reference = Reference.ToString(), members = members.Select(m => m.Ipv4.ToString()).ToArray() });
        var body = (await created.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.True(created.StatusCode == HttpStatusCode.Created, body.ToJsonString());
        output.WriteLine($"rules: {body["switches"]!.ToJsonString()}");

        var report = fabric.SendUdp(fabric.Host("h5-3"), IpAddress.Parse((string)body["group"]!), "chunk"u8);
        output.WriteLine($"reached [{string.Join(' ', report.HostsReached().Select(i => fabric.Hosts[i].Name))}]");
        Assert.Equal(members.Select(m => m.Index).Order(), report.HostsReached().Order());
    }

    private sealed record ReconcileSummary(int Added, int Removed);

    private static void AssertGroupTablesAre(EmulatedOpenFlowFabric switches, IReadOnlyDictionary<string, uint[]> rules)
    {
        foreach (var s in switches.Fabric.Switches)
        {
            var groups = switches.Agent(s).Groups.Values.ToList();
            if (!rules.TryGetValue(EmulatedOpenFlowFabric.SwitchIdOf(s), out var ports))
            {
                Assert.True(groups.Count == 0, $"{s.Name} holds {groups.Count} groups, expected none");
                continue;
            }
            var g = Assert.Single(groups);
            Assert.Equal(GroupType.All, g.GroupType);
            Assert.Equal(ports, g.Buckets.SelectMany(b => b.Actions).OfType<OutputAction>().Select(o => o.Port).Order().ToArray());
        }
    }
}
