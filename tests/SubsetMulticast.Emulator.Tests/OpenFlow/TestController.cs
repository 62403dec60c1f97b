using System.Net;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Controller;
using SubsetMulticast.Controller.OpenFlowFabric;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.Learning;
using SubsetMulticast.OpenFlow.Discovery;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.Snooping;
using EmulatedOpenFlowFabric = SubsetMulticast.Emulator.OpenFlow.OpenFlowFabric;

namespace SubsetMulticast.Emulator.Tests.OpenFlow;

/// <summary>The real controller composition as the OpenFlow scenario and property tests run it: loopback, free ports, VLAN 0.</summary>
internal static class TestController
{
    /// <param name="time">The controller's clock (snooper timers, the querier, LLDP rounds, leases); a <c>FakeTimeProvider</c> lets a test advance it.</param>
    /// <param name="lldpInterval">Between LLDP rounds after the one at connect (default 5 s).</param>
    public static Task<OpenFlowControllerService> StartAsync(SnoopingOptions? snooping = null, TimeProvider? time = null, TimeSpan? lldpInterval = null) =>
        OpenFlowControllerService.StartAsync(new OpenFlowControllerSettings
    {
        Learner = new FabricLearnerOptions { Snooping = snooping ?? new SnoopingOptions() },
        Controller = new ControllerOptions
        {
            ApiUrl = "http://127.0.0.1:0",
            PushUdp = null,
            Lifecycle = new LifecycleOptions().AddVlan(0, "239.255.0.0/16"),
            ConfigureLogging = l => l.ClearProviders(),
        },
        OpenFlowEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
        Connection = new OpenFlowOptions { HandshakeTimeout = TimeSpan.FromSeconds(30), RequestTimeout = TimeSpan.FromSeconds(30) },
        Discovery = new DiscoveryOptions { LldpInterval = lldpInterval ?? TimeSpan.FromSeconds(5), LinkTimeout = TimeSpan.FromSeconds(60) },
        Time = time ?? TimeProvider.System,
    });

    /// <summary>
    /// Waits until the controller's reference group holds, on every switch, the tree port toward every joined
    /// host: where that host's flooded report came in. The switches' packet-in queues drain before the
    /// controller has read them, and a spine hears every leaf's reports, so its ports are the last learned;
    /// a group planned before that is cut short at the spine (CI saw it: one member of three missed).
    /// </summary>
    public static Task WaitForReferenceGroupAsync(OpenFlowControllerService service, EmulatedOpenFlowFabric switches, IpAddress group,
        IReadOnlyCollection<EmulatedHost> joined, TimeSpan timeout)
    {
        var fabric = switches.Fabric;
        var tree = fabric.Topology.Tree;
        return Eventually.UntilAsync(() =>
        {
            if (!service.References.TryGet(0, group, out var g)) return false;
            var learned = service.References.Topology;
            foreach (var sw in fabric.Switches)
            {
                if (!learned.TryGetIndex(EmulatedOpenFlowFabric.SwitchIdOf(sw), out int index)) return false;
                foreach (var h in joined)
                {
                    uint port = tree.PortToward(sw.Index, new PortRef(h.Switch, h.Port));
                    if (port != SpanningTree.NoPort && !g.HasMemberPort(index, port)) return false;
                }
            }
            return true;
        }, timeout, $"{group} learned on {fabric.Switches.Count} switches at the port toward each of {joined.Count} joined hosts");
    }

    /// <summary>
    /// Waits until every switch's unregistered-group flows send to its router port (the tree's root port) and
    /// nowhere else. A switch gets them at connect, before any link is known, as a drop; the ones that route
    /// follow the topology asynchronously, so "a flow exists" is not yet "the right flow".
    /// </summary>
    public static Task WaitForUnregisteredGroupFlowsAsync(EmulatedOpenFlowFabric switches, TimeSpan timeout)
    {
        var fabric = switches.Fabric;
        var tree = fabric.Topology.Tree;
        return Eventually.UntilAsync(() => fabric.Switches.All(sw =>
        {
            uint root = tree.RootPort(sw.Index);
            uint[] want = root == SpanningTree.NoPort ? [] : [root];
            var flows = switches.Agent(sw).Flows.Where(f => f.Cookie >> 48 == UnregisteredGroupFlows.CookiePrefix).ToList();
            return flows.Count > 0 && flows.All(f =>
                f.Instructions.OfType<ApplyActions>().SelectMany(a => a.Actions).OfType<OutputAction>().Select(o => o.Port).Order().SequenceEqual(want));
        }), timeout, $"unregistered-group flows to the router port on {fabric.Switches.Count} switches");
    }
}
