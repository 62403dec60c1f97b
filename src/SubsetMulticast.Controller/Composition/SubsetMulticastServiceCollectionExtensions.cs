using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Controller.Dashboard;
using SubsetMulticast.Controller.Groups;
using SubsetMulticast.Controller.Leases;
using SubsetMulticast.Controller.Observability;
using SubsetMulticast.Controller.Push;
using SubsetMulticast.Controller.Security;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.ReferenceGroups;
using SubsetMulticast.Core.Southbound;

namespace SubsetMulticast.Controller.Composition;

/// <summary>
/// The one composition root of the controller. Everything that runs in production — <c>tsm serve</c> (emulated
/// or OpenFlow), <c>tsm demo</c>, the tests — is this graph plus features:
/// <code>
/// services.AddSubsetMulticast(o => { o.Lifecycle = …; o.ApiUrl = …; })   // groups, leases, push endpoint
///         .AddOpenFlowFabric(o => o.Endpoint = …)                          // or .UseFabricModel(…).UseSouthbound(…)
/// </code>
/// Only <c>TryAdd*</c> here: whatever was registered before wins, so a test or a feature can replace any part.
/// </summary>
public static class SubsetMulticastServiceCollectionExtensions
{
    public static ISubsetMulticastBuilder AddSubsetMulticast(this IServiceCollection services, Action<ControllerOptions>? configure = null)
    {
        var options = new ControllerOptions();
        configure?.Invoke(options);
        return services.AddSubsetMulticast(options);
    }

    /// <summary>As the other overload, with the options already made (an earlier registered <see cref="ControllerOptions"/> wins).</summary>
    public static ISubsetMulticastBuilder AddSubsetMulticast(this IServiceCollection services, ControllerOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        services.TryAddSingleton(options);
        services.TryAddSingleton(sp => sp.GetRequiredService<ControllerOptions>().Lifecycle);
        services.TryAddSingleton(TimeProvider.System);

        // The fabric model (topology, reference groups, hosts): a feature supplies it (UseFabricModel, or a learner).
        services.TryAddSingleton(sp => sp.GetRequiredService<ReferenceGroupTable>().Topology);
        services.TryAddSingleton<IGroupStore>(sp => sp.GetRequiredService<ControllerOptions>().Store ?? new InMemoryGroupStore());
        services.TryAddSingleton(sp => new GroupLifecycle(sp.GetRequiredService<LifecycleOptions>(), sp.GetRequiredService<ReferenceGroupTable>(),
            sp.GetRequiredService<HostTable>(), sp.GetRequiredService<IGroupStore>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(TransactionApplierFor);
        services.TryAddSingleton(sp => new GroupCoordinator(sp.GetRequiredService<GroupLifecycle>(), sp.GetRequiredService<ITransactionApplier>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<GroupCoordinator>>(), sp.GetRequiredService<GroupChangeFeed>(), sp.GetService<TsmMetrics>(),
            sp.GetService<IGroupJournal>()));
        services.TryAddSingleton<GroupChangeFeed>(); // every committed change, for readers such as the dashboard
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, LeaseSweeper>());
        BierDeliveryComposition.TryAddBierDelivery(services);
        Audit.RuleAuditComposition.TryAddRuleAudit(services);   // intended vs installed rules, per adapter (OpenFlow, SNMP)   // "delivery":"bier": BitStrings instead of switch state

        // The push endpoint binds its socket when it is created; it is created only when configured.
        services.TryAddSingleton(sp => new PushEndpointSlot(sp.GetRequiredService<ControllerOptions>().PushUdp is null ? null
            : ActivatorUtilities.CreateInstance<PushEndpoint>(sp)));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PushEndpointHost>());
        var builder = new SubsetMulticastBuilder(services);
        builder.AddApiSecurity(); // who may call the REST API, how often, how many groups (Security/)
        return builder;
    }

    /// <summary>The fabric model the planner and the API read: <paramref name="references"/>' topology, and <paramref name="hosts"/>.</summary>
    public static ISubsetMulticastBuilder UseFabricModel(this ISubsetMulticastBuilder builder, ReferenceGroupTable references, HostTable hosts)
    {
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(hosts);
        builder.Services.Replace(ServiceDescriptor.Singleton(references));
        builder.Services.Replace(ServiceDescriptor.Singleton(hosts));
        return builder;
    }

    /// <summary>The southbound computed mode programs the switches through.</summary>
    public static ISubsetMulticastBuilder UseSouthbound(this ISubsetMulticastBuilder builder, ISouthbound southbound)
    {
        ArgumentNullException.ThrowIfNull(southbound);
        builder.Services.Replace(ServiceDescriptor.Singleton(southbound));
        return builder;
    }

    /// <summary>Where pushed mode sends its signed instructions (the agents' transport).</summary>
    public static ISubsetMulticastBuilder UsePushTarget(this ISubsetMulticastBuilder builder, IPushTarget pushTarget)
    {
        ArgumentNullException.ThrowIfNull(pushTarget);
        builder.Services.Replace(ServiceDescriptor.Singleton(pushTarget));
        return builder;
    }

    /// <summary>The clock every timer of the controller runs on (tests pass a fake one).</summary>
    public static ISubsetMulticastBuilder UseTime(this ISubsetMulticastBuilder builder, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        builder.Services.Replace(ServiceDescriptor.Singleton(time));
        return builder;
    }

    private static ITransactionApplier TransactionApplierFor(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<ControllerOptions>();
        return options.Mode switch
        {
            ApplyMode.Computed => new ComputedApplier(sp.GetService<ISouthbound>()
                ?? throw new InvalidOperationException("Computed mode needs a southbound: register an ISouthbound (UseSouthbound, AddOpenFlowFabric).")),
            ApplyMode.Pushed => PushedApplierFor(options, sp.GetService<IPushTarget>(), sp.GetRequiredService<TimeProvider>()),
            _ => throw new ArgumentOutOfRangeException(nameof(sp), $"Unknown mode {options.Mode}."),
        };
    }

    private static PushedApplier PushedApplierFor(ControllerOptions options, IPushTarget? target, TimeProvider time)
    {
        if (target is null) throw new InvalidOperationException("Pushed mode needs a push target (the agents' transport): UsePushTarget.");
        foreach (var v in options.Lifecycle.Vlans)
            if (!options.PushKeys.HasKey(v.Vlan, options.PushKeyId))
                throw new InvalidOperationException($"Pushed mode signs with key {options.PushKeyId}, which VLAN {v.Vlan} does not have in PushKeys.");
        return new PushedApplier(target, options.PushKeys, options.PushKeyId, options.PushSenderId, time);
    }
}

/// <summary>The push endpoint when <see cref="ControllerOptions.PushUdp"/> names an address; null when it is off.</summary>
internal sealed class PushEndpointSlot(PushEndpoint? endpoint) : IDisposable
{
    public PushEndpoint? Endpoint { get; } = endpoint;
    public void Dispose() => Endpoint?.Dispose();
}

/// <summary>Runs the push endpoint with the host, if there is one.</summary>
internal sealed class PushEndpointHost(PushEndpointSlot slot) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => slot.Endpoint?.StartAsync(cancellationToken) ?? Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => slot.Endpoint?.StopAsync(cancellationToken) ?? Task.CompletedTask;
}
