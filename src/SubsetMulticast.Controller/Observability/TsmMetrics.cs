using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using SubsetMulticast.Controller.Composition;
using SubsetMulticast.Controller.Groups;
using SubsetMulticast.Controller.OpenFlowFabric;
using SubsetMulticast.Controller.Push;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Learning;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Southbound;
using SubsetMulticast.Push;
using SubsetMulticast.Snooping;

namespace SubsetMulticast.Controller.Observability;

/// <summary>
/// The controller's instruments (System.Diagnostics.Metrics), one <see cref="Meter"/> per controller host. Events
/// the controller causes (group operations, setup latency, packet-ins, barriers, reconcile actions) are counted
/// as they happen; counters the components already keep (learner, feed, push endpoint, snoopers) are observed at
/// collection time, so the hot paths pay nothing new. Exported at GET /metrics by <see cref="MetricsEndpoint"/>.
/// Names follow OpenTelemetry's conventions; the Prometheus exporter turns "tsm.group.operations" into
/// tsm_group_operations_total and a unit of "s" into a _seconds suffix.
/// </summary>
public sealed class TsmMetrics : IDisposable
{
    public const string MeterName = "SubsetMulticast";

    // Setup and barrier round trips: 100 µs … 5 s (OpenTelemetry's default buckets are for milliseconds).
    private static readonly double[] SecondsBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

    private readonly Counter<long> _groupOperations;
    private readonly Histogram<double> _setup;
    private readonly Counter<long> _packetIns;
    private readonly Histogram<double> _barrier;
    private readonly Counter<long> _reconcileActions;
    private readonly Counter<long> _reconciles;

    public TsmMetrics()
    {
        Meter = new Meter(MeterName, typeof(TsmMetrics).Assembly.GetName().Version?.ToString());
        _groupOperations = Meter.CreateCounter<long>("tsm.group.operations", "{operation}",
            "Rendezvous group operations (create, refresh, release, expire) by outcome: ok or the problem kind.");
        _setup = Meter.CreateHistogram("tsm.group.setup.duration", "s",
            "Time from a create or refresh request to every switch's confirmation.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _packetIns = Meter.CreateCounter<long>("tsm.openflow.packet_ins", "{message}",
            "PACKET_INs received from the switches, by kind of frame (igmp, mld, nd, arp, lldp, other).");
        _barrier = Meter.CreateHistogram("tsm.openflow.barrier.duration", "s",
            "Round trip of a batch of flow and group changes and its BARRIER_REQUEST to the switch's BARRIER_REPLY.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _reconcileActions = Meter.CreateCounter<long>("tsm.openflow.reconcile.actions", "{rule}",
            "Rules a switch's connect-time reconciliation found, by action: added, modified, removed, kept.");
        _reconciles = Meter.CreateCounter<long>("tsm.openflow.reconciles", "{reconcile}",
            "Connect-time reconciliations by outcome (ok, failed).");
    }

    public Meter Meter { get; }

    // ---- the REST API's operations (GroupCoordinator) ----

    internal void GroupOperation(string operation, TsmProblem? problem) =>
        _groupOperations.Add(1, new KeyValuePair<string, object?>("operation", operation), new KeyValuePair<string, object?>("outcome", problem is null ? "ok" : problem.Slug));

    internal void GroupSetUp(TimeSpan elapsed) => _setup.Record(elapsed.TotalSeconds);

    /// <summary>Groups live now (observed at collection).</summary>
    internal void Observe(GroupCoordinator groups) =>
        Meter.CreateObservableUpDownCounter("tsm.groups.live", () => (long)groups.All().Count, "{group}", "Rendezvous groups live (committed, lease not yet released).");

    /// <summary>Attaches observers to whichever of the push endpoint, learner and OpenFlow fabric the graph has.</summary>
    internal void ObserveServices(IServiceProvider services)
    {
        if (services.GetService<PushEndpointSlot>()?.Endpoint is { } push) Observe(push.Stats);
        if (services.GetService<FabricLearner>() is { } learner) Observe(learner);
        services.GetService<Audit.RuleAuditor>()?.Observe(Meter);
        if (services.GetService<OpenFlowListener>() is { } listener && services.GetService<OpenFlowSouthbound>() is { } southbound
            && services.GetService<OpenFlowFabricFeed>() is { } feed)
            Observe(listener, southbound, feed);
    }

    /// <summary>The push endpoint's counters (pushed mode).</summary>
    internal void Observe(PushEndpointStats push)
    {
        Meter.CreateObservableCounter("tsm.push.datagrams", () => push.Received, "{datagram}", "Datagrams received on the push-instruction endpoint.");
        Meter.CreateObservableCounter("tsm.push.applied", () => push.Applied, "{instruction}", "Push instructions applied.");
        Meter.CreateObservableCounter("tsm.push.refused", () => push.Refused, "{instruction}", "Push instructions refused.");
        Meter.CreateObservableCounter("tsm.push.instructions", () => Enum.GetValues<PushVerdict>()
            .Select(v => new Measurement<long>(push.Count(v), new KeyValuePair<string, object?>("verdict", Snake(v.ToString())))),
            "{instruction}", "Push instructions by the verifier's verdict.");
    }

