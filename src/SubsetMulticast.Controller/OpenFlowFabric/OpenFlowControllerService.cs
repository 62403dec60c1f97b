using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Controller.Composition;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.ReferenceGroups;
using SubsetMulticast.Learning;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Discovery;
using SubsetMulticast.OpenFlow.Southbound;

namespace SubsetMulticast.Controller.OpenFlowFabric;

/// <summary>Settings of <see cref="OpenFlowControllerService"/>. Immutable once started.</summary>
public sealed record OpenFlowControllerSettings
{
    /// <summary>REST, push endpoint, VLANs and blocks (mode must be computed: OpenFlow switches run no push agent).</summary>
    public required ControllerOptions Controller { get; init; }

    /// <summary>Where switches connect; port 0 picks a free port (see <see cref="OpenFlowControllerService.Listener"/>).</summary>
    public IPEndPoint OpenFlowEndpoint { get; init; } = new(IPAddress.Any, OpenFlowOptions.DefaultPort);

    public OpenFlowOptions Connection { get; init; } = new();
    public OpenFlowSouthboundOptions Southbound { get; init; } = new();
    public DiscoveryOptions Discovery { get; init; } = new();
    public FabricLearnerOptions Learner { get; init; } = new();

    /// <summary>How often the snoopers' timers run (membership and router-port expiry).</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromSeconds(1);

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Loggers for the whole controller; null: the host's, configured by <see cref="ControllerOptions.ConfigureLogging"/>.</summary>
    public ILoggerFactory? Loggers { get; init; }

    /// <summary>More features on the controller's builder, after the OpenFlow fabric (e.g. a durable group store).</summary>
    public Action<ISubsetMulticastBuilder>? Features { get; init; }
}

/// <summary>
/// The controller for real switches, in one call: <c>AddSubsetMulticast(…).AddOpenFlowFabric(…)</c> on a
/// <see cref="TsmControllerHost"/>, with the parts tests and the CLI look at. Used by <c>tsm serve --openflow</c>,
/// the OVS tests and the emulator-at-scale test.
/// </summary>
public sealed class OpenFlowControllerService : IAsyncDisposable
{
    private int _disposed;

    private OpenFlowControllerService(TsmControllerHost controller)
    {
        Controller = controller;
        var services = controller.Services;
        Listener = services.GetRequiredService<OpenFlowListener>();
        Southbound = services.GetRequiredService<OpenFlowSouthbound>();
        Discovery = services.GetRequiredService<FabricDiscovery>();
        Learner = services.GetRequiredService<FabricLearner>();
        Feed = services.GetRequiredService<OpenFlowFabricFeed>();
        UnregisteredFlows = services.GetRequiredService<UnregisteredGroupFlows>();
    }

    /// <summary>The REST controller (<see cref="TsmControllerHost.ApiUrl"/>).</summary>
    public TsmControllerHost Controller { get; }

    /// <summary>Where switches connect (<see cref="OpenFlowListener.LocalEndpoint"/>).</summary>
    public OpenFlowListener Listener { get; }
    public OpenFlowSouthbound Southbound { get; }
    public FabricDiscovery Discovery { get; }
    public FabricLearner Learner { get; }
    public OpenFlowFabricFeed Feed { get; }

    /// <summary>The per-switch "transactional block without a rule → router ports" flows.</summary>
    public UnregisteredGroupFlows UnregisteredFlows { get; }

    /// <summary>The learned reference groups; <see cref="ReferenceGroupTable.Topology"/> is the live topology.</summary>
    public ReferenceGroupTable References => Learner.References;

    /// <summary>The learned host locations.</summary>
    public HostTable Hosts => Learner.Hosts;

    /// <summary>Starts everything; switches may connect once this returns.</summary>
    public static async Task<OpenFlowControllerService> StartAsync(OpenFlowControllerSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Controller.Mode != ApplyMode.Computed)
            throw new ArgumentException("Over OpenFlow the controller programs the switches itself: the mode must be computed.", nameof(settings));
        if (settings.TickInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(settings), "TickInterval must be positive.");
        var controller = await TsmControllerHost.StartAsync(settings.Controller, tsm =>
        {
            tsm.UseTime(settings.Time);
            if (settings.Loggers is { } loggers) tsm.Services.Replace(ServiceDescriptor.Singleton(loggers));
            tsm.AddOpenFlowFabric(o =>
            {
                o.Endpoint = settings.OpenFlowEndpoint;
                o.Connection = settings.Connection;
                o.Southbound = settings.Southbound;
                o.Discovery = settings.Discovery;
                o.Learner = settings.Learner;
                o.TickInterval = settings.TickInterval;
            });
            settings.Features?.Invoke(tsm);
        }, cancellationToken).ConfigureAwait(false);
        return new OpenFlowControllerService(controller);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await Controller.DisposeAsync().ConfigureAwait(false);
    }
}
