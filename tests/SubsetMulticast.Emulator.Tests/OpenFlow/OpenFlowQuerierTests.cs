using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using SubsetMulticast.Controller.OpenFlowFabric;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Emulator.Switching;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.Packets.Lldp;
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
        // Query every 3 s, robustness 3: GMI = 3 × 3 + 1 = 10 s; last-member query time 2 × 1 s. The controller runs on
        // a fake clock advanced a second (one tick) at a time; between advances the test waits only for the I/O the
        // tick caused (queries out, answers punted back and read), so no wall-clock second passes for a protocol one.
        // LLDP runs once at connect and not again: its rounds would add PACKET_OUTs the settling below does not count.
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(20_000));
        var snooping = SnoopingOptions.FromQueryTimers(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1),
            new QuerierOptions { IPv4Source = IpAddress.Parse("10.0.0.254") }, robustness: 3);
        await using var service = await TestController.StartAsync(snooping, time, lldpInterval: TimeSpan.FromDays(1));
        var io = new QueryTraffic(service);
        var spec = FabricSpec.LeafSpine(1, 2, 2, vlan: 0, ipv6: false);
        await using var switches = await EmulatedOpenFlowFabric.ConnectAsync(new EmulatedFabric(spec), service.Listener.LocalEndpoint);
        io.Watch(switches);
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

        // Nobody re-reports on their own: only answers to our general queries keep the memberships past GMI (10 s).
        var missing = new List<string>();
        for (int second = 1; second <= 14; second++)
        {
            await io.AdvanceAsync(time, TimeSpan.FromSeconds(1));
            foreach (var h in new[] { h11, h12, h21 })
                if (!IsMemberPort(service, fabric.Switches[h.Switch], h.Port)) missing.Add($"{h.Name} at {second} s");
            if (!IsMemberPort(service, spine, spineTowardLeaf1)) missing.Add($"spine toward leaf1 at {second} s");
        }
        output.WriteLine($"queries sent {service.Feed.QueriesSent}, answered with {fabric.QueryAnswers?.FramesSent ?? 0} reports");
        Assert.Empty(missing);
        Assert.True(fabric.QueryAnswers?.FramesSent >= 3, "the three members answered at least one general query");

        // h1-1 leaves. Its own port goes after the last-member query time (2 × 1 s); h1-2 answers leaf1's
        // group-specific query, so the spine's port toward leaf1 (where it heard the leave) and h1-2's port stay.
        fabric.Leave(h11, Reference);
        await io.SettleAsync();
        int gone = 0;
        for (int second = 1; second <= 6 && gone == 0; second++)
        {
            await io.AdvanceAsync(time, TimeSpan.FromSeconds(1));
            if (!IsMemberPort(service, fabric.Switches[h11.Switch], h11.Port)) gone = second;
        }
        Assert.True(gone is >= 2 and <= 4, $"h1-1's port left {gone} s after the leave (0: not within 6 s); the last-member query time is 2 s");
        for (int second = 1; second <= 4; second++)
        {
            await io.AdvanceAsync(time, TimeSpan.FromSeconds(1));
            Assert.True(IsMemberPort(service, spine, spineTowardLeaf1), $"the spine dropped its port toward leaf1 {second} s after h1-1's port went");
            Assert.True(IsMemberPort(service, fabric.Switches[h12.Switch], h12.Port), "h1-2's port left with h1-1's");
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

    /// <summary>
    /// Counts the querier's round trip so a test can tell when a tick's consequences are all in: every query the
    /// learner raised was written as a PACKET_OUT and handled by its emulated switch (whose hosts answer inside that
    /// handling), and every PACKET_IN the switches sent was read by the controller.
    /// </summary>
    private sealed class QueryTraffic
    {
        private readonly OpenFlowControllerService _service;
        private EmulatedOpenFlowFabric? _switches;
        private long _raised, _handled, _packetInsRead;

        /// <summary>Subscribes before any switch connects, so every PACKET_IN is counted from the first.</summary>
        public QueryTraffic(OpenFlowControllerService service)
        {
            _service = service;
            service.Learner.QuerySent += _ => Interlocked.Increment(ref _raised);
            service.Listener.PacketInReceived += (_, _) => Interlocked.Increment(ref _packetInsRead);
        }

        /// <summary>
        /// Counts the PACKET_OUTs the switches handled, LLDP probes left out (they are discovery's, not the querier's).
        /// Subscribed after the emulated datapath's own handler: this runs once the frame has been forwarded and answered.
        /// </summary>
        public void Watch(EmulatedOpenFlowFabric switches)
        {
            _switches = switches;
            foreach (var agent in switches.Agents)
                agent.PacketOut += (_, frame) =>
                {
                    if (frame.Length < 14 || ((frame[12] << 8) | frame[13]) != Lldp.EtherType) Interlocked.Increment(ref _handled);
                };
        }

        /// <summary>Advances the controller's clock by <paramref name="step"/> (one tick) and waits for that tick and its I/O.</summary>
        public async Task AdvanceAsync(FakeTimeProvider time, TimeSpan step)
        {
            long ticks = _service.Learner.Ticks;
            time.Advance(step);
            await Eventually.UntilAsync(() => _service.Learner.Ticks > ticks, Wait, "the learner's tick");
            await SettleAsync();
        }

        public Task SettleAsync() => Eventually.UntilAsync(() =>
            Interlocked.Read(ref _raised) == _service.Feed.QueriesSent &&
            Interlocked.Read(ref _handled) == Interlocked.Read(ref _raised) &&
            _switches!.PacketInsPending == 0 &&
            Interlocked.Read(ref _packetInsRead) == _switches.PacketInsSent,
            Wait, $"queries out and answers in (raised {_raised}, sent {_service.Feed.QueriesSent}, handled {_handled}, " +
                  $"packet-ins sent {_switches?.PacketInsSent}, read {_packetInsRead})");
    }

    private static bool IsMemberPort(OpenFlowControllerService service, EmulatedSwitch sw, uint port) =>
        service.References.TryGet(0, Reference, out var g) &&
        service.References.Topology.TryGetIndex(EmulatedOpenFlowFabric.SwitchIdOf(sw), out int index) && g.HasMemberPort(index, port);
}
