using System.Buffers.Binary;
using System.Threading.Channels;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Emulator.Switching;
using SubsetMulticast.OpenFlow.Agent;
using SubsetMulticast.OpenFlow.Discovery;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.Packets;
using SubsetMulticast.Packets.Ethernet;
using SubsetMulticast.Packets.Ip;
using SubsetMulticast.Packets.Lldp;

namespace SubsetMulticast.Emulator.OpenFlow;

/// <summary>
/// One emulated switch in OpenFlow mode, forwarding as Open vSwitch does with a controller: each frame is
/// looked up in the agent's table 0; CONTROLLER sends a PACKET_IN, group and OUTPUT actions send to their
/// ports, NORMAL (and a table miss) is a learning switch without IGMP snooping — unknown unicast and every
/// multicast flood on the spanning tree, reserved 01:80:c2:00:00:0X frames are never forwarded. PACKET_OUTs
/// from the controller leave on the named port. PACKET_INs go out in order through one queue per switch,
/// so the fabric's delivery thread never waits on a socket.
/// </summary>
internal sealed class OpenFlowDatapath : IAsyncDisposable
{
    private readonly EmulatedFabric _fabric;
    private readonly EmulatedSwitch _switch;
    private readonly Channel<(uint InPort, byte[] Frame, ulong Cookie)> _packetIns;
    private readonly Task _pump;
    private readonly bool[] _probed;
    private long _sent, _dropped, _queued;

