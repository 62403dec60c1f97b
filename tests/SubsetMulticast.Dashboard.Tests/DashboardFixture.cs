using System.Diagnostics;
using System.Text.Json;
using Microsoft.Playwright;

namespace SubsetMulticast.Dashboard.Tests;

/// <summary>
/// The real <c>tsm serve</c> (a child process, emulated leaf-spine:2:4:8, API on 127.0.0.1:0) and one headless
/// Debian <c>chromium</c> driven by Playwright through its executable path, shared by the browser tests.
/// </summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";
    public const string Fabric = "leaf-spine:2:4:8";

    private Process? _serve;
    private readonly List<string> _serveOutput = [];

    public Uri BaseUrl { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Where screenshots are kept: $TSM_ARTIFACTS, else artifacts/ next to the test assembly.</summary>
    public static string ArtifactsDirectory =>
        Directory.CreateDirectory(Environment.GetEnvironmentVariable("TSM_ARTIFACTS") is { Length: > 0 } dir ? dir : Path.Combine(AppContext.BaseDirectory, "artifacts")).FullName;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"The dashboard tests drive a real browser and {ChromiumPath} is missing: install the Debian package 'chromium' (test.sh does when run as root).");
        var serveStarted = StartServeAsync();
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // root in a container: no user namespaces for the sandbox; small /dev/shm.
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
            Timeout = 30_000,
        });
        await serveStarted;
    }

    private async Task StartServeAsync()
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(typeof(SubsetMulticast.Cli.Program).Assembly.Location);
        foreach (var a in new[] { "serve", "--fabric", Fabric, "--api", "http://127.0.0.1:0", "--push-udp", "off", "--quiet" }) psi.ArgumentList.Add(a);
        _serve = Process.Start(psi)!;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        string? api = null;
        while (api is null)
        {
            var line = await _serve.StandardOutput.ReadLineAsync(cts.Token)
                ?? throw new InvalidOperationException($"tsm serve exited before printing its address: {string.Join('\n', _serveOutput)}\n{await _serve.StandardError.ReadToEndAsync()}");
            _serveOutput.Add(line);
            var t = line.Trim();
            if (t.StartsWith("api ", StringComparison.Ordinal)) api = t[3..].Trim().Replace("api/v1/groups", "", StringComparison.Ordinal);
        }
        BaseUrl = new Uri(api);
        Http = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task<JsonElement> GetJsonAsync(string path) =>
        JsonDocument.Parse(await Http.GetStringAsync(path)).RootElement.Clone();

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        Playwright?.Dispose();
        Http?.Dispose();
        if (_serve is not null)
        {
            if (!_serve.HasExited) _serve.Kill(entireProcessTree: true);
            await _serve.WaitForExitAsync();
            _serve.Dispose();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<DashboardFixture>
{
    public const string Name = "dashboard in chromium";
}
