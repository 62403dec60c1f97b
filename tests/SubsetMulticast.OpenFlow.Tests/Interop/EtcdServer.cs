using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace SubsetMulticast.OpenFlow.Tests.Interop;

/// <summary>
/// A private etcd member (Debian's etcd-server) for one test class: its own data directory, free loopback ports,
/// stopped by its pid (SIGKILL) and its directory removed in every outcome. A missing etcd fails naming the package.
/// </summary>
public sealed partial class EtcdServer : IAsyncDisposable
{
    private Process _process;
    private readonly string _dir;
    private readonly string[] _arguments;
    private readonly System.Text.StringBuilder _log = new();

    private EtcdServer(Process process, string dir, string url, string[] arguments)
    {
        _process = process;
        _dir = dir;
        ClientUrl = url;
        _arguments = arguments;
    }

    /// <summary>http://127.0.0.1:PORT</summary>
    public string ClientUrl { get; }
    public int Pid => _process.Id;

    /// <param name="extra">More etcd flags, e.g. a shorter election timeout (which lowers the minimum lease TTL).</param>
    public static async Task<EtcdServer> StartAsync(params string[] extra)
    {
        string etcd = Which("etcd") ?? throw new Xunit.Sdk.XunitException("etcd is not installed: apt-get install etcd-server (test.sh installs it)");
        string dir = Directory.CreateTempSubdirectory("etcd-").FullName;
        for (int attempt = 0; ; attempt++)
        {
            int client = FreePort(), peer = FreePort();
            string url = $"http://127.0.0.1:{client}", peerUrl = $"http://127.0.0.1:{peer}";
            string[] arguments = ["--name", "t", "--data-dir", Path.Combine(dir, "data"), "--listen-client-urls", url, "--advertise-client-urls", url,
                "--listen-peer-urls", peerUrl, "--initial-advertise-peer-urls", peerUrl, "--initial-cluster", $"t={peerUrl}", "--log-level", "warn", .. extra];
            var log = new System.Text.StringBuilder();
            var p = Launch(etcd, arguments, log);
            var server = new EtcdServer(p, dir, url, arguments);
            if (await server.WaitHealthyAsync(TimeSpan.FromSeconds(20))) return server;
            Kill(p);
            p.Dispose();
            // A port taken between our probe and etcd's bind: try others.
            if (attempt >= 2)
            {
                try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
                string text;
                lock (log) text = log.ToString();
                throw new Xunit.Sdk.XunitException($"etcd did not become healthy: {text}");
            }
            try { Directory.Delete(Path.Combine(dir, "data"), recursive: true); } catch (IOException) { }
        }
    }

    private static Process Launch(string etcd, string[] arguments, System.Text.StringBuilder log)
    {
        var psi = new ProcessStartInfo(etcd) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start etcd");
        p.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    /// <summary>SIGSTOP to our etcd (by its pid): it holds its connections open and answers nothing, as a stalled or starved member does.</summary>
    public void Pause() => Signal(SigStop);

    /// <summary>SIGCONT: the paused etcd answers again (leases whose TTL ran out meanwhile are revoked at once).</summary>
    public void Resume() => Signal(SigCont);

    private void Signal(int signal)
    {
        if (SendSignal(_process.Id, signal) != 0) throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
    }

    /// <summary>SIGKILL to our etcd (by its pid), awaited; its data directory stays for <see cref="RestartAsync"/>.</summary>
    public void Kill() => Kill(_process);

    /// <summary>A new etcd on the same data directory and ports (the same member, so its keys and leases are back).</summary>
    public async Task RestartAsync()
    {
        Kill(_process);
        _process.Dispose();
        string etcd = Which("etcd")!;
        _process = Launch(etcd, _arguments, _log);
        if (!await WaitHealthyAsync(TimeSpan.FromSeconds(20)))
        {
            string text;
            lock (_log) text = _log.ToString();
            throw new Xunit.Sdk.XunitException($"the restarted etcd did not become healthy: {text}");
        }
    }

    private const int SigCont = 18, SigStop = 19; // Linux

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);

    /// <summary>Polls /health (bounded) until etcd answers {"health":"true"}.</summary>
    private async Task<bool> WaitHealthyAsync(TimeSpan limit)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        var deadline = DateTime.UtcNow + limit;
        for (int i = 0; i < 1000 && DateTime.UtcNow < deadline; i++)
        {
            if (_process.HasExited) return false;
            try
            {
                var body = await http.GetStringAsync($"{ClientUrl}/health");
                if (body.Contains("\"true\"", StringComparison.Ordinal)) return true;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            await Task.Delay(100);
        }
        return false;
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static string? Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':').Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);

    private static void Kill(Process p)
    {
        try { if (!p.HasExited) { p.Kill(); p.WaitForExit(5000); } } catch (InvalidOperationException) { }
    }

    public async ValueTask DisposeAsync()
    {
        Kill(_process);
        _process.Dispose();
        await Task.Yield();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
