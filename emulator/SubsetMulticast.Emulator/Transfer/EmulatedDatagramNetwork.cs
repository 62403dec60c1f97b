using System.Buffers;
using System.Threading.Channels;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Emulator.Chaos;
using SubsetMulticast.Packets;
using SubsetMulticast.Packets.Ethernet;
using SubsetMulticast.Packets.Ip;
using SubsetMulticast.Packets.Udp;
using SubsetMulticast.Transfer.Transport;

namespace SubsetMulticast.Emulator.Transfer;

/// <summary>A UDP datagram that reached a host's NIC (whatever its stack then did with it).</summary>
public delegate void DatagramObserver(EmulatedHost host, IpAddress source, IpAddress destination, ushort destinationPort, ReadOnlySpan<byte> payload);

/// <summary>
/// The hosts' network stacks on an emulated fabric, for the rendezvous transfer protocol. Each host's stack
/// takes: UDP to its own address; UDP to a group it joined (IGMP report through <see cref="EmulatedFabric.Join"/>);
/// and — like an AF_PACKET tap, without any join — UDP to an address in a transactional block. Everything else
/// is dropped, as Linux drops multicast for groups the host has not joined (transfer.md §6). Datagrams are
/// copied off the fabric's lock into a per-host queue and handed to the transport's sink on its own task.
/// </summary>
public sealed class EmulatedDatagramNetwork : IAsyncDisposable
{
    private readonly EmulatedFabric _fabric;
    private readonly AddressBlock[] _tapBlocks;
    private readonly Dictionary<int, EmulatedHostTransport> _stacks = [];
    private long _malformed;
    private long _inFlight;

    public EmulatedDatagramNetwork(EmulatedFabric fabric, IEnumerable<AddressBlock> tapBlocks, LinkChaos? chaos = null)
    {
        _fabric = fabric;
        _tapBlocks = [.. tapBlocks];
        if (chaos is not null) chaos.Install(fabric, Receive); else fabric.HostReceive = Receive;
    }

    public EmulatedFabric Fabric => _fabric;

    /// <summary>Every UDP datagram that reached any host's NIC (under the fabric's lock; must not call back).</summary>
    public DatagramObserver? Observer { get; set; }

    /// <summary>Frames that reached a host but did not parse (chaos truncation, bad checksum).</summary>
    public long MalformedFrames => Interlocked.Read(ref _malformed);

    /// <summary>
    /// Datagrams taken by a host's stack and not yet handled by its sink (the sink's call has not returned). What a sink
    /// sends while it handles one is counted before that one is done, so 0 means nothing on the network is left to do.
    /// </summary>
    public long InFlight => Interlocked.Read(ref _inFlight);

    /// <summary>Called (on a receive task) each time <see cref="InFlight"/> drops to 0; must not block.</summary>
    public Action? Settled { get; set; }

    internal void Taken() => Interlocked.Increment(ref _inFlight);

