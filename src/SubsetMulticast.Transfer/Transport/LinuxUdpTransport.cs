using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;

namespace SubsetMulticast.Transfer.Transport;

/// <summary>Settings of a <see cref="LinuxUdpTransport"/>.</summary>
public sealed class LinuxUdpTransportOptions
{
    /// <summary>UDP port to bind (0 = ephemeral, for clients).</summary>
    public ushort Port { get; init; }
    /// <summary>The interface to use (its first IPv4 address is ours); null = the first up, non-loopback interface with one.</summary>
    public string? Interface { get; init; }
    /// <summary>
    /// Transactional blocks whose datagrams are taken from an AF_PACKET tap, without joining: a server's rendezvous
    /// groups. Empty = no tap (a client).
    /// </summary>
    public IReadOnlyList<AddressBlock> TapBlocks { get; init; } = [];
    /// <summary>Multicast TTL: 1 keeps rendezvous and negotiating traffic on the L2 fabric.</summary>
    public int MulticastTtl { get; init; } = 1;
    /// <summary>Socket receive buffers (SO_RCVBUFFORCE as root, so a burst of a chunk's datagrams is not dropped by the kernel).</summary>
    public int ReceiveBufferBytes { get; init; } = 32 << 20;
}

/// <summary>
/// Real UDP on Linux (IPv4). One UDP socket carries unicast and the negotiating group (joined with IGMP, the only
/// join); rendezvous groups are NEVER joined — Linux drops multicast for groups the host has not joined
/// (ip_route_input_rcu / ip_check_mc_rcu, transfer.md §6), so their datagrams are taken from an AF_PACKET socket
/// (<see cref="PacketTap"/>) filtered to the transactional blocks and our port, with the UDP checksum verified.
/// </summary>
public sealed class LinuxUdpTransport : IDatagramTransport
{
    private readonly Socket _socket;
    private readonly LinuxUdpTransportOptions _options;
    private readonly PacketTap? _tap;
    private Thread? _thread;
    private volatile bool _stopping;
    private long _receiveErrors;

    public LinuxUdpTransport(LinuxUdpTransportOptions options)
    {
        _options = options;
        var (name, index, address) = FindInterface(options.Interface);
        InterfaceName = name;
        Address = IpAddress.From(address);
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.PacketInformation, true);
        _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, address.GetAddressBytes());
        _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastTimeToLive, options.MulticastTtl);
        _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastLoopback, false);
        PacketTap.ForceBuffers(_socket, options.ReceiveBufferBytes);
        _socket.ReceiveTimeout = 200;
        _socket.Bind(new IPEndPoint(IPAddress.Any, options.Port));
        Port = (ushort)((IPEndPoint)_socket.LocalEndPoint!).Port;
        if (options.TapBlocks.Count > 0) _tap = new PacketTap(index, options.TapBlocks, Port, options.ReceiveBufferBytes);
    }

    public IpAddress Address { get; }
    public ushort Port { get; }
    public string InterfaceName { get; }
    public long ReceiveErrors => Interlocked.Read(ref _receiveErrors);
    /// <summary>The tap's counters (null without one).</summary>
    public PacketTap? Tap => _tap;

    public void Start(IDatagramSink sink)
    {
        if (_thread is not null) throw new InvalidOperationException("Already started.");
        _thread = new Thread(() => ReceiveLoop(sink)) { IsBackground = true, Name = $"udp:{Port}" };
        _thread.Start();
        _tap?.Start(sink);
    }

    private void ReceiveLoop(IDatagramSink sink)
    {
        var buffer = new byte[65536];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        while (!_stopping)
        {
            try
            {
                var flags = SocketFlags.None;
                int n = _socket.ReceiveMessageFrom(buffer, ref flags, ref from, out var info);
                var source = (IPEndPoint)from;
                sink.OnDatagram(IpAddress.From(source.Address), (ushort)source.Port, IpAddress.From(info.Address), buffer.AsSpan(0, n));
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock or SocketError.Interrupted)
            {
            }
            catch (SocketException)
            {
                if (_stopping) return;
                Interlocked.Increment(ref _receiveErrors);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
    }

    public void Send(IpAddress destination, ushort port, ReadOnlySpan<byte> datagram)
    {
        try
        {
            _socket.SendTo(datagram, SocketFlags.None, new IPEndPoint(destination.ToIPAddress(), port));
        }
        catch (SocketException)
        {
            // Best effort, as UDP is: a full buffer or an unreachable host is a loss the protocol repairs.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void JoinReference(IpAddress group) =>
        _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(group.ToIPAddress(), Address.ToIPAddress()));

    public ValueTask DisposeAsync()
    {
        _stopping = true;
        _tap?.Dispose();
        _thread?.Join(TimeSpan.FromSeconds(2));
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>The named interface (or the first up, non-loopback one with IPv4): name, index and first IPv4 address.</summary>
    public static (string Name, int Index, IPAddress Address) FindInterface(string? name)
    {
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (name is null ? nic.NetworkInterfaceType == NetworkInterfaceType.Loopback || nic.OperationalStatus == OperationalStatus.Down : nic.Name != name) continue;
            var props = nic.GetIPProperties();
            var v4 = props.UnicastAddresses.FirstOrDefault(a => a.Address.AddressFamily == AddressFamily.InterNetwork)?.Address;
            if (v4 is null) continue;
            return (nic.Name, props.GetIPv4Properties().Index, v4);
        }
        throw new InvalidOperationException(name is null ? "No interface with an IPv4 address is up." : $"Interface '{name}' has no IPv4 address (or does not exist).");
    }
}
