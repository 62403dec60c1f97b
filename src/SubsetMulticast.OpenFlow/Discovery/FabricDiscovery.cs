using System.Collections.Concurrent;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.Packets.Lldp;

namespace SubsetMulticast.OpenFlow.Discovery;

/// <summary>One direction of an inter-switch link: frames sent out of (FromSwitch, FromPort) arrive at (ToSwitch, ToPort).</summary>
public readonly record struct SwitchLink(string FromSwitch, uint FromPort, string ToSwitch, uint ToPort);

/// <summary>Options for the per-switch bootstrap: punt flows and LLDP link discovery.</summary>
public sealed class DiscoveryOptions
{
    /// <summary>Probes every <paramref name="interval"/>; a link is lost after three missed probes (and a second of slack).</summary>
    public static DiscoveryOptions ForLldpInterval(TimeSpan interval) => new()
    {
        LldpInterval = interval,
        LinkTimeout = interval * 3 + TimeSpan.FromSeconds(1),
    };

    /// <summary>High 16 bits of the punt flows' cookie ("SN"); distinct from the group rules' space.</summary>
    public ushort PuntCookiePrefix { get; set; } = CookieSpaces.PuntFlows;
    public ushort PuntPriority { get; set; } = 2000;
    public byte TableId { get; set; }
    public TimeSpan LldpInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Install punt flows and probe each switch as it connects, on its own; false when a <see cref="Bootstrap.SwitchBootstrap"/> runs those steps in its order.</summary>
    public bool BootstrapOnConnect { get; set; } = true;

    /// <summary>A link not confirmed for this long is dropped.</summary>
    public TimeSpan LinkTimeout { get; set; } = TimeSpan.FromSeconds(16);
}

/// <summary>
/// On every switch that connects: installs punt flows — IGMP, MLD (ICMPv6 130/131/132/143), ARP and ND
/// (ICMPv6 135/136) go to the controller AND are still forwarded normally (OUTPUT:NORMAL); LLDP goes to the
/// controller only — then sends LLDP packet-outs on every port, now and every <see cref="DiscoveryOptions.LldpInterval"/>.
/// LLDP packet-ins become <see cref="SwitchLink"/>s; a port going down or away drops its links.
/// Other packet-ins (the snooper's food) are left to <see cref="OpenFlowListener.PacketInViewReceived"/>.
/// </summary>
public sealed class FabricDiscovery : IAsyncDisposable
{
    private readonly OpenFlowListener _listener;
    private readonly DiscoveryOptions _options;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<(string, uint), (SwitchLink Link, DateTimeOffset Seen)> _links = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public FabricDiscovery(OpenFlowListener listener, DiscoveryOptions? options = null, TimeProvider? time = null)
    {
        _listener = listener;
        _options = options ?? new DiscoveryOptions();
        _time = time ?? TimeProvider.System;
        if (_options.BootstrapOnConnect) _listener.SwitchConnected += OnConnected;
        _listener.PacketInViewReceived += OnPacketIn;
        _listener.PortStatusReceived += OnPortStatus;
        _listener.SwitchDisconnected += OnDisconnected;
        _loop = LoopAsync(_stop.Token);
    }

    public event Action<SwitchLink>? LinkDiscovered;
    public event Action<SwitchLink>? LinkLost;

    /// <summary>Known links, one entry per direction.</summary>
    public IReadOnlyList<SwitchLink> Links => _links.Values.Select(v => v.Link).ToList();

    public ulong PuntCookie => CookieSpaces.Base(_options.PuntCookiePrefix);

    /// <summary>The punt flows installed on every switch.</summary>
    public IReadOnlyList<FlowMod> PuntFlows()
    {
        OfpInstruction both = new ApplyActions([new OutputAction(Ofp.PortController, Ofp.ControllerMaxLenNoBuffer), new OutputAction(Ofp.PortNormal)]);
        OfpInstruction controllerOnly = new ApplyActions([new OutputAction(Ofp.PortController, Ofp.ControllerMaxLenNoBuffer)]);
        var flows = new List<(OfpMatch, OfpInstruction)>
        {
            (new OfpMatch { EthType = 0x0800, IpProto = 2 }, both),          // IGMP
            (new OfpMatch { EthType = 0x0806 }, both),                       // ARP
            (new OfpMatch { EthType = Lldp.EtherType }, controllerOnly),     // LLDP
        };
        foreach (byte t in new byte[] { 130, 131, 132, 143, 135, 136 })   // MLD query/report/done/v2 report; ND NS/NA
            flows.Add((new OfpMatch { EthType = 0x86DD, IpProto = 58, Icmpv6Type = t }, both));
        return flows.Select((f, i) => new FlowMod(FlowModCommand.Add, f.Item1, [f.Item2])
        { Cookie = PuntCookie | (uint)i, TableId = _options.TableId, Priority = _options.PuntPriority }).ToList();
    }