    internal void Handled()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0) Settled?.Invoke();
    }

    /// <summary>The transport of a host (one per host; <paramref name="port"/> 0 picks an ephemeral one).</summary>
    public EmulatedHostTransport Open(EmulatedHost host, ushort port)
    {
        lock (_fabric.Gate)
        {
            if (_stacks.ContainsKey(host.Index)) throw new InvalidOperationException($"{host.Name} already has a transport.");
            var t = new EmulatedHostTransport(this, host, port == 0 ? (ushort)(40000 + host.Index % 20000) : port);
            _stacks[host.Index] = t;
            return t;
        }
    }

    internal void Close(EmulatedHostTransport t)
    {
        lock (_fabric.Gate) _stacks.Remove(t.Host.Index);
    }

    private void Receive(EmulatedHost host, ReadOnlySpan<byte> frame)
    {
        try
        {
            if (!EthernetFrame.TryRead(frame, out var eth) || eth.EtherType is not (EtherTypes.Ipv4 or EtherTypes.Ipv6)) return;
            if (!IpPacket.TryRead(eth.Payload, eth.EtherType, out var ip) || ip.Protocol != IpProtocols.Udp || ip.IsFragment) return;
            if (!UdpDatagram.TryRead(in ip, out var udp)) return;
            Observer?.Invoke(host, ip.Source, ip.Destination, udp.DestinationPort, udp.Payload);
            if (!_stacks.TryGetValue(host.Index, out var stack) || udp.DestinationPort != stack.Port) return;
            var dst = ip.Destination;
            bool take = dst.IsMulticast ? _fabric.IsMember(host, dst) || InTapBlock(dst) : host.Has(dst);
            if (take) stack.Enqueue(ip.Source, udp.SourcePort, dst, udp.Payload);
        }
        catch (MalformedPacketException)
        {
            Interlocked.Increment(ref _malformed);
        }
    }

    private bool InTapBlock(IpAddress group)
    {
        foreach (var b in _tapBlocks) if (b.Contains(group)) return true;
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        List<EmulatedHostTransport> all;
        lock (_fabric.Gate) all = [.. _stacks.Values];
        foreach (var t in all) await t.DisposeAsync().ConfigureAwait(false);
        _fabric.HostReceive = null;
    }
}

/// <summary>One emulated host's endpoint: sends real UDP frames into the fabric, receives from its stack's queue.</summary>
public sealed class EmulatedHostTransport : IDatagramTransport
{
    private readonly EmulatedDatagramNetwork _network;
    private readonly Channel<(IpAddress Source, ushort Port, IpAddress Destination, byte[] Buffer, int Length)> _queue =
        Channel.CreateUnbounded<(IpAddress, ushort, IpAddress, byte[], int)>(new UnboundedChannelOptions { SingleReader = true });
    private Task? _pump;
    private int _disposed;

    internal EmulatedHostTransport(EmulatedDatagramNetwork network, EmulatedHost host, ushort port)
    {
        _network = network;
        Host = host;
        Port = port;
    }

    public EmulatedHost Host { get; }
    public IpAddress Address => Host.Ipv4;
    public ushort Port { get; }

    internal void Enqueue(IpAddress source, ushort port, IpAddress destination, ReadOnlySpan<byte> payload)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(payload.Length);
        payload.CopyTo(buffer);
        _network.Taken();
        if (!_queue.Writer.TryWrite((source, port, destination, buffer, payload.Length)))
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _network.Handled();
        }
    }

    public void Start(IDatagramSink sink)
    {
        if (_pump is not null) throw new InvalidOperationException("Already started.");
        _pump = Task.Run(async () =>
        {
            while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
                while (_queue.Reader.TryRead(out var d))
                {
                    try { sink.OnDatagram(d.Source, d.Port, d.Destination, d.Buffer.AsSpan(0, d.Length)); }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(d.Buffer);
                        _network.Handled();
                    }
                }
        });
    }

    public void Send(IpAddress destination, ushort port, ReadOnlySpan<byte> datagram)
    {
        if (Volatile.Read(ref _disposed) != 0) return;
        var fabric = _network.Fabric;
        MacAddress dstMac;
        if (destination.IsMulticast) dstMac = MulticastMac.For(destination);
        else if (fabric.TryGetHost(destination, out var d)) dstMac = d.Mac;
        else return;   // no such host: the datagram goes nowhere, as an unanswered ARP would leave it
        int length = UdpDatagram.GetFrameLength(Host.Vlan, Host.Ipv4, datagram.Length);
        if (length > EmulatedFabric.MaxFrame) return;
        var frame = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            int n = UdpDatagram.WriteFrame(frame, Host.Mac, dstMac, Host.Vlan, Host.Ipv4, destination, Port, port, datagram);
            fabric.Send(Host, frame.AsSpan(0, n));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    public void JoinReference(IpAddress group) => _network.Fabric.Join(Host, group);

    /// <summary>Stops the host: nothing is received or sent any more (a killed server).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _network.Close(this);
        _queue.Writer.TryComplete();
        if (_pump is not null) await _pump.ConfigureAwait(false);
    }
}
