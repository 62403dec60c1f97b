using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Connections;
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
    /// as <see cref="ISouthbound"/> (TryAdd: an earlier registration wins) and <see cref="FabricDiscovery"/>.
    /// Packet-ins for the snooper: subscribe to <see cref="OpenFlowListener.PacketInReceived"/>.
    /// </summary>
    public static IServiceCollection AddOpenFlowSouthbound(this IServiceCollection services, Action<OpenFlowControllerOptions>? configure = null)
    {
        var options = new OpenFlowControllerOptions();
        configure?.Invoke(options);
        services.TryAddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new OpenFlowListener(options.Endpoint, options.Connection,
            sp.GetService<ILoggerFactory>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new OpenFlowSouthbound(sp.GetRequiredService<OpenFlowListener>(), options.Southbound, sp.GetService<ILoggerFactory>()));
        services.TryAddSingleton<ISouthbound>(sp => sp.GetRequiredService<OpenFlowSouthbound>());
        services.TryAddSingleton(sp => new FabricDiscovery(sp.GetRequiredService<OpenFlowListener>(), options.Discovery, sp.GetRequiredService<TimeProvider>()));
        services.AddHostedService<OpenFlowHostedService>();
        return services;
    }

    private sealed class OpenFlowHostedService(OpenFlowListener listener, OpenFlowSouthbound southbound, FabricDiscovery discovery) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            _ = (southbound, discovery); // created (and subscribed to the listener) before any switch connects
            listener.Start();
            return Task.CompletedTask;
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            await discovery.DisposeAsync().ConfigureAwait(false);
            await listener.DisposeAsync().ConfigureAwait(false);
        }
    }
}
