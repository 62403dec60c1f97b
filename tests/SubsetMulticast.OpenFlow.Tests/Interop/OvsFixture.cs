using System.Diagnostics;
using System.Net;

namespace SubsetMulticast.OpenFlow.Tests.Interop;

/// <summary>
/// A private Open vSwitch (ovsdb-server + ovs-vswitchd, userspace datapath) in a switch namespace of its own
/// (<see cref="OvsNamespace"/>), hosts in network namespaces wired to its bridges by veth pairs, and the bridges'
/// controller reached over a management veth at <see cref="ControllerAddress"/> in the root namespace. Its own
/// namespace gives the daemon its own "ovs-netdev" device, so labs run in parallel. Every name carries a per-test tag;
/// <see cref="DisposeAsync"/> removes everything this instance created and stops only its own daemons.
/// </summary>
internal sealed class OvsLab : IAsyncDisposable
{
    private readonly OvsNamespace _net;
    private readonly List<Process> _children = [];

    public OvsLab()
    {
        Shell.Require("python3", "python3");
        _net = new OvsNamespace("of");
        try { _net.ManagementLink("c", null); }
        catch
        {
            _net.Dispose();
            throw;
        }
    }

    public string Tag => _net.Tag;
    public string Dir => _net.Dir;
    public Dictionary<string, string> Env => _net.Ovs.Env;

    /// <summary>The root-namespace address the bridges connect to: bind the controller here (port 0 is fine).</summary>
    public IPAddress ControllerAddress => _net.ControllerAddress;

    public void StartDatabase() => _net.Ovs.StartDatabase();
    public void StartSwitchDaemon() => _net.Ovs.StartSwitchDaemon();

    /// <summary>Kills our ovs-vswitchd (by its pid) and waits until it is gone.</summary>
    public void KillSwitchDaemon() => _net.Ovs.KillSwitchDaemon();

    /// <summary>Kills our ovs-vswitchd by its pid, awaits its exit, and starts a new one on the same database.</summary>
    public Task RestartSwitchDaemonAsync() => _net.Ovs.RestartSwitchDaemonAsync();

    public Task<string> OfctlAsync(string args) => _net.Ovs.OfctlAsync(args);

    /// <summary>Runs a command inside a host's namespace.</summary>
    public Task<string> InHostAsync(string ns, string command) => Shell.CheckAsync("ip", $"netns exec {ns} {command}");

