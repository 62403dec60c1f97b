using System.Diagnostics;
using System.Globalization;
using SubsetMulticast.OpenFlow.Tests.Interop;

namespace SubsetMulticast.Transfer.Tests.Kernel;

/// <summary>
/// Open vSwitch (userspace datapath) and the real controller, both inside a private "switch" network namespace,
/// hosts in namespaces of their own wired to it by veths. The switch namespace gives this lab its own
/// "ovs-netdev" device, so it runs beside any other ovs-vswitchd on the machine. The controller's REST API is
/// reached over a management veth (root ↔ switch namespace, and client host ↔ switch namespace). Every name
/// carries a per-test tag; <see cref="DisposeAsync"/> stops only our daemons (by pid) and removes our namespaces.
/// </summary>
internal sealed class NamespacedOvsLab : IAsyncDisposable
{
    private readonly List<string> _namespaces = [];
    private readonly List<Process> _children = [];
    private int _net = Random.Shared.Next(1, 8000) * 8;

    public NamespacedOvsLab()
    {
        Shell.Require("ovs-vswitchd", "openvswitch-switch");
        Shell.Require("ip", "iproute2");
        Shell.Require("ethtool", "ethtool");
        Tag = "tr" + Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next()))[..4].ToLowerInvariant();
        Dir = Directory.CreateTempSubdirectory("ovs-" + Tag).FullName;
        Env = new Dictionary<string, string> { ["OVS_RUNDIR"] = Dir, ["OVS_DBDIR"] = Dir, ["OVS_LOGDIR"] = Dir };
        SwitchNs = Tag + "sw";
    }

    public string Tag { get; }
    public string Dir { get; }
    public Dictionary<string, string> Env { get; }
    public string SwitchNs { get; }
    public Uri Api { get; private set; } = null!;
    public int OpenFlowPort { get; private set; }

    /// <summary>The bearer token of the lab's one API client (admin); <see cref="TokenSource"/> is what <c>tsm put --controller-token</c> takes.</summary>
    public string Token { get; private set; } = "";
    public string TokenSource => $"file:{Dir}/token";

    private string Db => $"unix:{Dir}/db.sock";

    public string Vsctl(string args) => Shell.Check("ovs-vsctl", $"--db={Db} --timeout=10 {args}", Env);

    /// <summary>The switch namespace, ovsdb-server and ovs-vswitchd (inside it), and <c>tsm serve --openflow</c> (inside it).</summary>
    public async Task StartAsync(string tsmDll)
    {
        AddNamespace(SwitchNs);
        Shell.Check("ip", $"-n {SwitchNs} link set lo up");
        Shell.Check("ovsdb-tool", $"create {Dir}/conf.db /usr/share/openvswitch/vswitch.ovsschema", Env);
        Shell.Check("ovsdb-server", $"--remote=punix:{Dir}/db.sock --pidfile={Dir}/ovsdb.pid --detach --log-file={Dir}/ovsdb.log {Dir}/conf.db", Env);
        Vsctl("--no-wait init");
        Shell.Check("ip", $"netns exec {SwitchNs} ovs-vswitchd {Db} --pidfile={Dir}/vswitchd.pid --detach --log-file={Dir}/vswitchd.log", Env);
        // The API listens beyond loopback, so it requires a client: one admin token, kept in the lab's directory.
        Token = "tsm_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        File.WriteAllText(Path.Combine(Dir, "clients"), $"client lab scopes=admin token-sha256={Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Token)))}\n");
        File.WriteAllText(Path.Combine(Dir, "token"), Token);
        var p = Start("ip", $"netns exec {SwitchNs} dotnet {tsmDll} serve --openflow 127.0.0.1:0 --api http://0.0.0.0:0 --api-clients file:{Dir}/clients --quiet --lldp-interval 1");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        string? api = null, of = null;
        for (int i = 0; i < 20 && (api is null || of is null); i++)
        {
            var line = (await p.StandardOutput.ReadLineAsync(cts.Token) ?? throw new Xunit.Sdk.XunitException($"tsm serve exited: {await p.StandardError.ReadToEndAsync(cts.Token)}")).Trim();
            if (line.StartsWith("api ", StringComparison.Ordinal)) api = line[3..].Trim().Replace("api/v1/groups", "", StringComparison.Ordinal);
            if (line.StartsWith("openflow ", StringComparison.Ordinal)) of = line[8..].Trim();
        }
        if (api is null || of is null) throw new Xunit.Sdk.XunitException("tsm serve printed no api/openflow address");
        _ = p.StandardOutput.ReadToEndAsync();
        _ = p.StandardError.ReadToEndAsync();
        OpenFlowPort = int.Parse(of[(of.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
        int apiPort = new Uri(api).Port;
        // Root ↔ switch namespace, for the test's own REST calls.
        var (root, inSwitch) = ManagementLink("m0", null);
        Api = new Uri($"http://{inSwitch}:{apiPort}/");
        _ = root;
    }

    /// <summary>A /30 between <paramref name="ns"/> (null = root) and the switch namespace; returns (ns side, switch side) addresses.</summary>
    public (string Near, string Switch) ManagementLink(string suffix, string? ns)
    {
        int net = Interlocked.Add(ref _net, 4);
        string a = $"10.78.{net >> 8 & 0xFF}.{(net & 0xFF) + 1}", b = $"10.78.{net >> 8 & 0xFF}.{(net & 0xFF) + 2}";
        string near = Tag + suffix + "n", far = Tag + suffix + "f";
        Shell.Check("ip", $"link add {near} {(ns is null ? "" : $"netns {ns}")} type veth peer name {far} netns {SwitchNs}");
        Shell.Check("ip", $"{(ns is null ? "" : $"-n {ns}")} addr add {a}/30 dev {near}");
        Shell.Check("ip", $"{(ns is null ? "" : $"-n {ns}")} link set {near} up");
        Shell.Check("ip", $"-n {SwitchNs} addr add {b}/30 dev {far}");
        Shell.Check("ip", $"-n {SwitchNs} link set {far} up");
        if (ns is null) _rootLinks.Add(near);
        return (a, b);
    }

    private readonly List<string> _rootLinks = [];

    public string AddBridge(string suffix, ulong dpid)
    {
        string br = Tag + suffix;
        Vsctl($"add-br {br} -- set bridge {br} datapath_type=netdev protocols=OpenFlow13 fail_mode=secure other-config:datapath-id={dpid:x16}");
        Vsctl($"set-controller {br} tcp:127.0.0.1:{OpenFlowPort}");
        return br;
    }

    public string HostIface(int index) => $"{Tag}i{index}";
    public string SwitchSide(int index) => $"{Tag}s{index}";

    /// <summary>Host <paramref name="index"/>: namespace, 10.77.0.index/24, on OpenFlow port <paramref name="ofport"/> of <paramref name="bridge"/>.</summary>
    public string AddHost(string bridge, int index, int ofport)
    {
        string ns = $"{Tag}h{index}", inner = HostIface(index), outer = SwitchSide(index);
        AddNamespace(ns);
        Shell.Check("ip", $"link add {outer} netns {SwitchNs} type veth peer name {inner} netns {ns}");
        Shell.Check("ip", $"-n {ns} addr add 10.77.0.{index}/24 dev {inner}");
        Shell.Check("ip", $"-n {ns} link set lo up");
        Shell.Check("ip", $"-n {ns} link set {inner} up");
        Shell.Check("ip", $"-n {ns} route add 224.0.0.0/4 dev {inner}");
        Shell.Check("ip", $"-n {SwitchNs} link set {outer} up");
        // testbed.md: with the userspace datapath, TX checksum offload leaves UDP checksums unfilled.
        Shell.Check("ip", $"netns exec {SwitchNs} ethtool -K {outer} tx off");
        Shell.Check("ip", $"netns exec {ns} ethtool -K {inner} tx off");
        Vsctl($"add-port {bridge} {outer} -- set interface {outer} ofport_request={ofport}");
        return ns;
    }

    public void Link(string bridgeA, int portA, string bridgeB, int portB, int index)
    {
        string a = $"{Tag}l{index}a", b = $"{Tag}l{index}b";
        Shell.Check("ip", $"link add {a} netns {SwitchNs} type veth peer name {b} netns {SwitchNs}");
        foreach (var x in new[] { a, b })
        {
            Shell.Check("ip", $"-n {SwitchNs} link set {x} up");
            Shell.Check("ip", $"netns exec {SwitchNs} ethtool -K {x} tx off");
        }
        Vsctl($"add-port {bridgeA} {a} -- set interface {a} ofport_request={portA}");
        Vsctl($"add-port {bridgeB} {b} -- set interface {b} ofport_request={portB}");
    }

    public (int Code, string Out, string Err) Ofctl(string args) => Shell.Run("ovs-ofctl", $"-O OpenFlow13 {args}", Env);

    public Process Start(string file, string args)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        _children.Add(p);
        return p;
    }

    private void AddNamespace(string ns)
    {
        Shell.Check("ip", $"netns add {ns}");
        _namespaces.Add(ns);
    }

    public string LogTail(string file, int lines)
    {
        try { return $"{file}:\n" + string.Join('\n', File.ReadLines(Path.Combine(Dir, file)).TakeLast(lines)); }
        catch (IOException e) { return $"{file}: {e.Message}"; }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _children)
        {
            try { if (!p.HasExited) { p.Kill(entireProcessTree: true); p.WaitForExit(5000); } } catch (InvalidOperationException) { }
            p.Dispose();
        }
        foreach (var pidFile in new[] { "vswitchd.pid", "ovsdb.pid" })
        {
            var path = Path.Combine(Dir, pidFile);
            if (File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture, out int pid)) Shell.KillPid(pid);
        }
        foreach (var link in _rootLinks) Shell.Run("ip", $"link del {link}");
        foreach (var ns in _namespaces) Shell.Run("ip", $"netns del {ns}");
        await Task.Yield();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
