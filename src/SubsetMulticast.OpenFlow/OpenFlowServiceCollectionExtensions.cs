using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Bootstrap;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.OpenFlow.Discovery;
using SubsetMulticast.OpenFlow.Southbound;

namespace SubsetMulticast.OpenFlow;

/// <summary>Settings for <see cref="OpenFlowServiceCollectionExtensions.AddOpenFlowSouthbound"/>.</summary>
public sealed class OpenFlowControllerOptions
{
    /// <summary>Where switches connect; default 0.0.0.0:6653.</summary>
    public IPEndPoint Endpoint { get; set; } = new(IPAddress.Any, OpenFlowOptions.DefaultPort);
    public OpenFlowOptions Connection { get; set; } = new();
    public OpenFlowSouthboundOptions Southbound { get; set; } = new();
    public DiscoveryOptions Discovery { get; set; } = new();
}

public static class OpenFlowServiceCollectionExtensions
{
    /// <summary>
    /// Registers the OpenFlow listener (started and stopped with the host), <see cref="OpenFlowSouthbound"/>
    /// as <see cref="ISouthbound"/> (TryAdd: an earlier registration wins), <see cref="FabricDiscovery"/>, and the
    /// <see cref="SwitchBootstrap"/> pipeline with its reconcile, punt-flow and LLDP steps (add more as
    /// <see cref="ISwitchBootstrapStep"/> registrations).
    /// Packet-ins for the snooper: subscribe to <see cref="OpenFlowListener.PacketInReceived"/>.
    /// </summary>
    public static IServiceCollection AddOpenFlowSouthbound(this IServiceCollection services, Action<OpenFlowControllerOptions>? configure = null)
    {
        var options = new OpenFlowControllerOptions();
        configure?.Invoke(options);
        // The bootstrap pipeline runs these on connect, in its order; the components do not subscribe themselves.
        options.Southbound.ReconcileOnConnect = false;
        options.Discovery.BootstrapOnConnect = false;
        services.TryAddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new OpenFlowListener(options.Endpoint, options.Connection,
            sp.GetService<ILoggerFactory>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new OpenFlowSouthbound(sp.GetRequiredService<OpenFlowListener>(), options.Southbound, sp.GetService<ILoggerFactory>()));
        services.TryAddSingleton<ISouthbound>(sp => sp.GetRequiredService<OpenFlowSouthbound>());
        services.TryAddSingleton(sp => new FabricDiscovery(sp.GetRequiredService<OpenFlowListener>(), options.Discovery, sp.GetRequiredService<TimeProvider>()));
        if (services.Any(d => d.ServiceType == typeof(SwitchBootstrap))) return services; // added before: its steps are registered
        // Steps are a list (Add): each feature adds its own; the pipeline orders them.
        services.AddSingleton<ISwitchBootstrapStep>(sp => new SwitchBootstrapStep(BootstrapOrder.Reconcile, "reconcile",
            async (session, _) => { await sp.GetRequiredService<OpenFlowSouthbound>().ReconcileOnConnectAsync(session).ConfigureAwait(false); return true; }));
        services.AddSingleton<ISwitchBootstrapStep>(sp => new SwitchBootstrapStep(BootstrapOrder.PuntFlows, "punt flows",
            (session, ct) => sp.GetRequiredService<FabricDiscovery>().InstallPuntFlowsAsync(session, ct)));
        services.AddSingleton<ISwitchBootstrapStep>(sp => new SwitchBootstrapStep(BootstrapOrder.Lldp, "LLDP probe",
            async (session, _) => { await sp.GetRequiredService<FabricDiscovery>().ProbeAsync(session).ConfigureAwait(false); return true; }));
        services.TryAddSingleton(sp => new SwitchBootstrap(sp.GetRequiredService<OpenFlowListener>(), sp.GetServices<ISwitchBootstrapStep>(), sp.GetService<ILoggerFactory>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, OpenFlowHostedService>());
        return services;
    }

    private sealed class OpenFlowHostedService(OpenFlowListener listener, OpenFlowSouthbound southbound, FabricDiscovery discovery, SwitchBootstrap bootstrap) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            _ = (southbound, discovery, bootstrap); // created (and subscribed to the listener) before any switch connects
            listener.Start();
            return Task.CompletedTask;
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            await bootstrap.DisposeAsync().ConfigureAwait(false);
            await discovery.DisposeAsync().ConfigureAwait(false);
            await listener.DisposeAsync().ConfigureAwait(false);
        }
    }
}
