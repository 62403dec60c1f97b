using System.Diagnostics;
using System.Net;

namespace SubsetMulticast.OpenFlow.Tests.Interop;

/// <summary>
/// The real controller: <c>tsm serve --openflow</c> as a child process (our own, stopped by its handle). It
/// prints the address its REST API and its OpenFlow listener are bound to; both are read from its output.
/// </summary>
internal sealed class TsmServe : IAsyncDisposable
{
    private readonly Process _process;

    private TsmServe(Process process, Uri api, IPEndPoint openFlow)
    {
        _process = process;
        Api = api;
        OpenFlow = openFlow;
    }

    public Uri Api { get; }
    public IPEndPoint OpenFlow { get; }
    public bool HasExited => _process.HasExited;

    /// <summary>Every line the controller printed after its addresses (kept only when started with <see cref="StartLoggingAsync"/>).</summary>
    public IReadOnlyList<string> Lines { get { lock (_lines) return [.. _lines]; } }
    private readonly List<string> _lines = [];

    /// <summary>As <see cref="StartAsync(IPAddress, string[])"/>, without --quiet: its log lines are kept in <see cref="Lines"/>.</summary>
    public static Task<TsmServe> StartLoggingAsync(IPAddress openFlowAddress, params string[] extra) => StartAsync(openFlowAddress, keepLines: true, extra);

    public static Task<TsmServe> StartAsync(params string[] extra) => StartAsync(IPAddress.Loopback, extra);

    /// <summary>Starts <c>tsm serve</c> with its OpenFlow listener on <paramref name="openFlowAddress"/> (port 0).</summary>
    public static Task<TsmServe> StartAsync(IPAddress openFlowAddress, params string[] extra) => StartAsync(openFlowAddress, keepLines: false, extra);

    private static async Task<TsmServe> StartAsync(IPAddress openFlowAddress, bool keepLines, string[] extra)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(typeof(SubsetMulticast.Cli.Program).Assembly.Location);
        // TSM_TEST_LOGS=DIR keeps each controller's log lines in DIR (a failing interop test's story) instead of --quiet.
        string? logs = Environment.GetEnvironmentVariable("TSM_TEST_LOGS");
        bool quiet = logs is null && !keepLines;
        // An --openflow in extra (e.g. a lab's own control address) replaces the default.
        string[] listen = extra.Contains("--openflow") ? [] : ["--openflow", $"{openFlowAddress}:0"];
        foreach (var a in (string[])["serve", .. listen, "--api", "http://127.0.0.1:0", .. quiet ? ["--quiet"] : Array.Empty<string>(), .. extra]) psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start tsm");
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string? api = null, of = null;
            for (int i = 0; i < 20 && (api is null || of is null); i++)
            {
                var line = await p.StandardOutput.ReadLineAsync(cts.Token)
                    ?? throw new Xunit.Sdk.XunitException($"tsm serve exited: {await p.StandardError.ReadToEndAsync(cts.Token)}");
                var t = line.Trim();
                if (t.StartsWith("api ", StringComparison.Ordinal)) api = t[3..].Trim().Replace("api/v1/groups", "", StringComparison.Ordinal);
                if (t.StartsWith("openflow ", StringComparison.Ordinal)) of = t[8..].Trim();
            }
            if (api is null || of is null) throw new Xunit.Sdk.XunitException("tsm serve printed no api/openflow address");
            var serve = new TsmServe(p, new Uri(api), IPEndPoint.Parse(of));
            // Drain the rest so the child never blocks on a full pipe.
            if (quiet)
            {
                _ = p.StandardOutput.ReadToEndAsync();
                _ = p.StandardError.ReadToEndAsync();
            }
            else
            {
                var file = logs is null ? null : new StreamWriter(Path.Combine(logs, $"tsm-{p.Id}.log")) { AutoFlush = true };
                void Keep(string l)
                {
                    if (file is not null) lock (file) file.WriteLine(l);
                    if (keepLines) lock (serve._lines) serve._lines.Add(l);
                }
                _ = Task.Run(async () =>
                {
                    while (await p.StandardOutput.ReadLineAsync() is { } l) Keep(l);
                });
                _ = Task.Run(async () =>
                {
                    while (await p.StandardError.ReadLineAsync() is { } l) Keep(l);
                });
            }
            return serve;
        }
        catch
        {
            p.Kill(entireProcessTree: true);
            p.Dispose();
            throw;
        }
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try { await _process.WaitForExitAsync(cts.Token); } catch (OperationCanceledException) { }
        _process.Dispose();
    }
}