    private void OnConnected(OpenFlowSession session) => _ = BootstrapAsync(session);

    private async Task BootstrapAsync(OpenFlowSession session)
    {
        try
        {
            if (await InstallPuntFlowsAsync(session, _stop.Token).ConfigureAwait(false)) await ProbeAsync(session).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OpenFlowSessionException or TimeoutException or OperationCanceledException) { }
    }

    /// <summary>Installs the punt flows (one batch, one barrier); a switch that refuses them is disconnected (false): it could not be learned.</summary>
    public async Task<bool> InstallPuntFlowsAsync(OpenFlowSession session, CancellationToken ct)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _stop.Token);
        var errors = await session.ApplyWithBarrierAsync(PuntFlows(), linked.Token).ConfigureAwait(false);
        if (errors.Count == 0) return true;
        await session.CloseAsync($"punt flows refused: {errors[0].Name}").ConfigureAwait(false);
        return false;
    }

    /// <summary>Sends one LLDP packet-out per physical port of <paramref name="session"/>.</summary>
    public async Task ProbeAsync(OpenFlowSession session)
    {
        var outs = session.Ports.Values.Where(p => p.PortNo < Ofp.PortMax && p.IsUp)
            .Select(p => (OfpMessage)new PacketOut(Ofp.NoBuffer, Ofp.PortController, [new OutputAction(p.PortNo)],
                Lldp.Build(session.DatapathId, p.PortNo, p.HwAddr)) { Xid = session.NextXid() })
            .ToList();
        if (outs.Count > 0) await session.SendManyAsync(outs, _stop.Token).ConfigureAwait(false);
    }

    private void OnPacketIn(OpenFlowSession session, PacketInView packetIn)
    {
        if (packetIn.InPort is not { } inPort || !Lldp.TryParse(packetIn.Data, out var dpid, out var port)) return;
        var link = new SwitchLink(OpenFlowSession.FormatDatapathId(dpid), port, session.SwitchId, inPort);
        bool isNew = !_links.TryGetValue((link.FromSwitch, link.FromPort), out var old) || old.Link != link;
        _links[(link.FromSwitch, link.FromPort)] = (link, _time.GetUtcNow());
        if (isNew) LinkDiscovered?.Invoke(link);
    }

    private void OnPortStatus(OpenFlowSession session, PortStatus status)
    {
        if (status.Reason == PortStatusReason.Delete || !status.Port.IsUp) Drop(l => Touches(l, session.SwitchId, status.Port.PortNo));
        else if ((status.Reason == PortStatusReason.Add || status.Port.IsUp) && !session.IsSlave) _ = ProbeSafeAsync(session);
    }

    private void OnDisconnected(OpenFlowSession session, string reason) => Drop(l => l.FromSwitch == session.SwitchId || l.ToSwitch == session.SwitchId);

    private static bool Touches(SwitchLink l, string sw, uint port) => (l.FromSwitch == sw && l.FromPort == port) || (l.ToSwitch == sw && l.ToPort == port);

    private void Drop(Func<SwitchLink, bool> predicate)
    {
        foreach (var (key, value) in _links)
            if (predicate(value.Link) && _links.TryRemove(key, out _)) LinkLost?.Invoke(value.Link);
    }

    private async Task ProbeSafeAsync(OpenFlowSession s)
    {
        try { await ProbeAsync(s).ConfigureAwait(false); }
        catch (Exception e) when (e is OpenFlowSessionException or OperationCanceledException) { }
    }

    private async Task LoopAsync(CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(_options.LldpInterval, _time, ct).ConfigureAwait(false);
                // A slave's packet-outs are refused IS_SLAVE (hundreds a second on a large fabric): it learns links from the master's probes.
                foreach (var s in _listener.Switches.Values.Where(s => s.IsReady && !s.IsSlave)) await ProbeSafeAsync(s).ConfigureAwait(false);
                var cutoff = _time.GetUtcNow() - _options.LinkTimeout;
                foreach (var (key, value) in _links)
                    if (value.Seen < cutoff && _links.TryRemove(key, out _)) LinkLost?.Invoke(value.Link);
            }
        }
        catch (OperationCanceledException) { }
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_options.BootstrapOnConnect) _listener.SwitchConnected -= OnConnected;
        _listener.PacketInViewReceived -= OnPacketIn;
        _listener.PortStatusReceived -= OnPortStatus;
        _listener.SwitchDisconnected -= OnDisconnected;
        _stop.Cancel();
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
