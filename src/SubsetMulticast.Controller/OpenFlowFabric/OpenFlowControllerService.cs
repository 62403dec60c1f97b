using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
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

    /// <summary>Loggers for the OpenFlow side; null: built from <see cref="ControllerOptions.ConfigureLogging"/>.</summary>
    public ILoggerFactory? Loggers { get; init; }
}

/// <summary>
/// The controller for real switches, in one call: an OpenFlow listener with its southbound (reconciliation
/// on reconnect) and LLDP discovery, a <see cref="FabricLearner"/> fed from it (topology, reference groups
/// from punted IGMP/MLD, hosts from ARP/ND/IGMP), and the REST controller on the learner's live tables.
/// Used by <c>tsm serve --openflow</c>, the OVS tests and the emulator-at-scale test.
/// </summary>
public sealed class OpenFlowControllerService : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ILoggerFactory? _ownedLoggers;
    private Task _ticker = Task.CompletedTask;
    private int _disposed;

    private OpenFlowControllerService(OpenFlowListener listener, OpenFlowSouthbound southbound, FabricDiscovery discovery,
        FabricLearner learner, OpenFlowFabricFeed feed, UnregisteredGroupFlows unregistered, ILoggerFactory? ownedLoggers)
    {
        UnregisteredFlows = unregistered;
        Listener = listener;
        Southbound = southbound;
        Discovery = discovery;
        Learner = learner;
        Feed = feed;
        _ownedLoggers = ownedLoggers;
    }

    /// <summary>The REST controller (<see cref="TsmControllerHost.ApiUrl"/>).</summary>
    public TsmControllerHost Controller { get; private set; } = null!;

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

    /// <summary>Starts everything; switches may connect once this returns (the listener starts last).</summary>
    public static async Task<OpenFlowControllerService> StartAsync(OpenFlowControllerSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Controller.Mode != ApplyMode.Computed)
            throw new ArgumentException("Over OpenFlow the controller programs the switches itself: the mode must be computed.", nameof(settings));
        if (settings.TickInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(settings), "TickInterval must be positive.");
        var owned = settings.Loggers is null ? LoggerFactory.Create(b => settings.Controller.ConfigureLogging?.Invoke(b)) : null;
        var loggers = settings.Loggers ?? owned ?? NullLoggerFactory.Instance;
        var time = settings.Time;

        var listener = new OpenFlowListener(settings.OpenFlowEndpoint, settings.Connection, loggers, time);
        var southbound = new OpenFlowSouthbound(listener, settings.Southbound, loggers);
        var discovery = new FabricDiscovery(listener, settings.Discovery, time);
        var learner = new FabricLearner(settings.Learner, time);
        var feed = new OpenFlowFabricFeed(listener, discovery, learner);
        var unregistered = new UnregisteredGroupFlows(listener, learner.References, settings.Controller.Lifecycle.Vlans,
            priority: (ushort)Math.Max(1, settings.Southbound.Priority / 2), tableId: settings.Southbound.TableId,
            logger: loggers.CreateLogger("SubsetMulticast.OpenFlow.Unregistered"));
        learner.TopologyChanged += _ => Task.Run(unregistered.SyncSafeAsync); // off the learner's thread: it may hold its lock
        var service = new OpenFlowControllerService(listener, southbound, discovery, learner, feed, unregistered, owned);
        try
        {
            service.Controller = await TsmControllerHost.StartAsync(settings.Controller, learner.Hosts, learner.References,
                southbound, pushTarget: null, time, cancellationToken).ConfigureAwait(false);
            service.Controller.Metrics.Observe(listener, southbound, learner, feed);
            listener.Start();
            service._ticker = service.TickAsync(settings.TickInterval, time, service._stop.Token);
            return service;
        }
        catch
        {
            await service.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task TickAsync(TimeSpan interval, TimeProvider time, CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(interval, time, ct).ConfigureAwait(false);
                Learner.Tick();
                await UnregisteredFlows.SyncAsync(ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _ticker.ConfigureAwait(false);
        if (Controller is not null) await Controller.DisposeAsync().ConfigureAwait(false);
        Feed.Dispose();
        UnregisteredFlows.Dispose();
        await Discovery.DisposeAsync().ConfigureAwait(false);
        Southbound.Dispose();
        await Listener.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
        _ownedLoggers?.Dispose();
    }
}
