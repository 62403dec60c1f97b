using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace SubsetMulticast.Proof;

/// <summary>One put configuration: a method, a chunk size, a loss rate, FEC on or off.</summary>
internal sealed class PutRow(string method, string how, int bytes, double lossPercent, string fec)
{
    public string Method { get; } = method;
    public string How { get; } = how;
    public int Bytes { get; } = bytes;
    public double LossPercent { get; } = lossPercent;
    public string Fec { get; } = fec;
    public List<double> CompletionMs { get; } = [];
    public List<double> HandshakeMs { get; } = [];
    public List<long> SenderLinkBytes { get; } = [];
    public List<long> NonTargetBytes { get; } = [];
    public int Failed { get; set; }
    public string? Pending { get; set; }
    /// <summary>Ours: datagrams sent again (multicast repair + unicast repair) per trial.</summary>
    public List<int> Repairs { get; } = [];
}

/// <summary>
/// Puts of one chunk to 3 of the receivers: 3 parallel TCP streams (unicast fan-out, kernel defaults, connections
/// kept open as a storage client keeps them), UFTP with a closed group of the same 3 hosts, and UFTP to the whole
/// reference group (every receiver). Bytes on the sender's link and to non-targets come from the switch-side veth
/// counters (what actually crossed the links).
/// </summary>
internal sealed class PutBench : IDisposable
{
    public const int TcpPort = 5200;
    private readonly Testbed _bed;
    private readonly int[] _targets;
    private readonly Action<string> _log;
    private readonly List<Socket> _listeners = [];
    private readonly List<Thread> _threads = [];
    private readonly List<Socket> _senders = [];
    private readonly List<Process> _uftpd = [];
    private readonly string _dir;
    private volatile bool _stop;

    public PutBench(Testbed bed, int[] targets, Action<string> log)
    {
        _bed = bed;
        _targets = targets;
        _log = log;
        _dir = Path.Combine("/dev/shm", "proof-" + bed.Tag);
        Directory.CreateDirectory(_dir);
    }

    // ---------------------------------------------------------------- TCP fan-out

