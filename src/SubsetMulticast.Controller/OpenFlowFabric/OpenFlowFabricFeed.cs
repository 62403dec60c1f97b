using SubsetMulticast.Learning;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Discovery;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.Packets.Lldp;

namespace SubsetMulticast.Controller.OpenFlowFabric;

/// <summary>
/// Turns what OpenFlow tells the controller into the learner's protocol-neutral calls: a handshake is a
/// switch with its ports, PORT_STATUS adds or removes a port, LLDP links (from <see cref="FabricDiscovery"/>)
/// are links, and every other PACKET_IN (the punted IGMP/MLD, ARP, ND) is a frame on its in_port.
/// It lives in the controller, the composition layer, so that neither OpenFlow nor the learner knows the other.
/// </summary>
public sealed class OpenFlowFabricFeed : IDisposable
{
    private readonly OpenFlowListener _listener;
    private readonly FabricDiscovery _discovery;
    private readonly FabricLearner _learner;
    // A switch's ports reach the learner two ways: the session's port list (read at SwitchUp) and PORT_STATUS. The session
    // updates its list before raising PORT_STATUS, so with both under one lock a port added during SwitchUp is either in the
    // list it reads or added after it — never dropped (a PORT_STATUS before SwitchUp finds the switch unknown and is
    // ignored; without the lock the list read before it could land after it and the port was lost for good, CI at stop 20).
    private readonly Lock _ports = new();
    private int _disposed;

    /// <param name="switchUpOnConnect">False when a bootstrap pipeline calls <see cref="SwitchUp"/> in its order.</param>
    public OpenFlowFabricFeed(OpenFlowListener listener, FabricDiscovery discovery, FabricLearner learner, bool switchUpOnConnect = true)
    {
        _listener = listener;
        _discovery = discovery;
        _learner = learner;
        _switchUpOnConnect = switchUpOnConnect;
        if (switchUpOnConnect) listener.SwitchConnected += OnConnected;
        listener.SwitchDisconnected += OnDisconnected;
        listener.PortStatusReceived += OnPortStatus;
        listener.PacketInViewReceived += OnPacketIn;
        discovery.LinkDiscovered += OnLinkDiscovered;
        discovery.LinkLost += OnLinkLost;
        learner.QuerySent += OnQuery;
    }

    /// <summary>Queries of our querier sent as PACKET_OUTs (one per switch and query, every edge port an OUTPUT).</summary>
    public long QueriesSent => Interlocked.Read(ref _queries);
    private long _queries;

    /// <summary>Punted frames handed to the learner.</summary>
    public long FramesFed => Interlocked.Read(ref _frames);
    private long _frames;

    private readonly bool _switchUpOnConnect;

    private void OnConnected(OpenFlowSession session) => SwitchUp(session);

    /// <summary>The learner learns the switch and its physical ports (the bootstrap's first step).</summary>
    public void SwitchUp(OpenFlowSession session)
    {
        lock (_ports)
        {
            var ports = new List<SwitchPortInfo>(session.Ports.Count);
            foreach (var p in session.Ports.Values)
                if (p.PortNo < Ofp.PortMax) ports.Add(new SwitchPortInfo(p.PortNo, p.Name));
            _learner.SwitchUp(session.SwitchId, session.DatapathId, ports);
        }
    }

    private void OnDisconnected(OpenFlowSession session, string reason) => _learner.SwitchDown(session.SwitchId);

    private void OnPortStatus(OpenFlowSession session, PortStatus status)
    {
        if (status.Port.PortNo >= Ofp.PortMax) return;
        lock (_ports)
        {
            if (status.Reason == PortStatusReason.Delete) _learner.PortRemoved(session.SwitchId, status.Port.PortNo);
            else _learner.PortAdded(session.SwitchId, new SwitchPortInfo(status.Port.PortNo, status.Port.Name));
        }
    }

    // A view of the session's receive buffer: the frame goes to the snooper without a copy (nothing allocated per PACKET_IN).
    private void OnPacketIn(OpenFlowSession session, PacketInView packetIn)
    {
        if (packetIn.InPort is not { } inPort) return;
        var data = packetIn.Data;
        // LLDP is discovery's; everything else the punt flows send is the snooper's.
        if (data.Length >= 14 && ((data[12] << 8) | data[13]) == Lldp.EtherType) return;
        Interlocked.Increment(ref _frames);
        _learner.FrameIn(session.SwitchId, inPort, data);
    }

    private void OnQuery(QueryOut query)
    {
        if (!_listener.TryGetSwitch(query.SwitchId, out var session)) return;
        var outputs = new List<OfpAction>(query.Ports.Length);
        foreach (uint p in query.Ports) outputs.Add(new OutputAction(p));
        _ = SendQueryAsync(session, new PacketOut(Ofp.NoBuffer, Ofp.PortController, outputs, query.Frame));
    }

    private async Task SendQueryAsync(OpenFlowSession session, PacketOut packetOut)
    {
        try
        {
            await session.SendAsync(packetOut).ConfigureAwait(false);
            Interlocked.Increment(ref _queries);
        }
        catch (Exception e) when (e is OpenFlowSessionException or OperationCanceledException) { } // the next query interval tries again
    }

    private void OnLinkDiscovered(SwitchLink link) => QueueLink(link, up: true);

    private void OnLinkLost(SwitchLink link) => QueueLink(link, up: false);

    // Links arrive as LLDP PACKET_INs on the sessions' read loops, a fabric's worth in one burst. They are queued and
    // handed to the learner in batches (one topology rebuild per batch, not per link) by one drain at a time, so a
    // read loop never waits for a rebuild and a 1,000-switch fabric is learned in a few rebuilds instead of ~16,000.
    private readonly System.Collections.Concurrent.ConcurrentQueue<LinkChange> _links = new();
    private int _draining;

    /// <summary>Link changes queued and not yet handed to the learner (0 once discovery's burst is applied).</summary>
    public int PendingLinkChanges => _links.Count;

    private void QueueLink(SwitchLink link, bool up)
    {
        _links.Enqueue(new LinkChange(new SwitchPort(link.FromSwitch, link.FromPort), new SwitchPort(link.ToSwitch, link.ToPort), up));
        if (Interlocked.CompareExchange(ref _draining, 1, 0) == 0)
            ThreadPool.UnsafeQueueUserWorkItem(static feed => feed.DrainLinks(), this, preferLocal: false);
    }

    private void DrainLinks()
    {
        var batch = new List<LinkChange>();
        while (true)
        {
            while (_links.TryDequeue(out var c)) batch.Add(c);
            if (batch.Count > 0 && Volatile.Read(ref _disposed) == 0) _learner.LinksChanged(batch);
            batch.Clear();
            Volatile.Write(ref _draining, 0);
            // A change queued between the last dequeue and the release would otherwise wait for the next one.
            if (_links.IsEmpty || Interlocked.CompareExchange(ref _draining, 1, 0) != 0) return;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_switchUpOnConnect) _listener.SwitchConnected -= OnConnected;
        _listener.SwitchDisconnected -= OnDisconnected;
        _listener.PortStatusReceived -= OnPortStatus;
        _listener.PacketInViewReceived -= OnPacketIn;
        _discovery.LinkDiscovered -= OnLinkDiscovered;
        _discovery.LinkLost -= OnLinkLost;
        _learner.QuerySent -= OnQuery;
    }
}
