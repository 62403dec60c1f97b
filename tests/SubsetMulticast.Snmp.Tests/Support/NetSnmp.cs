using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace SubsetMulticast.Snmp.Tests.Support;

/// <summary>
/// Real net-snmp peers: a private <c>snmpd</c> per test (own config, port, persistent directory, killed by pid) and
/// the command-line tools with their persistent directory pointed at the same private directory.
/// </summary>
internal sealed class Snmpd : IDisposable
{
    private readonly Process _process;
    public string Dir { get; }
    public int Port { get; }
    public int AgentXPort { get; }
    public IPEndPoint Endpoint => new(IPAddress.Loopback, Port);

    public const string EngineIdHex = "000000000000000000000002";

    /// <summary>The users every private snmpd has: (name, auth, auth password, priv, priv password), net-snmp's names.</summary>
    public static readonly (string User, string Auth, string AuthPass, string Priv, string PrivPass)[] Users =
    [
        ("usha", "SHA", "authpass1", "AES", "privpass1"),
        ("umd5", "MD5", "authpassm", "DES", "privpassm"),
        ("u256", "SHA-256", "authpass256", "AES", "privpass256"),
        ("u512", "SHA-512", "authpass512", "AES-256", "privpass512"),
        ("ushac", "SHA", "authpass1c", "AES-256-C", "privpass1c"),
        ("ushab", "SHA", "authpass1b", "AES-256", "privpass1b"),
        ("u224", "SHA-224", "authpass224", "AES-192", "privpass224"),
        ("u384", "SHA-384", "authpass384", "AES-256-C", "privpass384"),
    ];

    /// <summary>A user with authentication only (no privacy key): asking it for authPriv draws usmStatsUnsupportedSecLevels.</summary>
    public const string AuthOnlyUser = "uauth", AuthOnlyPass = "authpassonly";

    public Snmpd(string extraConfig = "", bool agentX = false)
    {
        Tools.Require("snmpd", "snmpd");
        Dir = Directory.CreateTempSubdirectory("tsm-snmpd-").FullName;
        Port = FreeUdpPort();
        AgentXPort = agentX ? FreeTcpPort() : 0;
        var conf = new List<string>
        {
            $"agentAddress udp:127.0.0.1:{Port}",
            "rocommunity public 127.0.0.1",
            "rwcommunity private 127.0.0.1",
            $"exactEngineID 0x{EngineIdHex}",
            "sysName tsm-test",
            "sysContact ops@example.net",
        };
        foreach (var u in Users)
        {
            conf.Add($"createUser {u.User} {u.Auth} \"{u.AuthPass}\" {u.Priv} \"{u.PrivPass}\"");
            conf.Add($"rwuser {u.User} priv");
        }
        conf.Add($"createUser {AuthOnlyUser} SHA \"{AuthOnlyPass}\"");
        conf.Add($"rwuser {AuthOnlyUser} auth");
        if (agentX) { conf.Add("master agentx"); conf.Add($"agentXSocket tcp:127.0.0.1:{AgentXPort}"); }
        conf.Add(extraConfig);
        File.WriteAllLines(Path.Combine(Dir, "snmpd.conf"), conf);
        var psi = new ProcessStartInfo("snmpd") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-f", "-Lf", Path.Combine(Dir, "snmpd.log"), "-C", "-c", Path.Combine(Dir, "snmpd.conf"), "-p", Path.Combine(Dir, "snmpd.pid") })
            psi.ArgumentList.Add(a);
        psi.Environment["SNMP_PERSISTENT_DIR"] = Dir;
        _process = Process.Start(psi)!;
        // Ready when it answers: poll snmpget (bounded: 50 × ≤ 200 ms).
        for (int i = 0; i < 50; i++)
        {
            var (code, _, _) = Tools.Run(Dir, "snmpget", ["-v2c", "-c", "public", "-t", "0.2", "-r", "0", $"127.0.0.1:{Port}", "1.3.6.1.2.1.1.5.0"]);
            if (code == 0) return;
            if (_process.HasExited) break;
        }
        Dispose();
        throw new InvalidOperationException("snmpd did not start: " + File.ReadAllText(Path.Combine(Dir, "snmpd.log")));
    }

    /// <summary>Runs a net-snmp tool against this agent; returns (exit code, stdout, stderr).</summary>
    public (int Code, string Out, string Err) Tool(string tool, params string[] args) => Tools.Run(Dir, tool, args);

    public static int FreeUdpPort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    public static int FreeTcpPort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) { _process.Kill(); _process.WaitForExit(5000); } } catch (InvalidOperationException) { }
        _process.Dispose();
        try { Directory.Delete(Dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

internal static class Tools
{
    public static void Require(string tool, string package)
    {
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/usr/bin", "/sbin"]);
        if (!dirs.Any(d => File.Exists(Path.Combine(d, tool))))
            Assert.Fail($"'{tool}' is not installed: install the Debian package '{package}' (test.sh does this when run as root).");
    }

    /// <summary>Runs a tool with SNMP_PERSISTENT_DIR set to <paramref name="dir"/>, bounded to 30 s.</summary>
    public static (int Code, string Out, string Err) Run(string dir, string tool, IReadOnlyList<string> args, int timeoutSeconds = 30)
    {
        Require(tool, tool.StartsWith("snmp", StringComparison.Ordinal) && tool != "snmpd" ? "snmp" : tool);
        var psi = new ProcessStartInfo(tool) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["SNMP_PERSISTENT_DIR"] = dir;
        psi.Environment["MIBS"] = "";
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000)) { p.Kill(true); throw new TimeoutException($"{tool} {string.Join(' ', args)} did not finish"); }
        p.WaitForExit();
        return (p.ExitCode, o.Result, e.Result);
    }
}
