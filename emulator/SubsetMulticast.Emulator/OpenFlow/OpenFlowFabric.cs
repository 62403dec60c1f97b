using System.Net;
using SubsetMulticast.Emulator.Switching;
using SubsetMulticast.OpenFlow.Agent;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.Emulator.OpenFlow;

/// <summary>Settings for <see cref="OpenFlowFabric.ConnectAsync"/>.</summary>
public sealed class OpenFlowFabricOptions
{
    /// <summary>How many switches open their TCP session at the same time.</summary>
    public int ConnectConcurrency { get; set; } = 16;

    /// <summary>PACKET_INs each switch holds while its session is busy; more are dropped and counted.</summary>
    public int PacketInQueue { get; set; } = 16_384;

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The clock the settle waits run on.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;
}

/// <summary>
/// An <see cref="EmulatedFabric"/> whose switches speak OpenFlow 1.3 to a controller over TCP, as a fabric of
/// Open vSwitch bridges would: datapath id = the switch's bridge id, ports numbered as in the emulator and
/// named "SWITCH-pN". From then on the fabric forwards by each switch's flow table (see
/// <see cref="OpenFlowDatapath"/>): punted IGMP/ARP reach the controller as PACKET_INs, the controller's LLDP
/// PACKET_OUTs cross the links, and its groups carry the data.
/// </summary>
public sealed class OpenFlowFabric : IAsyncDisposable
{
    private readonly OpenFlowDatapath[] _datapaths;
    private readonly Dictionary<ulong, int> _byDatapathId = [];

    private OpenFlowFabric(EmulatedFabric fabric, IReadOnlyList<IPEndPoint> controllers, OpenFlowFabricOptions options)
    {
        Fabric = fabric;
        Controllers = controllers;
        Controller = controllers[0];
        Options = options;
        _datapaths = new OpenFlowDatapath[fabric.Switches.Count];
        for (int i = 0; i < _datapaths.Length; i++)
        {
            var s = fabric.Switches[i];
            if (!_byDatapathId.TryAdd(s.BridgeId, i)) throw new ArgumentException($"Switches share bridge id {s.BridgeId}; OpenFlow datapath ids must be unique.");
            _datapaths[i] = new OpenFlowDatapath(fabric, s, options.PacketInQueue);
        }
    }

    public EmulatedFabric Fabric { get; }

    /// <summary>The first controller (the only one, unless the switches were connected to several).</summary>
    public IPEndPoint Controller { get; }

    /// <summary>Every controller each switch connects to (OVS's <c>set-controller BR tcp:A tcp:B …</c>): a cluster.</summary>
    public IReadOnlyList<IPEndPoint> Controllers { get; }
    public OpenFlowFabricOptions Options { get; }

    /// <summary>Each switch's OpenFlow agent, by switch index.</summary>
    public IReadOnlyList<OpenFlowSwitchAgent> Agents => [.. _datapaths.Select(d => d.Agent)];

    public OpenFlowSwitchAgent Agent(EmulatedSwitch sw) => _datapaths[sw.Index].Agent;

    /// <summary>The controller's name for a switch: its datapath id as 16 hex digits.</summary>
    public static string SwitchIdOf(EmulatedSwitch sw) => OpenFlowSession.FormatDatapathId(sw.BridgeId);

    public int ConnectedCount => _datapaths.Count(d => d.Agent.IsConnected);
    public long PacketInsSent => _datapaths.Sum(d => d.PacketInsSent);
    public long PacketInsDropped => _datapaths.Sum(d => d.PacketInsDropped);
    public long PacketInsPending => _datapaths.Sum(d => d.PacketInsPending);

    /// <summary>
    /// Puts every switch of <paramref name="fabric"/> in OpenFlow mode and connects it to <paramref name="controller"/>.
    /// Fails (disconnecting those already connected) if any switch cannot connect within the timeout.
    /// </summary>
    public static Task<OpenFlowFabric> ConnectAsync(EmulatedFabric fabric, IPEndPoint controller, OpenFlowFabricOptions? options = null, CancellationToken cancellationToken = default) =>
        ConnectAsync(fabric, [controller], options, cancellationToken);

