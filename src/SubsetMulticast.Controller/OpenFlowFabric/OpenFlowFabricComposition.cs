using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Controller.Composition;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.ReferenceGroups;
using SubsetMulticast.Learning;
using SubsetMulticast.OpenFlow;
using SubsetMulticast.OpenFlow.Bootstrap;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Discovery;
using SubsetMulticast.OpenFlow.Southbound;

namespace SubsetMulticast.Controller.OpenFlowFabric;

/// <summary>Settings of <see cref="OpenFlowFabricComposition.AddOpenFlowFabric"/>.</summary>
public sealed class OpenFlowFabricOptions
{
    /// <summary>Where switches connect; port 0 picks a free port (see <see cref="OpenFlowListener.LocalEndpoint"/>).</summary>
    public IPEndPoint Endpoint { get; set; } = new(IPAddress.Any, OpenFlowOptions.DefaultPort);
    public OpenFlowOptions Connection { get; set; } = new();
    public OpenFlowSouthboundOptions Southbound { get; set; } = new();
    public DiscoveryOptions Discovery { get; set; } = new();
    public FabricLearnerOptions Learner { get; set; } = new();

    /// <summary>How often the snoopers' timers run (membership and router-port expiry) and the unregistered-group flows are resynchronised.</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromSeconds(1);
}

public static class OpenFlowFabricComposition
{
    /// <summary>
    /// The controller for real switches: the OpenFlow listener with its southbound (<see cref="AddOpenFlowSouthbound"/>)
    /// and LLDP discovery, a <see cref="FabricLearner"/> fed from it (topology, reference groups from punted IGMP/MLD,
    /// hosts from ARP/ND/IGMP) as the controller's fabric model, the per-switch unregistered-group flows, and a
    /// ticker for the learner's timers. The listener starts with the host, after all of them are subscribed.
    /// </summary>
    public static ISubsetMulticastBuilder AddOpenFlowFabric(this ISubsetMulticastBuilder builder, Action<OpenFlowFabricOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new OpenFlowFabricOptions();
        configure?.Invoke(options);
        if (options.TickInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(configure), "TickInterval must be positive.");
        var services = builder.Services;
        services.TryAddSingleton(options);
        services.AddOpenFlowSouthbound(o =>
        {
            o.Endpoint = options.Endpoint;
            o.Connection = options.Connection;
            o.Southbound = options.Southbound;
            o.Discovery = options.Discovery;
        });
        builder.AddFabricLearner(options.Learner);
        services.TryAddSingleton(sp => new OpenFlowFabricFeed(sp.GetRequiredService<OpenFlowListener>(), sp.GetRequiredService<FabricDiscovery>(),
            sp.GetRequiredService<FabricLearner>(), switchUpOnConnect: false));
        services.TryAddSingleton(sp =>
        {
            var unregistered = new UnregisteredGroupFlows(sp.GetRequiredService<OpenFlowListener>(), sp.GetRequiredService<ReferenceGroupTable>(),
                sp.GetRequiredService<ControllerOptions>().Lifecycle.Vlans,
                priority: (ushort)Math.Max(1, options.Southbound.Priority / 2), tableId: options.Southbound.TableId,
                logger: sp.GetRequiredService<ILoggerFactory>().CreateLogger("SubsetMulticast.OpenFlow.Unregistered"), syncOnConnect: false);
            // Off the learner's thread: it may hold its lock.
            sp.GetRequiredService<FabricLearner>().TopologyChanged += _ => unregistered.RequestSync();
            return unregistered;
        });
        // Their places in the switch bootstrap (BootstrapOrder says why this order).
        services.AddSingleton<ISwitchBootstrapStep>(sp => new SwitchBootstrapStep(BootstrapOrder.Learner, "learner",
            (session, _) => { sp.GetRequiredService<OpenFlowFabricFeed>().SwitchUp(session); return Task.FromResult(true); }));
        services.TryAddSingleton(sp => new StoredGroupRules(sp.GetRequiredService<Core.Lifecycle.IGroupStore>(), sp.GetRequiredService<OpenFlowSouthbound>()));
        services.AddSingleton<ISwitchBootstrapStep>(sp => new SwitchBootstrapStep(StoredGroupRules.BootstrapOrderValue, "stored group rules",
            (session, ct) => sp.GetRequiredService<StoredGroupRules>().OnConnectAsync(session, ct)));
        services.AddSingleton<ISwitchBootstrapStep>(sp => new SwitchBootstrapStep(BootstrapOrder.UnregisteredGroupFlows, "unregistered-group flows",
            (session, ct) => sp.GetRequiredService<UnregisteredGroupFlows>().ResyncAsync(session, ct)));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, OpenFlowFabricTicker>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Core.Audit.IRuleAuditAdapter, OpenFlow.Reconcile.OpenFlowRuleAudit>(sp =>
            new OpenFlow.Reconcile.OpenFlowRuleAudit(sp.GetRequiredService<OpenFlowListener>(), sp.GetRequiredService<OpenFlowSouthbound>(), sp.GetRequiredService<TimeProvider>())));
        return builder;
    }

    /// <summary>
    /// A <see cref="FabricLearner"/> as the controller's fabric model: its reference groups and hosts are what the
    /// planner and the API read (an earlier <c>UseFabricModel</c> or registered learner wins).
    /// </summary>
    public static ISubsetMulticastBuilder AddFabricLearner(this ISubsetMulticastBuilder builder, FabricLearnerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.TryAddSingleton(sp => new FabricLearner(options, sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => sp.GetRequiredService<FabricLearner>().References);
        services.TryAddSingleton(sp => sp.GetRequiredService<FabricLearner>().Hosts);
        return builder;
    }

    /// <summary>Runs the learner's timers and resynchronises the unregistered-group flows (router ports learned from queries).</summary>
    private sealed class OpenFlowFabricTicker(FabricLearner learner, OpenFlowFabricFeed feed, UnregisteredGroupFlows unregistered,
        OpenFlowFabricOptions options, TimeProvider time) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            _ = feed; // created (and subscribed to the listener) before any switch connects
            // A periodic timer, not a delay per round: a tick that falls due while the resync is still writing is
            // kept, not pushed back by the resync's length (and a test advancing a fake clock loses none).
            using var timer = new PeriodicTimer(options.TickInterval, time);
            try
            {
                while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
                {
                    learner.Tick();
                    await unregistered.SyncAsync(stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) { }
        }
    }
}