    /// <summary>The OpenFlow fabric: switches, packet-ins, barriers, reconciliation, the learner's and snoopers' counters.</summary>
    internal void Observe(OpenFlowListener listener, OpenFlowSouthbound southbound, OpenFlowFabricFeed feed)
    {
        Meter.CreateObservableUpDownCounter("tsm.openflow.switches.connected", () => (long)listener.Switches.Count, "{switch}", "OpenFlow switches with an established session.");
        listener.PacketInReceived += (_, p) => _packetIns.Add(1, new KeyValuePair<string, object?>("kind", PacketInKind(p.Data.Span)));
        listener.BarrierCompleted += (_, elapsed) => _barrier.Record(elapsed.TotalSeconds);
        southbound.Reconciled += (_, result, error) =>
        {
            _reconciles.Add(1, new KeyValuePair<string, object?>("outcome", result is null ? "failed" : "ok"));
            if (result is null) return;
            Action("added", result.Added);
            Action("modified", result.Modified);
            Action("removed", result.Removed);
            Action("kept", result.Kept);
        };
        Meter.CreateObservableCounter("tsm.snooping.frames_fed", () => feed.FramesFed, "{frame}", "Punted frames handed to the switches' snoopers.");
        Meter.CreateObservableCounter("tsm.snooping.queries_sent", () => feed.QueriesSent, "{query}", "IGMP/MLD queries our querier sent as PACKET_OUTs.");
        void Action(string action, int n)
        {
            if (n > 0) _reconcileActions.Add(n, new KeyValuePair<string, object?>("action", action));
        }
    }

    /// <summary>The learner's and its snoopers' counters.</summary>
    internal void Observe(FabricLearner learner)
    {
        Meter.CreateObservableCounter("tsm.snooping.drops", () => SnooperDrops(learner), "{frame}",
            "Frames the switches' snoopers dropped, by reason (summed over the switches the learner knows).");
        Meter.CreateObservableCounter("tsm.learning.unknown_switch_frames", () => learner.UnknownSwitchFrames, "{frame}", "Punted frames from a switch the learner does not know.");
        Meter.CreateObservableCounter("tsm.learning.unknown_port_frames", () => learner.UnknownPortFrames, "{frame}", "Punted frames from a port the learner does not know.");
        Meter.CreateObservableCounter("tsm.learning.refused_switches", () => learner.RefusedSwitches, "{switch}", "Switches refused because the learner's switch limit was reached.");
        Meter.CreateObservableCounter("tsm.learning.refused_hosts", () => learner.RefusedHosts, "{host}", "Host locations refused because the learner's host limit was reached.");
    }

    private static IEnumerable<Measurement<long>> SnooperDrops(FabricLearner learner)
    {
        var reasons = Enum.GetValues<DropReason>();
        var totals = new long[reasons.Length];
        foreach (var sw in learner.Topology.Switches)
        {
            if (!learner.TryGetSnooper(sw.Id, out var snooper)) continue;
            for (int i = 0; i < reasons.Length; i++) totals[i] += snooper.GetDropped(reasons[i]);
        }
        for (int i = 0; i < reasons.Length; i++)
            yield return new Measurement<long>(totals[i], new KeyValuePair<string, object?>("reason", Snake(reasons[i].ToString())));
    }

    /// <summary>The kind of a punted frame by its EtherType and IP protocol / ICMPv6 type (no parsing beyond that).</summary>
    internal static string PacketInKind(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 14) return "other";
        int o = 12;
        int type = frame[o] << 8 | frame[o + 1];
        if (type == 0x8100 && frame.Length >= 18) { o = 16; type = frame[o] << 8 | frame[o + 1]; }
        int l3 = o + 2;
        switch (type)
        {
            case 0x88CC: return "lldp";
            case 0x0806: return "arp";
            case 0x0800: return frame.Length > l3 + 9 && frame[l3 + 9] == 2 ? "igmp" : "other";
            case 0x86DD:
                if (frame.Length < l3 + 40) return "other";
                byte next = frame[l3 + 6];
                int at = l3 + 40;
                if (next == 0 && frame.Length >= at + 2) { next = frame[at]; at += (frame[at + 1] + 1) * 8; }   // Hop-by-Hop (MLD's Router Alert)
                if (next != 58 || frame.Length <= at) return "other";
                return frame[at] switch { 130 or 131 or 132 or 143 => "mld", 135 or 136 => "nd", _ => "other" };
            default: return "other";
        }
    }

    private static string Snake(string pascal)
    {
        var b = new System.Text.StringBuilder(pascal.Length + 4);
        for (int i = 0; i < pascal.Length; i++)
        {
            if (char.IsUpper(pascal[i]) && i > 0) b.Append('_');
            b.Append(char.ToLowerInvariant(pascal[i]));
        }
        return b.ToString();
    }

    public void Dispose() => Meter.Dispose();
}
