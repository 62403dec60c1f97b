using System.Buffers.Binary;


namespace SubsetMulticast.Proof;

/// <summary>
/// What the taps saw for the current trial: per host, the kernel receive timestamps (CLOCK_REALTIME, ns) of
/// the trial's probe datagrams, and the first IGMP message the host itself sent after being armed.
/// Each tap writes only its own host's slots.
/// </summary>
internal sealed class Watch(int hosts)
{
    public const int MaxArrivals = 65_536;
    private volatile int _trial = -1;
    public readonly long[] First = new long[hosts];
    public readonly long[] Last = new long[hosts];
    public readonly int[] Count = new int[hosts];
    public readonly long[][] Arrivals = Enumerable.Range(0, hosts).Select(_ => new long[MaxArrivals]).ToArray();
    public readonly long[] IgmpOut = new long[hosts];
    public readonly bool[] IgmpArmed = new bool[hosts];

    public int Trial => _trial;

    /// <summary>Starts a new trial: stale probes (another trial id) are ignored from now on.</summary>
    public void Reset(int trial)
    {
        _trial = -1;
        Native.usleep(1000); // a tap that matched the old trial a moment ago has written by now
        Array.Clear(First); Array.Clear(Last); Array.Clear(Count); Array.Clear(IgmpOut); Array.Clear(IgmpArmed);
        Array.Clear(FirstSeq); Array.Clear(WarmAt); _warmSeq = -1;
        Array.Clear(SentAt, 0, Math.Min(MaxSent, _sentHigh + 1));
        _sentHigh = 0;
        _trial = trial;
    }

    /// <summary>Per host, the sequence number of the first probe it received this trial.</summary>
    public readonly int[] FirstSeq = new int[hosts];

    /// <summary>The sender's probes as its tap saw them leave (kernel timestamp), by sequence number; 0 = not seen.</summary>
    public readonly long[] SentAt = new long[MaxSent];
    public const int MaxSent = 65_536;

    /// <summary>A probe sent once the path is warm (its datapath flows installed): per host, when it arrived.</summary>
    public readonly long[] WarmAt = new long[hosts];
    private volatile int _warmSeq = -1;

    public int WarmSeq { get => _warmSeq; set => _warmSeq = value; }

    public void OnProbeSent(int trial, int seq, long ts)
    {
        if (trial != _trial || (uint)seq >= MaxSent) return;
        Volatile.Write(ref SentAt[seq], ts);
        if (seq > _sentHigh) _sentHigh = seq;
    }

    private int _sentHigh = MaxSent - 1;

    /// <summary>
    /// For a target: its first probe's transit, sender's wire → its wire (ns; 0 when the sender's tap missed it).
    /// For a rule just installed this is the datapath's first packet of a new flow (an upcall on every bridge).
    /// </summary>
    public long FirstTransit(int host)
    {
        int seq = FirstSeq[host];
        long sent = (uint)seq < MaxSent ? Volatile.Read(ref SentAt[seq]) : 0;
        long got = Volatile.Read(ref First[host]);
        return sent > 0 && got > 0 ? got - sent : 0;
    }

    /// <summary>The warm probe's transit to <paramref name="host"/> (ns; 0 when not seen).</summary>
    public long WarmTransit(int host)
    {
        int seq = _warmSeq;
        long sent = (uint)seq < MaxSent ? Volatile.Read(ref SentAt[seq]) : 0;
        long got = Volatile.Read(ref WarmAt[host]);
        return sent > 0 && got > 0 ? got - sent : 0;
    }

    public void OnProbe(int host, int trial, int seq, long ts)
    {
        if (trial != _trial) return;
        int n = Count[host];
        if (n < MaxArrivals) Arrivals[host][n] = ts;
        if (seq == _warmSeq) Volatile.Write(ref WarmAt[host], ts);
        if (n == 0) { FirstSeq[host] = seq; Volatile.Write(ref First[host], ts); }
        Volatile.Write(ref Last[host], ts);
        Volatile.Write(ref Count[host], n + 1);
    }

    /// <summary>The group each host was told to join this trial (network order), whose report the tap waits for.</summary>
    public readonly uint[] ExpectGroup = new uint[hosts];

    /// <summary>An IGMP message the host sent: the first report that joins the expected group is the one timed.</summary>
    public void OnIgmpSent(int host, long ts, ReadOnlySpan<byte> igmp)
    {
        if (!Volatile.Read(ref IgmpArmed[host]) || Volatile.Read(ref IgmpOut[host]) != 0 || igmp.Length < 8) return;
        uint want = Volatile.Read(ref ExpectGroup[host]);
        bool joins = false;
        if (igmp[0] == 0x16) joins = BinaryPrimitives.ReadUInt32BigEndian(igmp[4..]) == want; // IGMPv2 report
        else if (igmp[0] == 0x22) // IGMPv3 report: records of (type, aux, nsrc, group, sources)
        {
            int records = BinaryPrimitives.ReadUInt16BigEndian(igmp[6..]), off = 8;
            for (int r = 0; r < records && off + 8 <= igmp.Length; r++)
            {
                byte type = igmp[off];
                int nsrc = BinaryPrimitives.ReadUInt16BigEndian(igmp[(off + 2)..]);
                if (BinaryPrimitives.ReadUInt32BigEndian(igmp[(off + 4)..]) == want && type is 2 or 4) joins = true;
                off += 8 + 4 * nsrc + 4 * igmp[off + 1];
            }
        }
        if (joins) Volatile.Write(ref IgmpOut[host], ts);
    }

