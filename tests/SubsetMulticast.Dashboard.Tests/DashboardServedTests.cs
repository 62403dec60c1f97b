using System.Diagnostics;
using System.Text.Json;

namespace SubsetMulticast.Dashboard.Tests;

/// <summary>The dashboard is there in every mode of <c>tsm serve</c>: here with --openflow and no switch connected yet.</summary>
public sealed class DashboardServedTests
{
    [Fact]
    public async Task ServeOpenFlow_ServesThePage_AndItsStreamStartsWithASnapshotOfTheEmptyFabric()
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(typeof(SubsetMulticast.Cli.Program).Assembly.Location);
        foreach (var a in new[] { "serve", "--openflow", "127.0.0.1:0", "--api", "http://127.0.0.1:0", "--quiet" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string? dashboard = null;
            for (int i = 0; i < 20 && dashboard is null; i++)
            {
                var line = await p.StandardOutput.ReadLineAsync(cts.Token) ?? throw new Xunit.Sdk.XunitException($"serve exited: {await p.StandardError.ReadToEndAsync()}");
                if (line.TrimStart().StartsWith("dashboard ", StringComparison.Ordinal)) dashboard = line.Trim()["dashboard".Length..].Trim();
            }
            Assert.NotNull(dashboard);
            using var http = new HttpClient { BaseAddress = new Uri(dashboard), Timeout = TimeSpan.FromSeconds(30) };

            using var page = await http.GetAsync("", cts.Token);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            Assert.Contains("/dashboard/app.js", await page.Content.ReadAsStringAsync(cts.Token), StringComparison.Ordinal);
            using var script = await http.GetAsync("dashboard/app.js", cts.Token);
            Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
            using var missing = await http.GetAsync("dashboard/nothing.js", cts.Token);
            Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);

            using var events = await http.GetAsync("dashboard/events", HttpCompletionOption.ResponseHeadersRead, cts.Token);
            Assert.Equal("text/event-stream", events.Content.Headers.ContentType?.MediaType);
            using var reader = new StreamReader(await events.Content.ReadAsStreamAsync(cts.Token));
            string? name = null, data = null;
            while (data is null)
            {
                var line = await reader.ReadLineAsync(cts.Token) ?? throw new Xunit.Sdk.XunitException("the event stream ended before its snapshot");
                if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line[7..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal) && name is not null) data = line[6..];
            }
            Assert.Equal("snapshot", name);
            var snapshot = JsonDocument.Parse(data).RootElement;
            Assert.Equal(0, snapshot.GetProperty("topology").GetProperty("switches").GetArrayLength()); // nothing connected
            Assert.Equal(0, snapshot.GetProperty("groups").GetArrayLength());
            Assert.False(snapshot.GetProperty("audit").GetProperty("available").GetBoolean());
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }
    }
}
