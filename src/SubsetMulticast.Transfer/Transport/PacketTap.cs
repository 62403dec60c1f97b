using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Packets;
using SubsetMulticast.Packets.Ethernet;
using SubsetMulticast.Packets.Ip;
using SubsetMulticast.Packets.Udp;

namespace SubsetMulticast.Transfer.Transport;

/// <summary>
/// Receives UDP datagrams addressed to a transactional block WITHOUT joining the group: an AF_PACKET socket
/// (packet(7), SOCK_DGRAM, ETH_P_ALL) on one interface sees every frame the NIC receives, before IP's multicast
/// filter. Outgoing frames, non-UDP, other ports, fragments and addresses outside the blocks are skipped; a bad
/// UDP checksum or malformed header is counted and dropped. One receive buffer, no allocation per packet.
/// </summary>
public sealed class PacketTap : IDisposable
{
    private const int AF_PACKET = 17, SOCK_DGRAM = 2, SOL_SOCKET = 1, SO_RCVTIMEO = 20, SO_RCVBUFFORCE = 33;
    private const ushort ETH_P_ALL = 0x0003;
    private const byte PACKET_OUTGOING = 4;
    private readonly int _fd;
    private readonly AddressBlock[] _blocks;
    private readonly ushort _port;
    private Thread? _thread;
    private volatile bool _stopping;
    private long _taken, _malformed;

    public PacketTap(int interfaceIndex, IReadOnlyList<AddressBlock> blocks, ushort port, int receiveBufferBytes)
    {
        _blocks = [.. blocks];
        _port = port;
        _fd = socket(AF_PACKET, SOCK_DGRAM, BinaryPrimitives.ReverseEndianness(ETH_P_ALL));
        if (_fd < 0) throw new SocketException(Marshal.GetLastPInvokeError());
        Span<byte> sll = stackalloc byte[20];
        sll.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(sll, AF_PACKET);
        BinaryPrimitives.WriteUInt16BigEndian(sll[2..], ETH_P_ALL);
        BinaryPrimitives.WriteInt32LittleEndian(sll[4..], interfaceIndex);
        unsafe
        {
            fixed (byte* p = sll)
                if (bind(_fd, p, 20) < 0) { int e = Marshal.GetLastPInvokeError(); close(_fd); throw new SocketException(e); }
            long* tv = stackalloc long[2];
            tv[0] = 0; tv[1] = 200_000;                 // 200 ms: the loop checks for a stop this often
            setsockopt(_fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16);
            int size = receiveBufferBytes;
            setsockopt(_fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, 4);
        }
    }

    /// <summary>Datagrams handed on; frames dropped as malformed (bad checksum, bad header).</summary>
    public long Taken => Interlocked.Read(ref _taken);
    public long Malformed => Interlocked.Read(ref _malformed);

    public void Start(Transport.IDatagramSink sink)
    {
        _thread = new Thread(() => Loop(sink)) { IsBackground = true, Name = "packet-tap" };
        _thread.Start();
    }

    private unsafe void Loop(Transport.IDatagramSink sink)
    {
        var buffer = new byte[65536];
        byte* sll = stackalloc byte[20];
        while (!_stopping)
        {
            int sllLength = 20;
            int n;
            fixed (byte* b = buffer) n = (int)recvfrom(_fd, b, (nint)buffer.Length, 0, sll, &sllLength);
            if (n <= 0) continue;   // timeout (EAGAIN) or interrupted: check the stop flag
            if (sll[10] == PACKET_OUTGOING) continue;
            ushort protocol = (ushort)(sll[2] << 8 | sll[3]);
            if (protocol != EtherTypes.Ipv4 && protocol != EtherTypes.Ipv6) continue;
            var l3 = buffer.AsSpan(0, n);
            // Cheap pre-filter before parsing: UDP (v4 protocol 17 / v6 next header 17) to a multicast address.
            if (protocol == EtherTypes.Ipv4 ? n < 28 || l3[9] != IpProtocols.Udp || (l3[16] & 0xF0) != 0xE0 : n < 48 || l3[6] != IpProtocols.Udp || l3[24] != 0xFF) continue;
            try
            {
                if (!IpPacket.TryRead(l3, protocol, out var ip) || ip.IsFragment || !InBlocks(ip.Destination)) continue;
                if (!UdpDatagram.TryRead(in ip, out var udp) || udp.DestinationPort != _port) continue;
                Interlocked.Increment(ref _taken);
                sink.OnDatagram(ip.Source, udp.SourcePort, ip.Destination, udp.Payload);
            }
            catch (MalformedPacketException)
            {
                Interlocked.Increment(ref _malformed);
            }
        }
    }

    private bool InBlocks(IpAddress group)
    {
        foreach (var b in _blocks) if (b.Contains(group)) return true;
        return false;
    }

    /// <summary>SO_RCVBUFFORCE (root: beyond rmem_max), falling back to SO_RCVBUF.</summary>
    internal static void ForceBuffers(Socket socket, int bytes)
    {
        try { socket.SetRawSocketOption(SOL_SOCKET, SO_RCVBUFFORCE, BitConverter.GetBytes(bytes)); }
        catch (SocketException) { socket.ReceiveBufferSize = bytes; }
    }

    public void Dispose()
    {
        _stopping = true;
        _thread?.Join(TimeSpan.FromSeconds(2));
        close(_fd);
    }

    [DllImport("libc", SetLastError = true)] private static extern int socket(int domain, int type, int protocol);
    [DllImport("libc", SetLastError = true)] private static extern unsafe int bind(int fd, byte* addr, int length);
    [DllImport("libc", SetLastError = true)] private static extern unsafe int setsockopt(int fd, int level, int name, void* value, int length);
    [DllImport("libc", SetLastError = true)] private static extern unsafe nint recvfrom(int fd, byte* buffer, nint length, int flags, byte* from, int* fromLength);
    [DllImport("libc", SetLastError = true)] private static extern int close(int fd);
}