    public OpenFlowDatapath(EmulatedFabric fabric, EmulatedSwitch sw, int packetInQueue)
    {
        _fabric = fabric;
        _switch = sw;
        _probed = new bool[sw.PortCount + 1];
        Agent = new OpenFlowSwitchAgent(sw.BridgeId, Enumerable.Range(1, sw.PortCount).Select(p => Port(sw, (uint)p)));
        Agent.PacketOut += OnPacketOut;
        // Like OVS's per-connection packet-in queue: bounded; what does not fit is dropped and counted.
        _packetIns = Channel.CreateBounded<(uint, byte[], ulong)>(new BoundedChannelOptions(packetInQueue)
        { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
        _pump = PumpAsync();
    }

    public OpenFlowSwitchAgent Agent { get; }
    public long PacketInsSent => Interlocked.Read(ref _sent);
    public long PacketInsDropped => Interlocked.Read(ref _dropped);
    public long PacketInsPending => Interlocked.Read(ref _queued);

    /// <summary>True once the controller has sent a PACKET_OUT on every port that has a link to another switch.</summary>
    public bool ProbedEveryLink
    {
        get
        {
            for (uint p = 1; p <= _switch.PortCount; p++)
                if (_switch.Neighbours[p].IsSwitch && !Volatile.Read(ref _probed[p])) return false;
            return true;
        }
    }

    /// <summary>Port p is "NAME-pP", link down when nothing is attached (as an unplugged NIC).</summary>
    public static OfpPort Port(EmulatedSwitch sw, uint port) => new(port,
        new MacAddress(0x0E00_0000_0000UL | ((ulong)(sw.Index + 1) << 16) | port), $"{sw.Name}-p{port}",
        State: sw.Neighbours[port] == PortPeer.None ? OfpPort.StateLinkDown : 0);

    /// <summary>
    /// Table 0 for a frame that arrived on <paramref name="inPort"/>; adds the egress ports. False drops the
    /// frame. Runs on the fabric's delivery thread under its gate; allocates only for a PACKET_IN's copy.
    /// </summary>
    public bool Process(uint inPort, in EthernetFrame eth, ReadOnlySpan<byte> frame, List<uint> egress)
    {
        // A blocked port still hears LLDP (802.1AB runs beside spanning tree); everything else is dropped.
        if (_switch.Blocked[inPort] && eth.EtherType != Lldp.EtherType) return false;
        var decision = Agent.Lookup(Fields(inPort, in eth));
        if (!decision.Matched) { Normal(inPort, in eth, egress); return true; }
        if (decision.ToController) PacketIn(inPort, frame, decision.Cookie);
        foreach (var p in decision.Ports.Span) egress.Add(p);
        if (decision.Flood) Flood(egress);
        if (decision.Normal) Normal(inPort, in eth, egress);
        return true;
    }

    private void Normal(uint inPort, in EthernetFrame eth, List<uint> egress)
    {
        var vlan = eth.Vlan;
        if (!eth.Source.IsGroup) _switch.Learn(vlan, eth.Source, inPort);
        var dst = eth.Destination;
        if (!dst.IsGroup)
        {
            if (_switch.TryLookupMac(vlan, dst, out var port)) egress.Add(port); else Flood(egress);
        }
        else if ((dst.Value & ~0xFUL) != 0x0180_C200_0000UL) Flood(egress); // 802.1D reserved addresses stay on the link
    }

    private void Flood(List<uint> egress)
    {
        for (uint p = 1; p <= _switch.PortCount; p++) egress.Add(p);
    }

    /// <summary>The fields table 0 matches on (OpenFlow 1.3 OXM basic class), read without allocating.</summary>
    private static PacketFields Fields(uint inPort, in EthernetFrame eth)
    {
        ushort vid = eth.Tagged ? (ushort)(Ofp.VidPresent | eth.Vlan.Value) : (ushort)0;
        ushort type = eth.EtherType;
        byte proto = 0, icmp6 = 0;
        uint v4 = 0;
        IpAddress v6 = default;
        ushort udp = 0;
        if (IpPacket.IsIp(type))
        {
            try
            {
                if (IpPacket.TryRead(eth.Payload, type, out var ip))
                {
                    proto = ip.Protocol;
                    if (ip.Version == 4) v4 = ip.Destination.V4; else v6 = ip.Destination;
                    var l4 = ip.Payload;
                    if (proto == IpProtocols.Udp && l4.Length >= 4 && !ip.IsFragment) udp = BinaryPrimitives.ReadUInt16BigEndian(l4[2..]);
                    if (proto == IpProtocols.Icmpv6 && l4.Length >= 1) icmp6 = l4[0];
                }
            }
            catch (MalformedPacketException)
            {
                // A bad IP header matches only flows on L2 fields, as OVS treats a packet it cannot parse.
                proto = 0; v4 = 0; v6 = default;
            }
        }
        return new PacketFields(inPort, eth.Destination, type, vid, proto, v4, v6, udp, icmp6);
    }

    private void PacketIn(uint inPort, ReadOnlySpan<byte> frame, ulong cookie)
    {
        if (!Agent.IsConnected) { Interlocked.Increment(ref _dropped); return; }
        Interlocked.Increment(ref _queued);
        if (!_packetIns.Writer.TryWrite((inPort, frame.ToArray(), cookie)))
        {
            Interlocked.Decrement(ref _queued);
            Interlocked.Increment(ref _dropped);
        }
    }

    private async Task PumpAsync()
    {
        await foreach (var (inPort, frame, cookie) in _packetIns.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                await Agent.SendPacketInAsync(inPort, frame, cookie).ConfigureAwait(false);
                Interlocked.Increment(ref _sent);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
            {
                // Not connected (or the connection just closed): a switch drops packet-ins it cannot send.
                Interlocked.Increment(ref _dropped);
            }
            finally { Interlocked.Decrement(ref _queued); }
        }
    }

    private void OnPacketOut(IReadOnlyList<uint> ports, byte[] frame)
    {
        foreach (var p in ports)
        {
            if (p == 0 || p > _switch.PortCount) continue; // reserved ports (TABLE, FLOOD …) are not emulated for packet-outs
            Volatile.Write(ref _probed[p], true);
            _fabric.Transmit(_switch, p, frame);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _packetIns.Writer.TryComplete();
        await Agent.DisposeAsync().ConfigureAwait(false);
        try { await _pump.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); }
        catch (TimeoutException) { /* the agent is gone; the pump's last send fails on its own */ }
    }
}
