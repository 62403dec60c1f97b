using System.Diagnostics;

namespace SubsetMulticast.Proof;

/// <summary>External tools with a time bound, and code run inside a network namespace on a thread of its own.</summary>
internal static class Shell
{
    public static (int Code, string Out, string Err) Run(string file, string args, IDictionary<string, string>? env = null, int timeoutMs = 30_000)
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

    public static string Check(string file, string args, IDictionary<string, string>? env = null, int timeoutMs = 30_000)
    {
        var (code, output, err) = Run(file, args, env, timeoutMs);
        if (code != 0) throw new InvalidOperationException($"`{file} {args}` exited {code}: {err.Trim()} {output.Trim()}");
        return output;
    }

    /// <summary>Fails (never skips) when a tool is missing, naming the Debian package.</summary>
    public static string Require(string tool, string package)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]))
        {
            var path = Path.Combine(dir, tool);
            if (File.Exists(path)) return path;
        }
        throw new InvalidOperationException($"`{tool}` is missing: install the Debian package `{package}` (tests/proof/run.sh installs it as root).");
    }

    /// <summary>
    /// Runs <paramref name="body"/> on a new thread that has entered network namespace <paramref name="ns"/>;
    /// sockets it creates belong to that namespace for good, whichever thread uses them later.
    /// </summary>
    public static T InNamespace<T>(string ns, Func<T> body)
    {
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            int fd = Native.open($"/var/run/netns/{ns}", Native.ORdOnly);
            try
            {
                Native.Check(fd, $"open netns {ns}");
                Native.Check(Native.setns(fd, Native.CloneNewNet), $"setns {ns}");
                result = body();
            }
            catch (Exception e) { error = e; }
            finally { if (fd >= 0) Native.close(fd); }
        });
        thread.Start();
        thread.Join();
        if (error is not null) throw new InvalidOperationException($"in namespace {ns}: {error.Message}", error);
        return result;
    }

    /// <summary>Starts a long-running child; the caller owns it and stops it by this handle.</summary>
    public static Process Start(string file, string args, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        return Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
    }

    /// <summary>
    /// Starts a long-running child whose output nobody reads: drained and dropped, so it never blocks on a full pipe
    /// (a uftpd writing to an unread pipe stops in pipe_write and takes no part in later sessions).
    /// </summary>
    public static Process StartDrained(string file, string args)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        if (!p.Start()) throw new InvalidOperationException($"could not start {file}");
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    public static void Stop(Process p)
    {
        try { if (!p.HasExited) { p.Kill(entireProcessTree: true); p.WaitForExit(5000); } } catch (InvalidOperationException) { }
        p.Dispose();
    }
}
