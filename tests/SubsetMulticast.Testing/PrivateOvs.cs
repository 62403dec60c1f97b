using System.Globalization;

namespace SubsetMulticast.Testing;

/// <summary>
/// A private Open vSwitch: ovsdb-server and ovs-vswitchd (for the userspace datapath) with their database, sockets,
/// pid files and logs in a temp directory of their own, so they never touch the system's. With
/// <paramref name="netns"/> set, ovs-vswitchd runs inside that network namespace: every userspace-datapath
/// ovs-vswitchd creates the same "ovs-netdev" tap device in its namespace, so daemons in private namespaces run side
/// by side (in parallel test classes and assemblies), where two in one namespace collide. <see cref="Dispose"/> stops
/// only the daemons this instance started (by their pids) and removes its directory.
/// </summary>
public sealed class PrivateOvs : IDisposable
{
    private readonly string _vsctl, _ofctl, _vswitchd;
    private int _ovsdbPid, _vswitchdPid;

    public PrivateOvs(string tag, string? netns = null)
    {
        _vswitchd = Shell.Require("ovs-vswitchd", "openvswitch-switch");
        Shell.Require("ovsdb-server", "openvswitch-switch");
        Shell.Require("ovsdb-tool", "openvswitch-switch");
        _vsctl = Shell.Require("ovs-vsctl", "openvswitch-switch");
        _ofctl = Shell.Require("ovs-ofctl", "openvswitch-switch");
        Netns = netns;
        Dir = Directory.CreateTempSubdirectory("ovs-" + tag).FullName;
        Env = new Dictionary<string, string> { ["OVS_RUNDIR"] = Dir, ["OVS_DBDIR"] = Dir, ["OVS_LOGDIR"] = Dir };
    }

    /// <summary>The namespace ovs-vswitchd runs in; null for the caller's.</summary>
    public string? Netns { get; }
    public string Dir { get; }
    public Dictionary<string, string> Env { get; }
    public string Db => $"unix:{Dir}/db.sock";
    public int SwitchDaemonPid => _vswitchdPid;

    /// <summary>Creates the database, starts ovsdb-server on it, then ovs-vswitchd.</summary>
    public void Start()
    {
        StartDatabase();
        StartSwitchDaemon();
    }

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
        Shell.Check(Netns is null ? _vswitchd : "ip", SwitchDaemonArgs(), Env);
        _vswitchdPid = ReadPid("vswitchd.pid");
    }

    /// <summary>Kills our ovs-vswitchd (by its pid) and waits until it is gone.</summary>
    public void KillSwitchDaemon()
    {
        int pid = _vswitchdPid;
        _vswitchdPid = 0;
        Shell.KillPid(pid);
    }

    /// <summary>Kills our ovs-vswitchd by its pid, awaits its exit, and starts a new one on the same database. Awaits, never blocks.</summary>
    public async Task RestartSwitchDaemonAsync()
    {
        int pid = _vswitchdPid;
        _vswitchdPid = 0;
        Shell.KillPid(pid, waitMs: 0);
        for (int i = 0; i < 200 && Shell.Exists(pid); i++) await Task.Delay(50).ConfigureAwait(false);
        File.Delete(Path.Combine(Dir, "vswitchd.pid"));
        await Shell.CheckAsync(Netns is null ? _vswitchd : "ip", SwitchDaemonArgs(), Env).ConfigureAwait(false);
        var path = Path.Combine(Dir, "vswitchd.pid");
        // --detach returns once the daemon runs; its pid file is written just before.
        for (int i = 0; i < 200 && !File.Exists(path); i++) await Task.Delay(50).ConfigureAwait(false);
        _vswitchdPid = int.Parse((await File.ReadAllTextAsync(path).ConfigureAwait(false)).Trim(), CultureInfo.InvariantCulture);
    }

    private string SwitchDaemonArgs() =>
        (Netns is null ? "" : $"netns exec {Netns} {_vswitchd} ") + $"{Db} --pidfile={Dir}/vswitchd.pid --detach --log-file={Dir}/vswitchd.log";

    public string Vsctl(string args, int timeoutSeconds = 20) => Shell.Check(_vsctl, $"--db={Db} --timeout={timeoutSeconds} {args}", Env);
    public string Ofctl(string args) => Shell.Check(_ofctl, $"-O OpenFlow13 {args}", Env);
    public Task<string> OfctlAsync(string args) => Shell.CheckAsync(_ofctl, $"-O OpenFlow13 {args}", Env);
    public (int Code, string Out, string Err) TryOfctl(string args) => Shell.Run(_ofctl, $"-O OpenFlow13 {args}", Env);

    /// <summary>ovs-appctl to our ovs-vswitchd's control socket.</summary>
    public string Appctl(string args) => Shell.Check("ovs-appctl", $"-t {Dir}/ovs-vswitchd.{_vswitchdPid}.ctl {args}", Env);

    /// <summary>Adds a userspace-datapath OpenFlow 1.3 bridge with the given datapath id and fail mode.</summary>
    public void AddBridge(string name, ulong dpid, string failMode = "secure") =>
        Vsctl($"add-br {name} -- set bridge {name} datapath_type=netdev protocols=OpenFlow13 fail_mode={failMode} other-config:datapath-id={dpid:x16}");

    /// <summary>The last lines of one of the daemons' logs, for failure messages.</summary>
    public string LogTail(string file = "vswitchd.log", int lines = 15)
    {
        try { return $"{file}:\n" + string.Join('\n', File.ReadLines(Path.Combine(Dir, file)).TakeLast(lines)); }
        catch (IOException e) { return $"{file}: {e.Message}"; }
    }

    private int ReadPid(string file)
    {
        // --detach returns after the daemon wrote its pid file; the loop covers a slow file system, bounded at 10 s.
        var path = Path.Combine(Dir, file);
        for (int i = 0; i < 200 && !File.Exists(path); i++) Thread.Sleep(50);
        return int.Parse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>Deletes the given bridges (while the daemons still run, so the datapath lets go of their ports).</summary>
    public void DeleteBridges(IEnumerable<string> bridges)
    {
        if (_vswitchdPid == 0 || _ovsdbPid == 0) return;
        foreach (var br in bridges) Shell.Run(_vsctl, $"--db={Db} --timeout=5 --if-exists del-br {br}", Env);
    }

    public void Dispose()
    {
        if (_vswitchdPid != 0) Shell.KillPid(_vswitchdPid);
        if (_ovsdbPid != 0) Shell.KillPid(_ovsdbPid);
        _vswitchdPid = _ovsdbPid = 0;
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