    public bool AllReceived(IReadOnlyList<int> targets)
    {
        foreach (int t in targets) if (Volatile.Read(ref First[t]) == 0) return false;
        return true;
    }

    public long MaxFirst(IReadOnlyList<int> targets) => targets.Max(t => Volatile.Read(ref First[t]));
    public long MaxLast(IReadOnlyList<int> targets) => targets.Max(t => Volatile.Read(ref Last[t]));
}

/// <summary>
/// An AF_PACKET socket on one host's interface, opened inside the host's namespace, with SO_TIMESTAMPNS: the
/// kernel's receive timestamp of every frame. It never joins anything — it sees what the wire delivers.
/// Probe datagrams (UDP to <see cref="ProbePort"/>, payload "TSMP" + trial id) and the host's own outgoing IGMP
/// are reported to the <see cref="Watch"/>.
/// </summary>
internal sealed unsafe class Tap : IDisposable
{
    public const int ProbePort = 5099;
    public static ReadOnlySpan<byte> Magic => "TSMP"u8;
    private readonly int _fd;
    private readonly int _host;
    private readonly Watch _watch;
    private readonly Thread _thread;
    private volatile bool _stop;

    public Tap(string ns, string ifname, int host, Watch watch)
    {
        _host = host;
        _watch = watch;
        _fd = Shell.InNamespace(ns, () =>
        {
            int fd = Native.Check(Native.socket(Native.AfPacket, Native.SockRaw, BinaryPrimitives.ReverseEndianness((short)Native.EthPAll)), "socket(AF_PACKET)");
            int one = 1, buf = 4 << 20;
            Native.Check(Native.setsockopt(fd, Native.SolSocket, Native.SoTimestampNs, &one, sizeof(int)), "SO_TIMESTAMPNS");
            Native.setsockopt(fd, Native.SolSocket, Native.SoRcvBufForce, &buf, sizeof(int));
            uint index = Native.if_nametoindex(ifname);
            if (index == 0) throw new InvalidOperationException($"no interface {ifname} in {ns}");
            var sll = new Native.SockAddrLl { Family = Native.AfPacket, Protocol = BinaryPrimitives.ReverseEndianness(Native.EthPAll), IfIndex = (int)index };
            Native.Check(Native.bind(fd, &sll, sizeof(Native.SockAddrLl)), "bind(AF_PACKET)");
            return fd;
        });
        _thread = new Thread(Loop) { IsBackground = true, Name = $"tap-{host}", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    private void Loop()
    {
        var frame = new byte[2048];
        var control = new byte[256];
        Native.SockAddrLl from;
        fixed (byte* f = frame, c = control)
        {
            var iov = new Native.IoVec { Base = f, Len = (nuint)frame.Length };
            var pfd = new Native.PollFd { Fd = _fd, Events = Native.PollIn };
            while (!_stop)
            {
                if (Native.poll(&pfd, 1, 100) <= 0) continue;
                for (int burst = 0; burst < 1024 && !_stop; burst++)
                {
                    var msg = new Native.MsgHdr { Name = &from, NameLen = (uint)sizeof(Native.SockAddrLl), Iov = &iov, IovLen = 1, Control = c, ControlLen = (nuint)control.Length };
                    nint n = Native.recvmsg(_fd, &msg, Native.MsgDontWait);
                    if (n <= 0) break;
                    long ts = Timestamp(c, (int)msg.ControlLen);
                    Classify(new ReadOnlySpan<byte>(f, (int)n), from.PktType == Native.PacketOutgoing, ts);
                }
            }
        }
    }

    /// <summary>The SCM_TIMESTAMPNS control message: struct timespec, CLOCK_REALTIME.</summary>
    private static long Timestamp(byte* control, int length)
    {
        int off = 0;
        while (off + 16 <= length)
        {
            long len = *(long*)(control + off);
            int level = *(int*)(control + off + 8), type = *(int*)(control + off + 12);
            if (len < 16) break;
            if (level == Native.SolSocket && type == Native.SoTimestampNs && len >= 32)
                return *(long*)(control + off + 16) * 1_000_000_000L + *(long*)(control + off + 24);
            off += (int)((len + 7) & ~7L);
        }
        return Native.NowNs();
    }

    private void Classify(ReadOnlySpan<byte> f, bool outgoing, long ts)
    {
        if (f.Length < 34 || f[12] != 0x08 || f[13] != 0x00) return;
        int ihl = (f[14] & 0xF) * 4;
        byte proto = f[23];
        if (proto == 2) { if (outgoing && f.Length >= 14 + ihl) _watch.OnIgmpSent(_host, ts, f[(14 + ihl)..]); return; }
        if (proto != 17 || f.Length < 14 + ihl + 8 + 12) return;
        var udp = f[(14 + ihl)..];
        if (BinaryPrimitives.ReadUInt16BigEndian(udp[2..]) != ProbePort) return;
        var payload = udp[8..];
        if (!payload.StartsWith(Magic)) return;
        int trial = BinaryPrimitives.ReadInt32BigEndian(payload[4..]), seq = BinaryPrimitives.ReadInt32BigEndian(payload[8..]);
        if (outgoing) { if (_host == 0) _watch.OnProbeSent(trial, seq, ts); return; }
        _watch.OnProbe(_host, trial, seq, ts);
    }

    public void Dispose()
    {
        _stop = true;
        _thread.Join(2000);
        Native.close(_fd);
    }
}
