using System.Diagnostics;
using System.Runtime.InteropServices;

namespace SubsetMulticast.Testing;

/// <summary>
/// External tools with a time bound, and code run inside a network namespace on a thread of its own. Every process
/// started here is owned by its caller and stopped by its handle or pid, never by name.
/// </summary>
public static partial class Shell
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

    /// <summary>Like <see cref="Check"/>, awaiting the process instead of blocking a thread on it.</summary>
    public static async Task<string> CheckAsync(string file, string args, IDictionary<string, string>? env = null, int timeoutMs = 30_000)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeoutMs);
        try { await p.WaitForExitAsync(cts.Token).ConfigureAwait(false); }
        catch (OperationCanceledException)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw new TimeoutException($"{file} {args} did not finish within {timeoutMs} ms");
        }
        if (p.ExitCode != 0) throw new InvalidOperationException($"`{file} {args}` exited {p.ExitCode}: {(await stderr.ConfigureAwait(false)).Trim()} {(await stdout.ConfigureAwait(false)).Trim()}");
        return await stdout.ConfigureAwait(false);
    }

    public static string Check(string file, string args, IDictionary<string, string>? env = null, int timeoutMs = 30_000)
    {
        var (code, output, err) = Run(file, args, env, timeoutMs);
        if (code != 0) throw new InvalidOperationException($"`{file} {args}` exited {code}: {err.Trim()} {output.Trim()}");
        return output;
    }

    /// <summary>Starts a long-running child; the caller owns it and stops it by this handle.</summary>
    public static Process Start(string file, string args, IDictionary<string, string>? env = null, bool stdin = false)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin, UseShellExecute = false };
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

    /// <summary>Stops a child of ours by its handle (and its children), and releases the handle.</summary>
    public static void Stop(Process p)
    {
        try { if (!p.HasExited) { p.Kill(entireProcessTree: true); p.WaitForExit(5000); } } catch (InvalidOperationException) { }
        p.Dispose();
    }

    /// <summary>Stops a daemon of ours by the pid it wrote (a daemon that detached is no child to hold a handle on).</summary>
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

    /// <summary>True while process <paramref name="pid"/> runs.</summary>
    public static bool Exists(int pid)
    {
        try { using var p = Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; }
    }

    public static string? Which(string tool)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]))
        {
            var path = Path.Combine(dir, tool);
            if (File.Exists(path)) return path;
        }
        return null;
    }

    /// <summary>Fails (never skips) when a tool is missing, naming the Debian package.</summary>
    public static string Require(string tool, string package) =>
        Which(tool) ?? throw new MissingPeerException($"`{tool}` is missing: install the Debian package `{package}` (./test.sh and tests/proof/run.sh install it as root).");

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
            int fd = open($"/var/run/netns/{ns}", 0);
            try
            {
                if (fd < 0) throw new InvalidOperationException($"open netns {ns}: errno {Marshal.GetLastPInvokeError()}");
                if (setns(fd, CloneNewNet) < 0) throw new InvalidOperationException($"setns {ns}: errno {Marshal.GetLastPInvokeError()}");
                result = body();
            }
            catch (Exception e) { error = e; }
            finally { if (fd >= 0) close(fd); }
        });
        thread.Start();
        thread.Join();
        if (error is not null) throw new InvalidOperationException($"in namespace {ns}: {error.Message}", error);
        return result;
    }

    private const int CloneNewNet = 0x40000000;
    [LibraryImport("libc", SetLastError = true)] private static partial int setns(int fd, int nstype);
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] private static partial int open(string path, int flags);
    [LibraryImport("libc", SetLastError = true)] private static partial int close(int fd);
}

/// <summary>A tool a test or harness talks to is not installed; the message names the Debian package.</summary>
public sealed class MissingPeerException(string message) : Exception(message);
