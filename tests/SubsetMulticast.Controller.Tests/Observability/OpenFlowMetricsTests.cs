using System.Net;
using System.Net.Http.Json;
using SubsetMulticast.Controller.OpenFlowFabric;
using SubsetMulticast.Controller.Tests.Support;
using SubsetMulticast.Core.Addressing;
using static SubsetMulticast.Controller.Tests.OpenFlowServiceTests;

namespace SubsetMulticast.Controller.Tests.Observability;

/// <summary>
/// GET /metrics of the OpenFlow controller with three switch agents connected over TCP: the counters move with what
/// happened — switches connected and reconciled, punted joins counted as IGMP packet-ins and fed to the snoopers, a
/// malformed punted report counted as a snooper drop, a group created with its setup time and barrier round trips.
/// </summary>
public sealed class OpenFlowMetricsTests
{
    private static readonly IpAddress Reference = IpAddress.Parse("239.1.0.1");

    [Fact]
    public async Task Metrics_MoveWithConnectsPuntsAndGroups_AndPromtoolAcceptsThem()
    {
        var time = Clock();
        await using var service = await OpenFlowControllerService.StartAsync(Settings(time));
        using var http = new HttpClient { BaseAddress = service.Controller.ApiUrl, Timeout = TimeSpan.FromSeconds(30) };
        var idle = await http.GetStringAsync("metrics");
        Assert.Equal(0, Prometheus.Sample(idle, "tsm_openflow_switches_connected"));
        Assert.Equal(0, Prometheus.Sample(idle, "tsm_openflow_packet_ins_total", "kind=\"igmp\""));

        await using var fabric = new AgentFabric();
        await fabric.ConnectAsync(service.Listener.LocalEndpoint);
        await UntilAsync(() => Task.FromResult(service.Learner.Topology.Links.Count), n => n == 2, "2 links from LLDP", time);
        await UntilAsync(() => Task.FromResult(fabric.All.All(a => a.Flows.Count(f => f.Cookie >> 48 == 0x534E) >= 9)), ok => ok, "punt flows on every agent", time);
        for (int h = 1; h <= 6; h++) await fabric.EmitAsync(h, AgentFabric.Join(h, Reference));
        var bad = AgentFabric.Join(1, Reference);
        bad[^1] ^= 0xFF;   // the last byte of the IGMP message: its checksum no longer verifies
        await fabric.EmitAsync(1, bad);
        await UntilAsync(() => Task.FromResult(service.Hosts.Count), n => n == 6, "six hosts located", time);
        var punted = await UntilAsync(() => http.GetStringAsync("metrics"),
            m => Prometheus.Sample(m, "tsm_snooping_drops_total", "reason=\"bad_checksum\"") >= 1, "the malformed report's drop", time);

        Assert.Equal(3, Prometheus.Sample(punted, "tsm_openflow_switches_connected"));
        Assert.Equal(3, Prometheus.Sample(punted, "tsm_openflow_reconciles_total", "outcome=\"ok\""));
        // Each join is flooded to the other switches and punted by each one it crosses: at least one packet-in per join.
        Assert.True(Prometheus.Sample(punted, "tsm_openflow_packet_ins_total", "kind=\"igmp\"") >= 7, punted);
        Assert.True(Prometheus.Sample(punted, "tsm_openflow_packet_ins_total", "kind=\"lldp\"") >= 2, punted);
        Assert.True(Prometheus.Sample(punted, "tsm_snooping_frames_fed_total") >= 7, punted);
        Assert.Equal(0, Prometheus.Sample(punted, "tsm_group_operations_total"));

        using var created = await http.PostAsJsonAsync("api/v1/groups", new { vlan = 0, reference = "239.1.0.1", members = new[] { "10.0.1.2", "10.0.2.2" }, ttlMs = 60_000 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var after = await http.GetStringAsync("metrics");
        await Prometheus.CheckAsync(after);
        Assert.Equal(1, Prometheus.Sample(after, "tsm_group_operations_total", "operation=\"create\"", "outcome=\"ok\""));
        Assert.Equal(1, Prometheus.Sample(after, "tsm_groups_live"));
        Assert.Equal(1, Prometheus.Sample(after, "tsm_group_setup_duration_seconds_count"));
        // One barrier per switch programmed (3), on top of whatever reconciliation sent.
        Assert.True(Prometheus.Sample(after, "tsm_openflow_barrier_duration_seconds_count") >= 3 + Prometheus.Sample(punted, "tsm_openflow_barrier_duration_seconds_count"), after);
    }
}