    /// <summary>
    /// As <see cref="ConnectAsync(EmulatedFabric, IPEndPoint, OpenFlowFabricOptions?, CancellationToken)"/>, every switch
    /// connected to each of <paramref name="controllers"/> (a controller cluster; roles decide which one writes).
    /// </summary>
    public static async Task<OpenFlowFabric> ConnectAsync(EmulatedFabric fabric, IReadOnlyList<IPEndPoint> controllers, OpenFlowFabricOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(controllers);
        if (controllers.Count == 0) throw new ArgumentException("At least one controller is needed.", nameof(controllers));
        options ??= new OpenFlowFabricOptions();
        if (options.ConnectConcurrency < 1 || options.PacketInQueue < 1) throw new ArgumentException("ConnectConcurrency and PacketInQueue must be positive.", nameof(options));
        if (fabric.Switches.Any(s => s.Datapath is not null)) throw new InvalidOperationException("The fabric is already in OpenFlow mode.");
        var of = new OpenFlowFabric(fabric, controllers, options);
        lock (fabric.Gate)
            foreach (var s in fabric.Switches) s.Datapath = of._datapaths[s.Index];
        try
        {
            using var slots = new SemaphoreSlim(options.ConnectConcurrency);
            await Task.WhenAll(of._datapaths.Select(async d =>
            {
                await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                try { await of.ConnectOneAsync(d, cancellationToken).ConfigureAwait(false); }
                finally { slots.Release(); }
            })).ConfigureAwait(false);
        }
        catch
        {
            await of.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return of;
    }

    private async Task ConnectOneAsync(OpenFlowDatapath d, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Options.ConnectTimeout);
        var connected = d.Agent.Controllers.Select(c => c.Controller).ToHashSet();
        foreach (var controller in Controllers)
        {
            if (connected.Contains(controller)) continue;
            try { await d.Agent.AddControllerAsync(controller, timeout.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new TimeoutException($"switch {d.Agent.SwitchId} could not connect to {controller} within {Options.ConnectTimeout.TotalSeconds:0.#} s");
            }
        }
    }

    /// <summary>The switch drops its controller connection; its tables stay (a controller outage).</summary>
    public Task DisconnectAsync(EmulatedSwitch sw) => _datapaths[sw.Index].Agent.DisconnectAsync();

    /// <summary>The switch connects again with the tables it has; the controller sees a returning datapath.</summary>
    public Task ReconnectAsync(EmulatedSwitch sw, CancellationToken cancellationToken = default) =>
        ConnectOneAsync(_datapaths[sw.Index], cancellationToken);

    /// <summary>True when the switch punts IGMP to the controller (the controller installed its punt flows).</summary>
    public bool PuntsIgmp(EmulatedSwitch sw) =>
        _datapaths[sw.Index].Agent.Lookup(new PacketFields(1, default, 0x0800, 0, 2, 0xE000_0016, default, 0, 0)).ToController;

    /// <summary>True once the controller has sent an LLDP (any PACKET_OUT) on every inter-switch port.</summary>
    public bool ProbedEveryLink => _datapaths.All(d => d.ProbedEveryLink);

    /// <summary>
    /// Waits until the controller has installed its punt flows on every switch (<see cref="PuntsIgmp"/>), probed every
    /// link (<see cref="ProbedEveryLink"/>) and read every queued PACKET_IN: before that, a host's join would go
    /// unseen. Throws <see cref="TimeoutException"/> naming what is missing after <paramref name="timeout"/>.
    /// </summary>
    public async Task WaitUntilSettledAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        await PollAsync(() => Fabric.Switches.All(PuntsIgmp), timeout, "punt flows", cancellationToken).ConfigureAwait(false);
        await PollAsync(() => ProbedEveryLink, timeout, "LLDP probes", cancellationToken).ConfigureAwait(false);
        await WaitForPacketInsSentAsync(timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits until every queued PACKET_IN has been written to the controller.</summary>
    public Task WaitForPacketInsSentAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        PollAsync(() => PacketInsPending == 0, timeout, "the switches' packet-in queues to drain", cancellationToken);

    private Task PollAsync(Func<bool> condition, TimeSpan timeout, string what, CancellationToken cancellationToken) =>
        PollAsync(condition, timeout, what, Options.Time, cancellationToken);

    /// <summary>
    /// Polls <paramref name="condition"/> every 20 ms on <paramref name="time"/> until it holds; throws
    /// <see cref="TimeoutException"/> naming <paramref name="what"/> after <paramref name="timeout"/>. For harnesses
    /// waiting on a fabric's states that raise no event (flows arrive in batches, queues drain on their own tasks).
    /// </summary>
    public static async Task PollAsync(Func<bool> condition, TimeSpan timeout, string what, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(time);
        long start = time.GetTimestamp();
        while (!condition())
        {
            if (time.GetElapsedTime(start) > timeout) throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.#} s waiting for {what}");
            await Task.Delay(TimeSpan.FromMilliseconds(20), time, cancellationToken).ConfigureAwait(false);
        }
    }

    private int _disposed;

    /// <summary>Disconnects every switch and returns the fabric to its own (non-OpenFlow) forwarding.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await Task.WhenAll(_datapaths.Select(d => d.DisposeAsync().AsTask())).ConfigureAwait(false);
        lock (Fabric.Gate)
            foreach (var s in Fabric.Switches) s.Datapath = null;
    }
}
