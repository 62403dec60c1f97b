using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SubsetMulticast.Proof;

/// <summary>
/// The sender's sockets (in host 0's namespace): probe datagrams to a group, TTL 1, from its own address; and a
/// control socket the IGMP path uses to tell targets to join or leave and to hear their acknowledgements.
/// </summary>
internal sealed class Sender : IDisposable
{
    public const int ControlPort = 5097;
    private readonly Socket _probe;
    private readonly byte[] _buffer = new byte[64];
    public Socket Control { get; }

    public Sender(Testbed bed)
    {
        var ip = IPAddress.Parse(bed.Ip(0));
        (_probe, Control) = Shell.InNamespace(bed.Ns(0), () =>
        {
            var p = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            p.Bind(new IPEndPoint(ip, 0));
            p.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, ip.GetAddressBytes());
            p.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastTimeToLive, 1);
            p.MulticastLoopback = false;
            var c = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            c.Bind(new IPEndPoint(ip, ControlPort));
            return (p, c);
        });
        Tap.Magic.CopyTo(_buffer);
    }

    private int _lastTrial = int.MinValue, _seq;

    /// <summary>Sends one probe: "TSMP", the trial id, and a sequence number counting from 0 within the trial (the sender's tap times each on the wire).</summary>
    /// <returns>The probe's sequence number.</returns>
    public int Probe(IPAddress group, int trial)
    {
        lock (_buffer)
        {
            if (trial != _lastTrial) { _lastTrial = trial; _seq = 0; }
            int seq = _seq++;
            BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(4), trial);
            BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(8), seq);
            _probe.SendTo(_buffer, new IPEndPoint(group, Tap.ProbePort));
            return seq;
        }
    }

    /// <summary>The sequence number the next probe of <paramref name="trial"/> will carry.</summary>
    public int NextSeq(int trial) { lock (_buffer) return trial == _lastTrial ? _seq : 0; }

    /// <summary>Tells each target to join or leave, then waits (≤ 2 s) until every one acknowledged.</summary>
    public bool Tell(Testbed bed, IReadOnlyList<int> targets, char verb, IPAddress group, int trial)
    {
        var msg = Encoding.ASCII.GetBytes($"{verb} {group} {trial}");
        foreach (int t in targets) Control.SendTo(msg, new IPEndPoint(IPAddress.Parse(bed.Ip(t)), Agent.Port));
        var acked = new HashSet<int>();
        var buf = new byte[128];
        long deadline = Native.NowNs() + 2_000_000_000L;
        while (acked.Count < targets.Count)
        {
            int left = (int)((deadline - Native.NowNs()) / 1000);
            if (left <= 0 || !Control.Poll(left, SelectMode.SelectRead)) return false;
            int n = Control.Receive(buf);
            var parts = Encoding.ASCII.GetString(buf, 0, n).Split(' ');
            if (parts.Length == 3 && parts[0] == "A" && parts[1] == trial.ToString(System.Globalization.CultureInfo.InvariantCulture)) acked.Add(int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture));
        }
        return true;
    }

    /// <summary>Sends probes from a thread of its own every ~0.1 ms until disposed (the "sender keeps sending" of a teardown).</summary>
    public IDisposable Stream(IPAddress group, int trial) => new ProbeStream(this, group, trial);

    private sealed class ProbeStream : IDisposable
    {
        private volatile bool _stop;
        private readonly Thread _thread;
        public ProbeStream(Sender s, IPAddress group, int trial)
        {
            _thread = new Thread(() => { for (int i = 0; i < 200_000 && !_stop; i++) { s.Probe(group, trial); Native.usleep(100); } }) { IsBackground = true, Priority = ThreadPriority.AboveNormal };
            _thread.Start();
        }
        public void Dispose() { _stop = true; _thread.Join(); }
    }

    public void Dispose() { _probe.Dispose(); Control.Dispose(); }
}

/// <summary>
/// A receiver host's side of the IGMP path: told over the network to join (a real kernel join, IP_ADD_MEMBERSHIP)
/// or leave a group, it does so and acknowledges. Used only by the IGMP baselines — for ours nobody joins.
/// </summary>
internal sealed class Agent : IDisposable
{
    public const int Port = 5098;
    private readonly Socket _control, _member;
    private readonly IPAddress _ip;
    private readonly int _host;
    private readonly Watch _watch;
    private readonly Thread _thread;
    private volatile bool _stop;
    public readonly long[] JoinedAt;

    public Agent(Testbed bed, int host, Watch watch, long[] joinedAt)
    {
        _host = host;
        _watch = watch;
        JoinedAt = joinedAt;
        _ip = IPAddress.Parse(bed.Ip(host));
        (_control, _member) = Shell.InNamespace(bed.Ns(host), () =>
        {
            var c = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            c.Bind(new IPEndPoint(_ip, Port));
            var m = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            return (c, m);
        });
        _thread = new Thread(Loop) { IsBackground = true, Name = $"agent-{host}", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    private void Loop()
    {
        var buf = new byte[128];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        while (!_stop)
        {
            if (!_control.Poll(100_000, SelectMode.SelectRead)) continue;
            int n = _control.ReceiveFrom(buf, ref from);
            var parts = Encoding.ASCII.GetString(buf, 0, n).Split(' ');
            if (parts.Length != 3) continue;
            var group = IPAddress.Parse(parts[1]);
            try
            {
                if (parts[0] == "J")
                {
                    Volatile.Write(ref _watch.ExpectGroup[_host], BinaryPrimitives.ReadUInt32BigEndian(group.GetAddressBytes()));
                    Volatile.Write(ref _watch.IgmpArmed[_host], true);
                    JoinedAt[_host] = Native.NowNs();
                    _member.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(group, _ip));
                }
                else if (parts[0] == "L") _member.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.DropMembership, new MulticastOption(group, _ip));
            }
            catch (SocketException) { } // a leave of a group not joined: acknowledge anyway
            _control.SendTo(Encoding.ASCII.GetBytes($"A {parts[2]} {_host}"), from);
        }
    }

    public void Dispose() { _stop = true; _thread.Join(2000); _control.Dispose(); _member.Dispose(); }
}
