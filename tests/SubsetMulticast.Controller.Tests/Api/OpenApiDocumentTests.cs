using System.Diagnostics;
using System.Text.Json.Nodes;
using SubsetMulticast.Controller.Tests.Support;

namespace SubsetMulticast.Controller.Tests.Api;

/// <summary>
/// GET /openapi/v1.json: the document the controller serves equals the one kept in the repository (docs/openapi.json),
/// describes every route with its responses, and Redocly's linter (pinned) finds nothing in it.
/// </summary>
public sealed class OpenApiDocumentTests
{
    private const string Redocly = "@redocly/cli@2.77.0";

    private static string Docs(string file)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SubsetMulticast.sln"))) return Path.Combine(dir.FullName, "docs", file);
        throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public async Task ServedDocument_EqualsTheCommittedOne_AndDescribesEveryRoute()
    {
        await using var c = await RunningController.StartAsync();
        var served = await c.Http.GetStringAsync("openapi/v1.json");
        var committed = await File.ReadAllTextAsync(Docs("openapi.json"));
        if (!JsonNode.DeepEquals(JsonNode.Parse(served), JsonNode.Parse(committed)))
        {
            var fresh = Path.Combine(Path.GetTempPath(), $"openapi-{Guid.NewGuid():N}.json");
            await File.WriteAllTextAsync(fresh, served);
            Assert.Fail($"docs/openapi.json is not what the controller serves; the served document is in {fresh} (copy it over if the change is intended)");
        }

        var doc = JsonNode.Parse(served)!;
        Assert.StartsWith("3.", (string)doc["openapi"]!, StringComparison.Ordinal);
        var paths = doc["paths"]!.AsObject();
        Assert.Equal(["/api/v1/audit", "/api/v1/audit/repair", "/api/v1/groups", "/api/v1/groups/{id}", "/api/v1/groups/{id}/refresh", "/api/v1/persistent-sets", "/api/v1/persistent-sets/{id}", "/api/v1/reference-groups", "/api/v1/topology"],
            paths.Select(p => p.Key).Order(StringComparer.Ordinal));
        // Every operation names its success body (or 204) and every group operation its problems.
        foreach (var (path, item) in paths)
            foreach (var (method, op) in item!.AsObject())
            {
                var responses = op!["responses"]!.AsObject();
                Assert.True(responses.Any(r => r.Key.StartsWith('2')), $"{method} {path}: no success response");
                foreach (var (status, r) in responses.Where(r => r.Key[0] is '4' or '5'))
                    Assert.True(r!["content"]?["application/problem+json"] is not null, $"{method} {path} {status}: not problem+json");
            }
        Assert.NotNull(doc["components"]!["schemas"]!["GroupView"]);
        Assert.NotNull(doc["components"]!["schemas"]!["CreateGroupBody"]);
        // What a client must send is what the handler refuses without (400 missing-field): ttlMs (the default lease), group
        // (allocated from the block), delivery and setup are optional, and a generated client must not demand them.
        Assert.Equal(["members", "reference", "vlan"], doc["components"]!["schemas"]!["CreateGroupBody"]!["required"]!.AsArray().Select(n => (string)n!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task CommittedDocument_LintsClean_WithRedocly()
    {
        var psi = new ProcessStartInfo("npx") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(Docs("openapi.json"))! };
        foreach (var a in (string[])["--yes", Redocly, "lint", "openapi.json", "--config", "redocly.yaml", "--format", "stylish"]) psi.ArgumentList.Add(a);
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception)
        {
            Assert.Fail("npx is not installed: apt-get install nodejs npm (Redocly CLI runs on Node.js)");
            return;
        }
        using (p)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(300));   // the first run fetches the pinned CLI from the npm registry
            var stdout = p.StandardOutput.ReadToEndAsync(cts.Token);
            var stderr = p.StandardError.ReadToEndAsync(cts.Token);
            await p.WaitForExitAsync(cts.Token);
            string output = await stdout + await stderr;
            Assert.True(p.ExitCode == 0, $"redocly lint exited {p.ExitCode}:\n{output}");
            Assert.Contains("Your API description is valid", output, StringComparison.Ordinal);
            Assert.DoesNotContain("warning", output.Replace("Deprecation warning", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
        }
    }
}
