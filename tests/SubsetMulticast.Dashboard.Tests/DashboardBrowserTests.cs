using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace SubsetMulticast.Dashboard.Tests;

/// <summary>
/// The dashboard in a real browser (Debian chromium through Playwright) against the real <c>tsm serve</c>:
/// what it draws is compared with what the REST API says, and group changes made over REST must reach the
/// page over the server's event stream without a reload.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class DashboardBrowserTests(DashboardFixture fx)
{
    /// <summary>An open dashboard page and everything it complained about or fetched.</summary>
    private sealed class OpenPage : IAsyncDisposable
    {
        public required IBrowserContext Context { get; init; }
        public required IPage Page { get; init; }
        public List<string> Errors { get; } = [];
        public List<string> Requests { get; } = [];

        public ValueTask DisposeAsync() => Context.DisposeAsync();
    }

    private async Task<OpenPage> OpenAsync()
    {
        var context = await fx.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1440, Height = 860 } });
        var page = await context.NewPageAsync();
        var open = new OpenPage { Context = context, Page = page };
        page.Console += (_, m) => { if (m.Type is "error" or "warning") lock (open.Errors) open.Errors.Add($"console {m.Type}: {m.Text}"); };
        page.PageError += (_, e) => { lock (open.Errors) open.Errors.Add($"page error: {e}"); };
        page.RequestFailed += (_, r) => { if (!r.Url.EndsWith("/dashboard/events", StringComparison.Ordinal)) lock (open.Errors) open.Errors.Add($"request failed: {r.Url} {r.Failure}"); };
        page.Request += (_, r) => { lock (open.Requests) open.Requests.Add(r.Url); };
        var response = await page.GotoAsync(fx.BaseUrl.ToString());
        Assert.Equal(200, response!.Status);
        await page.WaitForSelectorAsync("body[data-ready=true]", new PageWaitForSelectorOptions { Timeout = 15_000 });
        return open;
    }

    [Fact]
    public async Task Page_LoadsWithoutConsoleErrors_AndDrawsExactlyTheTopologyTheApiReports()
    {
        await using var open = await OpenAsync();
        var page = open.Page;
        var topology = await fx.GetJsonAsync("api/v1/topology");

        var wantSwitches = topology.GetProperty("switches").EnumerateArray().Select(s => s.GetProperty("id").GetString()!).Order().ToArray();
        var drawnSwitches = (await page.EvalOnSelectorAllAsync<string[]>("#nodes .switch", "els => els.map(e => e.dataset.id)")).Order().ToArray();
        Assert.Equal(6, wantSwitches.Length); // leaf-spine:2:4:8
        Assert.Equal(wantSwitches, drawnSwitches);

        static string End(JsonElement e) => $"{e.GetProperty("switch").GetString()}:{e.GetProperty("port").GetUInt32()}";
        var wantLinks = topology.GetProperty("links").EnumerateArray()
            .Select(l => $"{End(l.GetProperty("a"))}|{End(l.GetProperty("b"))}|{(l.GetProperty("blocked").GetBoolean() ? "true" : "false")}").Order().ToArray();
        var drawnLinks = (await page.EvalOnSelectorAllAsync<string[]>("#base line.link", "els => els.map(e => `${e.dataset.a}|${e.dataset.b}|${e.dataset.blocked}`)")).Order().ToArray();
        Assert.Equal(8, wantLinks.Length); // every leaf to both spines
        Assert.Contains(wantLinks, l => l.EndsWith("|true", StringComparison.Ordinal)); // two spines: the tree blocks some
        Assert.Equal(wantLinks, drawnLinks);
        Assert.Equal(drawnLinks.Count(l => l.EndsWith("|true", StringComparison.Ordinal)), await page.Locator("#base line.link.blocked").CountAsync());

        var wantHosts = topology.GetProperty("hosts").EnumerateArray()
            .Select(h => $"{h.GetProperty("ip").GetString()}@{h.GetProperty("switch").GetString()}:{h.GetProperty("port").GetUInt32()}").Order().ToArray();
        var drawnHosts = (await page.EvalOnSelectorAllAsync<string[]>("#base .host",
            "els => els.flatMap(e => e.dataset.ips.split(' ').map(ip => `${ip}@${e.dataset.switch}:${e.dataset.port}`))")).Order().ToArray();
        Assert.Equal(64, wantHosts.Length); // 32 hosts, each by its IPv4 and its IPv6 address
        Assert.Equal(wantHosts, drawnHosts);
        Assert.Equal(32, await page.Locator("#base .host").CountAsync()); // one dot per host port

        // The reference group the hosts joined, with its member ports.
        var references = await fx.GetJsonAsync("api/v1/reference-groups");
        Assert.Equal(references.GetArrayLength(), await page.Locator("#references li[data-ref]").CountAsync());
        await page.Locator("#references li[data-ref='1/239.1.0.1']").ClickAsync();
        var wantRefPorts = references.EnumerateArray().Single().GetProperty("switches").EnumerateArray()
            .SelectMany(s => s.GetProperty("memberPorts").EnumerateArray().Select(p => $"{s.GetProperty("id").GetString()}:{p.GetUInt32()}")).Order().ToArray();
        var drawnRefPorts = (await page.EvalOnSelectorAllAsync<string[]>("#overlay line.port.ref", "els => els.map(e => `${e.dataset.switch}:${e.dataset.port}`)")).Order().ToArray();
        Assert.Equal(wantRefPorts, drawnRefPorts);

        // Served whole by the controller: nothing fetched from anywhere else, and nothing the browser complained about.
        Assert.All(open.Requests, url => Assert.StartsWith(fx.BaseUrl.GetLeftPart(UriPartial.Authority), url, StringComparison.Ordinal));
        Assert.Empty(open.Errors);
    }

    [Fact]
    public async Task GroupCreatedOverRest_AppearsWithinOneSecond_WithItsPortsAndIgnoredMember_AndReleasingItRemovesIt()
    {
        await using var open = await OpenAsync();
        var page = open.Page;
        // Three members on three leaves and one address no host has: it is ignored (unknown host).
        string[] members = ["10.0.1.2", "10.0.2.3", "10.0.4.5", "10.0.9.9"];
        using var created = await fx.Http.PostAsJsonAsync("api/v1/groups", new { vlan = 1, reference = "239.1.0.1", members, ttlMs = 120_000 });
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, body);
        var clock = Stopwatch.StartNew();
        var group = JsonDocument.Parse(body).RootElement;
        string id = group.GetProperty("id").GetString()!;

        var row = page.Locator($"#groups li[data-group-id='{id}']");
        await row.WaitForAsync(new LocatorWaitForOptions { Timeout = 1_000 }); // pushed by the server: no reload, no poll
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        await row.ClickAsync();

        var wantPorts = group.GetProperty("switches").EnumerateArray()
            .SelectMany(s => s.GetProperty("ports").EnumerateArray().Select(p => $"{s.GetProperty("id").GetString()}:{p.GetUInt32()}")).Order().ToArray();
        Assert.True(wantPorts.Length >= 5, string.Join(' ', wantPorts)); // three leaves' host ports, their uplinks and the spine's downlinks
        var drawnPorts = (await page.EvalOnSelectorAllAsync<string[]>("#overlay line.port.tree", "els => els.map(e => `${e.dataset.switch}:${e.dataset.port}`)")).Order().ToArray();
        Assert.Equal(wantPorts, drawnPorts);
        var tableRows = (await page.EvalOnSelectorAllAsync<string[]>("#detail-switches tr",
            "rows => rows.flatMap(r => r.querySelector('.ports').textContent.split(', ').map(p => `${r.dataset.switch}:${p}`))")).Order().ToArray();
        Assert.Equal(wantPorts, tableRows);

        var ignored = await page.EvalOnSelectorAllAsync<string[]>("#detail-ignored li", "els => els.map(e => `${e.dataset.member}=${e.dataset.reason}`)");
        Assert.Equal(["10.0.9.9=unknownHost"], ignored);
        Assert.Contains("no ARP/ND seen", await page.Locator("#detail-ignored").InnerTextAsync(), StringComparison.Ordinal);
        var highlightedMembers = (await page.EvalOnSelectorAllAsync<string[]>("#overlay circle.member", "els => els.map(e => e.dataset.ip)")).Order().ToArray();
        Assert.Equal(members[..3], highlightedMembers);
        Assert.Matches(@"^\d+ µs$", await page.Locator("#detail-setup").InnerTextAsync());
        Assert.Equal(group.GetProperty("setupMicros").GetInt64() + " µs", await page.Locator("#detail-setup").InnerTextAsync());

        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DashboardFixture.ArtifactsDirectory, "dashboard-group-selected.png") });

        using (var released = await fx.Http.DeleteAsync($"api/v1/groups/{id}"))
            Assert.Equal(HttpStatusCode.NoContent, released.StatusCode);
        clock.Restart();
        await row.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Detached, Timeout = 1_000 });
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        Assert.Equal(0, await page.Locator("#overlay line.port.tree").CountAsync());
        Assert.Equal("released", await page.Locator("#detail-body .gone").InnerTextAsync());
        Assert.Empty(open.Errors);
    }

    [Fact]
    public async Task GroupWhoseLeaseRunsOut_DisappearsAsExpired_AndFiguresCountIt()
    {
        await using var open = await OpenAsync();
        var page = open.Page;
        using var created = await fx.Http.PostAsJsonAsync("api/v1/groups", new { vlan = 1, reference = "239.1.0.1", members = new[] { "10.0.3.1", "10.0.3.4" }, ttlMs = 1_500 });
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, body);
        string id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        var row = page.Locator($"#groups li[data-group-id='{id}']");
        await row.WaitForAsync(new LocatorWaitForOptions { Timeout = 1_000 });
        await row.ClickAsync();
        // The figures on the page come with the change: this setup is in the window.
        Assert.NotEqual("–", await page.Locator("#fig-p99").InnerTextAsync());
        Assert.NotEqual("0.0", await page.Locator("#fig-rate").InnerTextAsync());
        await row.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Detached, Timeout = 10_000 });
        Assert.Equal("its lease ran out; released", await page.Locator("#detail-body .gone").InnerTextAsync());
        Assert.Empty(open.Errors);
    }
}