    public void StartTcp()
    {
        foreach (int t in _targets)
        {
            var ip = IPAddress.Parse(_bed.Ip(t));
            var l = Shell.InNamespace(_bed.Ns(t), () => { var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp); s.Bind(new IPEndPoint(ip, TcpPort)); s.Listen(4); return s; });
            _listeners.Add(l);
            var th = new Thread(() => Serve(l)) { IsBackground = true };
            th.Start();
            _threads.Add(th);
        }
        foreach (int t in _targets)
        {
            var s = Shell.InNamespace(_bed.Ns(0), () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true });
            s.Connect(new IPEndPoint(IPAddress.Parse(_bed.Ip(t)), TcpPort));
            _senders.Add(s);
        }
    }

    /// <summary>A receiver: length-prefixed chunks, one byte back when a chunk is whole.</summary>
    private void Serve(Socket listener)
    {
        try
        {
            using var s = listener.Accept();
            s.NoDelay = true;
            var buf = new byte[256 * 1024];
            var len = new byte[8];
            while (!_stop)
            {
                if (!ReadExactly(s, len, 8)) return;
                long left = BitConverter.ToInt64(len);
                while (left > 0)
                {
                    int n = s.Receive(buf, 0, (int)Math.Min(buf.Length, left), SocketFlags.None);
                    if (n <= 0) return;
                    left -= n;
                }
                s.Send([1]);
            }
        }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
    }

    private static bool ReadExactly(Socket s, byte[] b, int count)
    {
        int got = 0;
        while (got < count) { int n = s.Receive(b, got, count - got, SocketFlags.None); if (n <= 0) return false; got += n; }
        return true;
    }

    public bool PutTcp(PutRow row, byte[] chunk)
    {
        var (link0, others0) = Counters();
        var sw = Stopwatch.StartNew();
        var tasks = _senders.Select(s => Task.Factory.StartNew(() =>
        {
            s.Send(BitConverter.GetBytes((long)chunk.Length));
            s.Send(chunk);
            var ack = new byte[1];
            return s.Receive(ack) == 1;
        }, TaskCreationOptions.LongRunning)).ToArray();
        bool ok = Task.WaitAll(tasks, TimeSpan.FromSeconds(60)) && tasks.All(t => t.Result);
        double ms = sw.Elapsed.TotalMilliseconds;
        if (!ok) { row.Failed++; _log("  TCP fan-out: a stream did not finish within 60 s"); return false; }
        Thread.Sleep(20); // the last ACK-carrying segments cross the counters
        var (link1, others1) = Counters();
        row.CompletionMs.Add(ms);
        row.SenderLinkBytes.Add(link1 - link0);
        row.NonTargetBytes.Add(others1 - others0);
        return true;
    }

    // ---------------------------------------------------------------- UFTP

    public static string Id(int host) => $"0x{host + 0x100:X8}";

    /// <summary>One uftpd per receiver (foreground children: reaped by us), each with its own directory and log.</summary>
    public void StartUftpd()
    {
        Shell.Require("uftpd", "uftp");
        for (int h = 1; h <= _bed.Receivers; h++)
        {
            string d = Path.Combine(_dir, $"r{h}");
            Directory.CreateDirectory(d);
            _uftpd.Add(_bed.Own(Shell.StartDrained("ip", $"netns exec {_bed.Ns(h)} uftpd -d -U {Id(h)} -D {d} -L {_dir}/uftpd{h}.log -I {_bed.Inner(h)}")));
        }
        Thread.Sleep(500);
        foreach (var p in _uftpd) if (p.HasExited) throw new InvalidOperationException($"uftpd exited with {p.ExitCode}; see {_dir}");
    }

    private static readonly Regex Elapsed = new(@"(\d+\.\d+)\s+seconds", RegexOptions.Compiled);

    /// <summary>
    /// One uftp session: a closed group (-H) of the 3 targets, or of every receiver (the whole reference group: the
    /// sender knows its members, so it names them; an open group would wait out its whole announce period, ~2 s,
    /// for unknown clients). -R is the link rate (its default, 1000 kbps, would take 8.5 s per MiB); everything else
    /// is UFTP's default.
    /// </summary>
    public bool PutUftp(PutRow row, string file, bool closed)
    {
        var (link0, others0) = Counters();
        var group = closed ? _targets : Enumerable.Range(1, _bed.Receivers).ToArray();
        string hosts = $"-H {string.Join(',', group.Select(Id))} ";
        string log = Path.Combine(_dir, "uftp.log");
        File.Delete(log);
        var sw = Stopwatch.StartNew();
        var (code, _, err) = Shell.Run("ip", $"netns exec {_bed.Ns(0)} uftp -I {_bed.Inner(0)} {hosts}-R {_bed.RateMbit * 1000} -S @LOG -L {log} {file}", timeoutMs: 120_000);
        double ms = sw.Elapsed.TotalMilliseconds;
        Thread.Sleep(20);
        var (link1, others1) = Counters();
        string text = File.Exists(log) ? File.ReadAllText(log) : err;
        int expect = closed ? _targets.Length : _bed.Receivers;
        int got = Enumerable.Range(1, _bed.Receivers).Count(h => File.Exists(Path.Combine(_dir, $"r{h}", Path.GetFileName(file))) && new FileInfo(Path.Combine(_dir, $"r{h}", Path.GetFileName(file))).Length == new FileInfo(file).Length);
        foreach (var h in Enumerable.Range(1, _bed.Receivers)) File.Delete(Path.Combine(_dir, $"r{h}", Path.GetFileName(file)));
        if (code != 0 || got < expect) { row.Failed++; _log($"  uftp: exit {code}, {got}/{expect} copies; {Tail(text)}"); return false; }
        row.CompletionMs.Add(ms);
        row.HandshakeMs.Add(Handshake(text, ms));
        row.SenderLinkBytes.Add(link1 - link0);
        row.NonTargetBytes.Add(others1 - others0);
        LastLog = text;
        return true;
    }

    public string? LastLog { get; private set; }

    /// <summary>
    /// The announce/register handshake: from the session's start to its first data (uftp's log stamps every
    /// line; "Sending file" starts the data phase).
    /// </summary>
    private static double Handshake(string log, double wallMs)
    {
        DateTime? start = null, data = null;
        foreach (var line in log.Split('\n'))
        {
            var m = Regex.Match(line, @"^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d+)");
            if (!m.Success) continue;
            var ts = DateTime.ParseExact(m.Groups[1].Value, ["yyyy/MM/dd HH:mm:ss.ffffff", "yyyy/MM/dd HH:mm:ss.fff"], CultureInfo.InvariantCulture, DateTimeStyles.None);
            start ??= ts;
            if (data is null && line.Contains("Sending file", StringComparison.Ordinal)) data = ts;
        }
        return start is { } s && data is { } d ? (d - s).TotalMilliseconds : double.NaN;
    }

    private static string Tail(string s) => string.Join(" / ", s.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(3));

    private (long Link, long Others) Counters()
    {
        long link = Testbed.Counter(_bed.Outer(0), "rx_bytes");
        long others = Enumerable.Range(1, _bed.Receivers).Where(h => !_targets.Contains(h)).Sum(h => Testbed.Counter(_bed.Outer(h), "tx_bytes"));
        return (link, others);
    }

    public string MakeFile(int bytes)
    {
        string path = Path.Combine(_dir, $"chunk{bytes}.bin");
        var data = new byte[bytes];
        new Random(bytes).NextBytes(data);
        File.WriteAllBytes(path, data);
        return path;
    }

    public void Dispose()
    {
        _stop = true;
        foreach (var s in _senders) s.Dispose();
        foreach (var l in _listeners) l.Dispose();
        foreach (var p in _uftpd) Shell.Stop(p);
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
