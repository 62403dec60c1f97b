using System.Diagnostics;
using SubsetMulticast.Snmp.Tests.Support;

namespace SubsetMulticast.Snmp.Tests.Kernel;

/// <summary>
/// Linux bridges with IGMP snooping, linked by veths, hosts in their own namespaces. Names carry a random suffix;
/// everything is removed in Dispose, and background helpers are killed by the pid we started.
/// </summary>
internal sealed class KernelFabric : IDisposable
{
    public readonly string Tag = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3));
    private readonly List<string> _links = [], _bridges = [], _namespaces = [];
    private readonly List<Process> _background = [];

    public KernelFabric()
    {
        if (!string.Equals(Sh("id", "-u").Trim(), "0", StringComparison.Ordinal)) Assert.Fail("The kernel SNMP tests need root (bridges, namespaces).");
        Tools.Require("ip", "iproute2");
        Tools.Require("bridge", "iproute2");
        Tools.Require("python3", "python3");
    }

    public string Bridge(string name, string? querierIp = null)
    {
        var br = $"tb{name}{Tag}";
        Sh("ip", "link", "add", br, "type", "bridge", "mcast_snooping", "1", "mcast_querier", querierIp is null ? "0" : "1", "mcast_igmp_version", "3",
            "mcast_query_interval", "200", "mcast_query_response_interval", "100", "mcast_startup_query_interval", "100");
        _bridges.Add(br);
        if (querierIp is not null) Sh("ip", "addr", "add", querierIp + "/24", "dev", br);
        Sh("ip", "link", "set", br, "up");
        return br;
    }

    /// <summary>A veth between two bridges; returns the two port names.</summary>
    public (string A, string B) Link(string brA, string brB, string name)
    {
        string a = $"tl{name}a{Tag}", b = $"tl{name}b{Tag}";
        Sh("ip", "link", "add", a, "type", "veth", "peer", "name", b);
        _links.Add(a);
        Sh("ip", "link", "set", a, "master", brA);
        Sh("ip", "link", "set", b, "master", brB);
        Sh("ip", "link", "set", a, "up");
        Sh("ip", "link", "set", b, "up");
        return (a, b);
    }

    /// <summary>A host namespace on a bridge port; returns (namespace, bridge port name).</summary>
    public (string Ns, string Port) Host(string bridge, string name, string ip)
    {
        string ns = $"tn{name}{Tag}", port = $"tp{name}{Tag}", inner = $"ti{name}{Tag}";
        Sh("ip", "netns", "add", ns);
        _namespaces.Add(ns);
        Sh("ip", "link", "add", port, "type", "veth", "peer", "name", inner);
        _links.Add(port);
        Sh("ip", "link", "set", inner, "netns", ns);
        Sh("ip", "netns", "exec", ns, "ip", "link", "set", inner, "name", "eth0");
        Sh("ip", "netns", "exec", ns, "ip", "addr", "add", ip + "/24", "dev", "eth0");
        Sh("ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up");
        Sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
        Sh("ip", "link", "set", port, "master", bridge);
        Sh("ip", "link", "set", port, "up");
        return (ns, port);
    }

    /// <summary>Starts a python helper in a namespace; returns once it printed "ready".</summary>
    public Process Start(string ns, string script, params string[] args)
    {
        var psi = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in new[] { "netns", "exec", ns, "python3", "-u", "-c", script }.Concat(args)) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        _background.Add(p);
        var line = p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
        if (line != "ready") Assert.Fail($"helper in {ns} did not start: {line} {p.StandardError.ReadToEnd()}");
        return p;
    }

    /// <summary>Joins a group with a real socket (the kernel sends IGMPv3 reports and answers queries) until stdin closes.</summary>
    public const string JoinScript = """
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, struct.pack('4s4s', socket.inet_aton(sys.argv[1]), socket.inet_aton(sys.argv[2])))
print('ready', flush=True)
sys.stdin.read()
""";

    /// <summary>
    /// Captures (AF_PACKET, no group membership) UDP datagrams to a port and prints their count once it sees the sender's
    /// end marker (a broadcast datagram to port + 1, see <see cref="SendScript"/>), or when stdin closes, or after 30 s idle.
    /// </summary>
    public const string CaptureScript = """
import socket, sys, select
port = int(sys.argv[1])
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
s.bind(('eth0', 0))
print('ready', flush=True)
n = 0
while True:
    r, _, _ = select.select([s, sys.stdin], [], [], 30)
    if not r: break
    if sys.stdin in r:
        sys.stdin.read(); break
    f, addr = s.recvfrom(65535)
    if addr[2] == socket.PACKET_OUTGOING or f[9] != 17: continue
    ihl = (f[0] & 15) * 4
    dport = int.from_bytes(f[ihl+2:ihl+4], 'big')
    if dport == port: n += 1
    if dport == port + 1: break
print(n, flush=True)
""";

    /// <summary>
    /// Sends N datagrams to the group, then one end marker: a broadcast on the subnet (which every bridge floods to every
    /// port) to port + 1. The marker follows the datagrams along the same bridges, so a capture that saw it has seen every
    /// datagram that was going to reach it: no capture waits on the wall clock for stragglers.
    /// </summary>
    public const string SendScript = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(sys.argv[3]))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
print('ready', flush=True)
for i in range(int(sys.argv[4])): s.sendto(b'x' * 64, (sys.argv[1], int(sys.argv[2])))
s.sendto(b'end', (sys.argv[3].rsplit('.', 1)[0] + '.255', int(sys.argv[2]) + 1))
""";

    /// <summary>
    /// Runs the sender in <paramref name="ns"/> (its captures already printed "ready"), waits for its exit, then for each
    /// capture's count, which it prints on the sender's end marker.
    /// </summary>
    public Dictionary<string, int> Deliver(string ns, string senderIp, string group, int port, int datagrams, IReadOnlyDictionary<string, Process> captures)
    {
        var sender = Start(ns, SendScript, group, port.ToString(System.Globalization.CultureInfo.InvariantCulture), senderIp,
            datagrams.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (!sender.WaitForExit(10_000) || sender.ExitCode != 0) Assert.Fail($"sender in {ns} failed: {sender.StandardError.ReadToEnd()}");
        return captures.ToDictionary(c => c.Key, c => ReadCount(c.Value));
    }

    /// <summary>The count a capture helper printed on the end marker.</summary>
    private static int ReadCount(Process p)
    {
        var line = p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
        if (line is null) Assert.Fail("capture exited without a count: " + p.StandardError.ReadToEnd());
        return int.Parse(line.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static string Sh(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(20_000)) { p.Kill(true); throw new TimeoutException($"{file} {string.Join(' ', args)}"); }
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {e.Result}");
        return o.Result;
    }

    public void Dispose()
    {
        foreach (var p in _background)
        {
            try { if (!p.HasExited) { p.Kill(true); p.WaitForExit(5000); } } catch (InvalidOperationException) { }
            p.Dispose();
        }
        foreach (var l in _links) Try("ip", "link", "del", l);
        foreach (var b in _bridges) Try("ip", "link", "del", b);
        foreach (var n in _namespaces) Try("ip", "netns", "del", n);
    }

    private static void Try(string file, params string[] args)
    {
        try { Sh(file, args); } catch (InvalidOperationException) { } catch (TimeoutException) { }
    }
}
