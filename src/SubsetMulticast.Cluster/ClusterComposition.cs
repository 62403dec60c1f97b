using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Cluster.Etcd;
using SubsetMulticast.Controller.Composition;
using SubsetMulticast.Controller.OpenFlowFabric;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Bootstrap;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Southbound;

namespace SubsetMulticast.Cluster;

public static class ClusterComposition
{
    /// <summary>Where the cluster's role step runs: first, before the learner (a slave must ask for packet-ins before it can learn).</summary>
    public const int RoleOrder = BootstrapOrder.Learner - 50;

    /// <summary>
    /// This controller is one node of a cluster on <paramref name="store"/>'s etcd (after <c>AddOpenFlowFabric</c>):
    /// groups in etcd, mastership of each switch decided there and told to the switch with role requests, the
    /// steps that write to a switch run by its master only, and transactions confirmed by the masters
    /// (<see cref="ClusterNode"/>, <see cref="ClusterSouthbound"/>). The lifecycle's ids must carry the node
    /// (<see cref="LifecycleOptions.IdPrefix"/>).
    /// </summary>
    public static ISubsetMulticastBuilder AddCluster(this ISubsetMulticastBuilder builder, ClusterOptions options, EtcdGroupStore store)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        builder.UseEtcdGroupStore(store);
        var services = builder.Services;
        services.TryAddSingleton(options);
        services.TryAddSingleton(sp => new ClusterNode(options, store, sp.GetRequiredService<GroupLifecycle>(), sp.GetRequiredService<OpenFlowListener>(),
            sp.GetRequiredService<OpenFlowSouthbound>(), sp.GetRequiredService<StoredGroupRules>(), () => sp.GetRequiredService<SwitchBootstrap>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ClusterNode>>()));
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<ClusterNode>());
        services.Replace(ServiceDescriptor.Singleton<ISouthbound>(sp => new ClusterSouthbound(sp.GetRequiredService<ClusterNode>(), store, options,
            sp.GetRequiredService<TimeProvider>())));

        // Steps that write to the switch (reconcile, punt flows, unregistered-group flows, LLDP) run on its master only.
        // The single-controller "stored group rules" step gives way to the node's own restore when it becomes master
        // (from etcd's records, which include transactions still in flight).
        foreach (var d in services.Where(d => d.ServiceType == typeof(ISwitchBootstrapStep)).ToList())
        {
            services.Remove(d);
            services.AddSingleton<ISwitchBootstrapStep>(sp =>
            {
                var inner = (ISwitchBootstrapStep)(d.ImplementationInstance ?? d.ImplementationFactory?.Invoke(sp)
                    ?? ActivatorUtilities.CreateInstance(sp, d.ImplementationType!));
                if (inner.Order == StoredGroupRules.BootstrapOrderValue) return new SwitchBootstrapStep(inner.Order, inner.Name + " (by the cluster node)", (_, _) => Task.FromResult(true));
                // The master's reconcile: a switch it cannot converge is given up, never reported as applied.
                if (inner.Order == BootstrapOrder.Reconcile && inner.Name == "reconcile")
                    return new MasterOnlyStep(new SwitchBootstrapStep(inner.Order, "reconcile (by the cluster node)",
                        (session, ct) => sp.GetRequiredService<ClusterNode>().ConvergeMasteredAsync(session, ct)), () => sp.GetRequiredService<ClusterNode>());
                return inner.Order >= BootstrapOrder.Reconcile ? new MasterOnlyStep(inner, () => sp.GetRequiredService<ClusterNode>()) : inner;
            });
        }
        services.AddSingleton<ISwitchBootstrapStep>(sp => new SwitchBootstrapStep(RoleOrder, "cluster role",
            (session, ct) => sp.GetRequiredService<ClusterNode>().OnSwitchConnectingAsync(session, ct)));
        return builder;
    }
}
