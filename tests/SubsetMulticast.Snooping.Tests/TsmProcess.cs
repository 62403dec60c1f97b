using System.Diagnostics;

namespace SubsetMulticast.Snooping.Tests;

/// <summary>Runs the built <c>tsm</c> (the CLI assembly) as its own process, bounded in time.</summary>
internal static class TsmProcess
{
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var dll = typeof(SubsetMulticast.Cli.Program).Assembly.Location;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start dotnet");
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"tsm {string.Join(' ', args)} did not finish in 60 s");
        }
        return (p.ExitCode, await o, await e);
    }
}