    /// <summary>
    /// Sends datagrams from host <paramref name="sender"/> to the group while every host in
    /// <paramref name="listeners"/> listens (captures, without joining it); returns the hosts that received one. Awaits, never blocks.
    /// The receivers listen until told to stop — from before the first datagram until <see cref="DeliveryGrace"/>
    /// after the last — so a slow start of one receiver cannot end another's window early.
    /// </summary>
    public async Task<List<int>> DeliverAsync(IReadOnlyDictionary<int, string> hostNs, int sender, IEnumerable<int> listeners, string group, int port, string tag)
    {
        var receivers = listeners.ToDictionary(i => i, i => StartReceiver(hostNs[i], i, group, port));
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            foreach (var (i, p) in receivers)
            {
                var line = await p.StandardOutput.ReadLineAsync(cts.Token);
                if (line != "ready") throw new Xunit.Sdk.XunitException($"receiver {i} did not become ready: {await p.StandardError.ReadToEndAsync(cts.Token)}");
            }
            await SendAsync(hostNs[sender], sender, group, port, $"dgram-{tag}");
            await Task.Delay(DeliveryGrace, cts.Token);
            var got = new List<int>();
            foreach (var (i, p) in receivers)
            {
                await p.StandardInput.WriteLineAsync("stop");
                p.StandardInput.Close();
                await p.WaitForExitAsync(cts.Token);
                if ((await p.StandardOutput.ReadToEndAsync(cts.Token)).Contains($"got dgram-{tag} 10.77.0.{sender}", StringComparison.Ordinal)) got.Add(i);
            }
            return got;
        }
        finally
        {
            foreach (var p in receivers.Values) if (!p.HasExited) p.Kill();
        }
    }

    /// <summary>How long receivers keep listening after the sender is done: forwarding takes microseconds; this is for a loaded machine.</summary>
    public static readonly TimeSpan DeliveryGrace = TimeSpan.FromSeconds(2);

    private async Task SendAsync(string ns, int index, string group, int port, string payload, int count = 3)
    {
        string script = SendScript(index, group, port, payload, count);
        var path = Path.Combine(Dir, $"send{index}.py");
        await File.WriteAllTextAsync(path, script);
        await Shell.CheckAsync("ip", $"netns exec {ns} python3 {path}");
    }

    /// <summary>The last lines of one of the lab's daemon logs, for failure messages.</summary>
    public string LogTail(string file, int lines) => _net.Ovs.LogTail(file, lines);

    public string Vsctl(string args) => _net.Ovs.Vsctl(args);
    public string Ofctl(string args) => _net.Ovs.Ofctl(args);

    public string AddBridge(string suffix, ulong dpid, int controllerPort, string scheme = "tcp") => _net.AddBridge(suffix, dpid, $"{scheme}:{ControllerAddress}:{controllerPort}");

    /// <summary>A namespace host on OpenFlow port <paramref name="ofport"/>: 10.77.0.<paramref name="index"/>/24.</summary>
    public string AddHost(string bridge, int index, int ofport) => _net.AddHost(bridge, index, ofport);

    /// <summary>Wires two bridges with a veth pair on the given OpenFlow ports.</summary>
    public void Link(string bridgeA, int portA, string bridgeB, int portB, int index) => _net.Link(bridgeA, portA, bridgeB, portB, index);

    /// <summary>
    /// Host <paramref name="ns"/> (address 10.77.0.1) sends "stream" to <paramref name="group"/>:<paramref name="port"/>,
    /// 50 datagrams a second, until killed (90 s at most): a live group's traffic while the controller is disturbed.
    /// </summary>
    public Process StartStream(string ns, string group, int port)
    {
        var path = Path.Combine(Dir, $"stream-{group}-{port}.py");
        File.WriteAllText(path, $"""
            import socket,time
            s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
            s.setsockopt(socket.IPPROTO_IP,socket.IP_MULTICAST_IF,socket.inet_aton('10.77.0.1'))
            s.setsockopt(socket.IPPROTO_IP,socket.IP_MULTICAST_TTL,1)
            end=time.time()+90
            while time.time()<end:
                s.sendto(b'stream',('{group}',{port})); time.sleep(0.02)
            """);
        return Shell.Start("ip", $"netns exec {ns} python3 {path}");
    }

    /// <summary>
    /// Starts a receiver in <paramref name="ns"/> that captures the group's datagrams on its veth with an AF_PACKET
    /// socket — it never joins the group (no IP_ADD_MEMBERSHIP, no IGMP report): a rendezvous group is installed by
    /// the controller from the reference group, and its receivers only listen (transfer.md §6). Prints "ready", then
    /// every datagram to the group and port until a line (or end of file) on its standard input; 60 s at most.
    /// </summary>
    public Process StartReceiver(string ns, int index, string group, int port)
    {
        string script = $"""
            import socket,select,struct,sys,time
            s=socket.socket(socket.AF_PACKET,socket.SOCK_DGRAM,socket.htons(0x0800))
            s.bind(('{Tag}i{index}',0x0800))
            grp=socket.inet_aton('{group}')
            print('ready',flush=True)
            end=time.time()+60
            while time.time()<end:
                r,_,_=select.select([s,sys.stdin],[],[],max(0.05,end-time.time()))
                if s in r:
                    d,a=s.recvfrom(65535)
                    if a[2]==socket.PACKET_OUTGOING or len(d)<28 or d[9]!=17 or d[16:20]!=grp: continue
                    ihl=(d[0]&15)*4
                    if struct.unpack('!H',d[ihl+2:ihl+4])[0]!={port}: continue
                    print('got',d[ihl+8:].decode(errors='replace'),socket.inet_ntoa(d[12:16]),flush=True)
                if sys.stdin in r:
                    break
            """;
        var path = Path.Combine(Dir, $"recv{index}.py");
        File.WriteAllText(path, script);
        var p = Shell.Start("ip", $"netns exec {ns} python3 {path}", stdin: true);
        _children.Add(p);
        return p;
    }

    /// <summary>A python sender: <paramref name="count"/> datagrams from host <paramref name="index"/>'s address, TTL 1.</summary>
    private static string SendScript(int index, string group, int port, string payload, int count) => $"""
        import socket,time
        s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IP,socket.IP_MULTICAST_IF,socket.inet_aton('10.77.0.{index}'))
        s.setsockopt(socket.IPPROTO_IP,socket.IP_MULTICAST_TTL,1)
        for i in range({count}):
            s.sendto(b'{payload}',('{group}',{port})); time.sleep(0.1)
        """;

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _children) Shell.Stop(p);
        _net.Dispose();
        await Task.Yield();
    }
}
