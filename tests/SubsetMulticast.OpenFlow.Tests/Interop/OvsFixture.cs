using System.Diagnostics;

namespace SubsetMulticast.OpenFlow.Tests.Interop;

/// <summary>
/// A private Open vSwitch (ovsdb-server + ovs-vswitchd, userspace datapath) in a temp directory, and
/// hosts in network namespaces wired to one bridge by veth pairs. Every name carries a per-test tag;
/// <see cref="DisposeAsync"/> removes everything this instance created and stops only its own daemons.
/// </summary>
internal sealed class OvsLab : IAsyncDisposable
{
    private readonly List<string> _namespaces = [];
    private readonly List<string> _links = [];
    private readonly List<string> _bridges = [];
    private readonly List<Process> _children = [];
    private readonly string _vsctl, _ofctl, _vswitchd;
    private int _ovsdbPid, _vswitchdPid;

    /// <param name="privateNetns">
    /// Run ovs-vswitchd in a network namespace of its own, with the switch ports in it and the controller reached over a
    /// veth pair (<see cref="ControllerAddress"/>): a userspace-datapath daemon creates the tap device "ovs-netdev" in its
    /// namespace, so one in the root namespace collides with any other running there (other test runs, other tools).
    /// </param>
    public OvsLab(bool privateNetns = false)
    {
        _vswitchd = Shell.Require("ovs-vswitchd", "openvswitch-switch");
        Shell.Require("ovsdb-server", "openvswitch-switch");
        _vsctl = Shell.Require("ovs-vsctl", "openvswitch-switch");
        _ofctl = Shell.Require("ovs-ofctl", "openvswitch-switch");
        Shell.Require("ip", "iproute2");
        Shell.Require("ethtool", "ethtool");
        Shell.Require("python3", "python3");
        Tag = "of" + Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next()))[..4].ToLowerInvariant();
        Dir = Directory.CreateTempSubdirectory("ovs-" + Tag).FullName;
        Env = new Dictionary<string, string> { ["OVS_RUNDIR"] = Dir, ["OVS_DBDIR"] = Dir, ["OVS_LOGDIR"] = Dir };
        if (!privateNetns) return;
        SwitchNs = Tag + "sw";
        Shell.Check("ip", $"netns add {SwitchNs}");
        _namespaces.Add(SwitchNs);
        Shell.Check("ip", $"-n {SwitchNs} link set lo up");
        // The control channel: root end 10.253.X.Y+1, switch end +2 (a /30 picked at random per lab).
        int net = Random.Shared.Next(1, 16_383) * 4;
        ControllerAddress = System.Net.IPAddress.Parse($"10.253.{net >> 8}.{(net & 0xFF) + 1}");
        string c0 = Tag + "c0", c1 = Tag + "c1";
        Shell.Check("ip", $"link add {c0} type veth peer name {c1}");
        _links.Add(c0);
        Shell.Check("ip", $"link set {c1} netns {SwitchNs}");
        Shell.Check("ip", $"addr add {ControllerAddress}/30 dev {c0}");
        Shell.Check("ip", $"-n {SwitchNs} addr add 10.253.{net >> 8}.{(net & 0xFF) + 2}/30 dev {c1}");
        Shell.Check("ip", $"link set {c0} up");
        Shell.Check("ip", $"-n {SwitchNs} link set {c1} up");
    }

    /// <summary>The namespace ovs-vswitchd runs in (null: the root namespace).</summary>
    public string? SwitchNs { get; }

    /// <summary>Where the switch reaches the controller: 127.0.0.1, or the root end of the control veth with a private namespace.</summary>
    public System.Net.IPAddress ControllerAddress { get; } = System.Net.IPAddress.Loopback;

    /// <summary>ovs-vswitchd's command line, run inside <see cref="SwitchNs"/> when there is one.</summary>
    private (string File, string Args) Daemon => SwitchNs is null
        ? (_vswitchd, $"{Db} --pidfile={Dir}/vswitchd.pid --detach --log-file={Dir}/vswitchd.log")
        : ("ip", $"netns exec {SwitchNs} {_vswitchd} {Db} --pidfile={Dir}/vswitchd.pid --detach --log-file={Dir}/vswitchd.log");

    public string Tag { get; }
    public string Dir { get; }
    public Dictionary<string, string> Env { get; }
    private string Db => $"unix:{Dir}/db.sock";

    public void StartDatabase()
    {
        Shell.Check("ovsdb-tool", $"create {Dir}/conf.db /usr/share/openvswitch/vswitch.ovsschema", Env);
        Shell.Check("ovsdb-server", $"--remote=punix:{Dir}/db.sock --pidfile={Dir}/ovsdb.pid --detach --log-file={Dir}/ovsdb.log {Dir}/conf.db", Env);
        _ovsdbPid = ReadPid("ovsdb.pid");
        Vsctl("--no-wait init");
    }

    public void StartSwitchDaemon()
    {
        File.Delete(Path.Combine(Dir, "vswitchd.pid"));
        Shell.Check(Daemon.File, Daemon.Args, Env);
        _vswitchdPid = ReadPid("vswitchd.pid");
    }

    /// <summary>Kills our ovs-vswitchd (by its pid) and waits until it is gone.</summary>
    public void KillSwitchDaemon()
    {
        int pid = _vswitchdPid;
        _vswitchdPid = 0;
        Shell.KillPid(pid);
        for (int i = 0; i < 100 && Exists(pid); i++) Thread.Sleep(50);
    }

    /// <summary>Kills our ovs-vswitchd by its pid, awaits its exit, and starts a new one on the same database.</summary>
    public async Task RestartSwitchDaemonAsync()
    {
        int pid = _vswitchdPid;
        _vswitchdPid = 0;
        Shell.KillPid(pid, waitMs: 0);
        for (int i = 0; i < 200 && Exists(pid); i++) await Task.Delay(50);
        File.Delete(Path.Combine(Dir, "vswitchd.pid"));
        await Shell.CheckAsync(Daemon.File, Daemon.Args, Env);
        var path = Path.Combine(Dir, "vswitchd.pid");
        for (int i = 0; i < 200 && !File.Exists(path); i++) await Task.Delay(50);
        _vswitchdPid = int.Parse((await File.ReadAllTextAsync(path)).Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public Task<string> OfctlAsync(string args) => Shell.CheckAsync(_ofctl, $"-O OpenFlow13 {args}", Env);

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

    private static bool Exists(int pid)
    {
        try { using var p = Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; }
    }

    private int ReadPid(string file)
    {
        var path = Path.Combine(Dir, file);
        for (int i = 0; i < 100 && !File.Exists(path); i++) Thread.Sleep(50);
        return int.Parse(File.ReadAllText(path).Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The last lines of one of the lab's daemon logs, for failure messages.</summary>
    public string LogTail(string file, int lines)
    {
        var path = Path.Combine(Dir, file);
        try { return $"{file}:\n" + string.Join('\n', File.ReadLines(path).TakeLast(lines)); }
        catch (IOException e) { return $"{file}: {e.Message}"; }
    }

    public string Vsctl(string args) => Shell.Check(_vsctl, $"--db={Db} --timeout=10 {args}", Env);
    public string Ofctl(string args) => Shell.Check(_ofctl, $"-O OpenFlow13 {args}", Env);

    public string AddBridge(string suffix, ulong dpid, int controllerPort)
    {
        string br = Tag + suffix;
        Vsctl($"add-br {br} -- set bridge {br} datapath_type=netdev protocols=OpenFlow13 fail_mode=secure other-config:datapath-id={dpid:x16}");
        _bridges.Add(br);
        Vsctl($"set-controller {br} tcp:{ControllerAddress}:{controllerPort}");
        return br;
    }

    /// <summary>A namespace host on OpenFlow port <paramref name="ofport"/>: 10.77.0.<paramref name="index"/>/24.</summary>
    public string AddHost(string bridge, int index, int ofport)
    {
        string ns = $"{Tag}h{index}", inner = $"{Tag}i{index}", outer = $"{Tag}s{index}";
        Shell.Check("ip", $"netns add {ns}");
        _namespaces.Add(ns);
        Shell.Check("ip", $"link add {outer} type veth peer name {inner}");
        _links.Add(outer);
        Shell.Check("ip", $"link set {inner} netns {ns}");
        Shell.Check("ip", $"-n {ns} addr add 10.77.0.{index}/24 dev {inner}");
        Shell.Check("ip", $"-n {ns} link set lo up");
        Shell.Check("ip", $"-n {ns} link set {inner} up");
        Shell.Check("ip", $"-n {ns} route add 224.0.0.0/4 dev {inner}");
        // With a private switch namespace the bridge's end of the veth lives there, beside ovs-vswitchd.
        if (SwitchNs is not null) Shell.Check("ip", $"link set {outer} netns {SwitchNs}");
        Shell.Check("ip", SwitchNs is null ? $"link set {outer} up" : $"-n {SwitchNs} link set {outer} up");
        // testbed.md: with the userspace datapath, TX checksum offload leaves UDP checksums unfilled.
        if (SwitchNs is null) Shell.Check("ethtool", $"-K {outer} tx off");
        else Shell.Check("ip", $"netns exec {SwitchNs} ethtool -K {outer} tx off");
        Shell.Check("ip", $"netns exec {ns} ethtool -K {inner} tx off");
        Vsctl($"add-port {bridge} {outer} -- set interface {outer} ofport_request={ofport}");
        return ns;
    }

    /// <summary>Wires two bridges with a veth pair on the given OpenFlow ports.</summary>
    public void Link(string bridgeA, int portA, string bridgeB, int portB, int index)
    {
        string a = $"{Tag}l{index}a", b = $"{Tag}l{index}b";
        Shell.Check("ip", $"link add {a} type veth peer name {b}");
        _links.Add(a);
        foreach (var x in new[] { a, b })
        {
            // With a private switch namespace both ends live there, beside the daemon that opens them.
            if (SwitchNs is not null) Shell.Check("ip", $"link set {x} netns {SwitchNs}");
            Shell.Check("ip", SwitchNs is null ? $"link set {x} up" : $"-n {SwitchNs} link set {x} up");
            if (SwitchNs is null) Shell.Check("ethtool", $"-K {x} tx off");
            else Shell.Check("ip", $"netns exec {SwitchNs} ethtool -K {x} tx off");
        }
        Vsctl($"add-port {bridgeA} {a} -- set interface {a} ofport_request={portA}");
        Vsctl($"add-port {bridgeB} {b} -- set interface {b} ofport_request={portB}");
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
        foreach (var p in _children)
        {
            try { if (!p.HasExited) { p.Kill(); p.WaitForExit(3000); } } catch (InvalidOperationException) { }
            p.Dispose();
        }
        foreach (var ns in _namespaces) Shell.Run("ip", $"netns del {ns}");
        if (_vswitchdPid != 0 && _ovsdbPid != 0)
            foreach (var br in _bridges)
                Shell.Run(_vsctl, $"--db={Db} --timeout=5 --if-exists del-br {br}", Env);
        foreach (var link in _links) Shell.Run("ip", $"link del {link}");
        if (_vswitchdPid != 0) Shell.KillPid(_vswitchdPid);
        if (_ovsdbPid != 0) Shell.KillPid(_ovsdbPid);
        await Task.Yield();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
