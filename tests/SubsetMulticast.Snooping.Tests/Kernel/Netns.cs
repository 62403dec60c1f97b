using System.Diagnostics;
using System.Text;

namespace SubsetMulticast.Snooping.Tests.Kernel;

/// <summary>
/// Runs commands for the kernel tests with a time bound on each; background processes are tracked by the
/// Process object we started and killed by its pid in <see cref="Dispose"/>. Namespaces registered here are deleted.
/// </summary>
internal sealed class Netns : IDisposable
{
    private readonly List<Process> _background = [];
    private readonly List<string> _namespaces = [];

    /// <summary>Fails (does not skip) when a tool is missing, naming its Debian package.</summary>
    public static void RequireTools()
    {
        if (Environment.UserName != "root" && !string.Equals(Run("id", ["-u"]).Trim(), "0", StringComparison.Ordinal))
            Assert.Fail("The kernel conformance test needs root (network namespaces, bridges, dumpcap).");
        foreach (var (tool, package) in new[] { ("ip", "iproute2"), ("bridge", "iproute2"), ("dumpcap", "tshark"), ("python3", "python3") })
        {
            if (!OnPath(tool)) Assert.Fail($"'{tool}' is not installed: install the Debian package '{package}' (test.sh does this when run as root).");
        }
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':')
            .Concat(["/usr/sbin", "/sbin", "/usr/bin"]).Any(d => File.Exists(Path.Combine(d, tool)));

    public void AddNamespace(string name)
    {
        Run("ip", ["netns", "add", name]);
        _namespaces.Add(name);
    }

    /// <summary>Runs a command to completion (≤ <paramref name="timeoutSeconds"/>); throws with its output on failure.</summary>
    public static string Run(string file, IReadOnlyList<string> args, int timeoutSeconds = 20, bool check = true)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeoutSeconds} s");
        }
        p.WaitForExit();
        if (check && p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {stderr.Result}{stdout.Result}");
        return stdout.Result;
    }

    public static string InNs(string ns, params string[] command) => Run("ip", ["netns", "exec", ns, .. command]);

    /// <summary>Like <see cref="Run"/>, but waits without holding a thread.</summary>
    public static async Task<string> RunAsync(string file, IReadOnlyList<string> args, int timeoutSeconds = 20, bool check = true)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeoutSeconds} s");
        }
        if (check && p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {await stderr}{await stdout}");
        return await stdout;
    }

    public static Task<string> InNsAsync(string ns, params string[] command) => RunAsync("ip", ["netns", "exec", ns, .. command]);

    /// <summary>SIGINT to one process we started, then wait (bounded, without holding a thread) for it to exit.</summary>
    public static async Task<bool> InterruptAsync(Process p, int timeoutSeconds = 10)
    {
        if (p.HasExited) return true;
        await RunAsync("kill", ["-INT", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], check: false);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try { await p.WaitForExitAsync(cts.Token); return true; }
        catch (OperationCanceledException) { return false; }
    }

    /// <summary>Starts a background command inside <paramref name="ns"/> (ip netns exec execs it: same pid).</summary>
    public Process Start(string ns, StringBuilder? stderr, params string[] command) => Start(ns, stderr, false, command);

    /// <summary>As <see cref="Start(string, StringBuilder?, string[])"/>; with <paramref name="stdin"/> the test writes the command's standard input.</summary>
    public Process Start(string ns, StringBuilder? stderr, bool stdin, params string[] command)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin, UseShellExecute = false };
        foreach (var a in new[] { "netns", "exec", ns }.Concat(command)) psi.ArgumentList.Add(a);
        var p = new Process { StartInfo = psi };
        if (stderr is not null) p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        p.OutputDataReceived += (_, _) => { };
        p.Start();
        _background.Add(p);
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        return p;
    }

    /// <summary>SIGINT to one process we started, then wait (bounded) for it to exit.</summary>
    public static bool Interrupt(Process p, int timeoutSeconds = 10)
    {
        if (p.HasExited) return true;
        Run("kill", ["-INT", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], check: false);
        return p.WaitForExit(timeoutSeconds * 1000);
    }

    public void Dispose()
    {
        foreach (var p in _background)
        {
            try { if (!p.HasExited) { p.Kill(); p.WaitForExit(5000); } } catch (InvalidOperationException) { }
            p.Dispose();
        }
        foreach (var ns in Enumerable.Reverse(_namespaces))
        {
            try { Run("ip", ["netns", "del", ns], check: false); } catch (TimeoutException) { }
        }
    }
}
