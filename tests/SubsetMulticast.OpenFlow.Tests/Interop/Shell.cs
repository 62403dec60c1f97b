using System.Diagnostics;

namespace SubsetMulticast.OpenFlow.Tests.Interop;

/// <summary>Runs external tools with a time bound; every process started here is tracked by pid.</summary>
internal static class Shell
{
    public static (int Code, string Out, string Err) Run(string file, string args, IDictionary<string, string>? env = null, int timeoutMs = 20_000)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw new TimeoutException($"{file} {args} did not finish within {timeoutMs} ms");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Like <see cref="Check"/>, awaiting the process instead of blocking a thread on it.</summary>
    public static async Task<string> CheckAsync(string file, string args, IDictionary<string, string>? env = null, int timeoutMs = 20_000)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeoutMs);
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw new TimeoutException($"{file} {args} did not finish within {timeoutMs} ms");
        }
        if (p.ExitCode != 0) throw new InvalidOperationException($"`{file} {args}` exited {p.ExitCode}: {(await stderr).Trim()} {(await stdout).Trim()}");
        return await stdout;
    }

    public static string Check(string file, string args, IDictionary<string, string>? env = null, int timeoutMs = 20_000)
    {
        var (code, output, err) = Run(file, args, env, timeoutMs);
        if (code != 0) throw new InvalidOperationException($"`{file} {args}` exited {code}: {err.Trim()} {output.Trim()}");
        return output;
    }

    /// <summary>Starts a long-running process; the caller owns it and must kill it by this handle.</summary>
    public static Process Start(string file, string args, bool stdin = false)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin, UseShellExecute = false };
        return Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
    }

    public static string? Which(string tool)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/sbin", "/usr/bin"]))
        {
            var path = Path.Combine(dir, tool);
            if (File.Exists(path)) return path;
        }
        return null;
    }

    /// <summary>Fails the test (never skips) when a tool is missing, naming the Debian package.</summary>
    public static string Require(string tool, string package) =>
        Which(tool) ?? throw new Xunit.Sdk.XunitException($"`{tool}` is missing: install the Debian package `{package}` (./test.sh installs it as root).");

    public static void KillPid(int pid, int waitMs = 5000)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            p.Kill();
            p.WaitForExit(waitMs);
        }
        catch (ArgumentException) { } // already gone
        catch (InvalidOperationException) { }
    }
}
