using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using SubsetMulticast.Controller;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.ReferenceGroups;
using SubsetMulticast.Emulator;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.Push;

// Dashboard scale harness: the real controller on a large emulated fabric (hosts and reference groups copied
// from the emulator, not learned, so that a 1,000-switch fabric is up in seconds), the dashboard in Debian's
// chromium through Playwright; prints time to first render, per-update and interaction figures as markdown.
//
//   dotnet run -c Release --project tests/SubsetMulticast.Dashboard.Harness -- [fat-tree:28] [--loads 5] [--cycles 40] [--burst 200] [--shot FILE]
var argv = args.ToList();
string spec = argv.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal) && !int.TryParse(a, out _)) ?? "fat-tree:28";
int Opt(string name, int fallback) { int i = argv.IndexOf(name); return i >= 0 && i + 1 < argv.Count ? int.Parse(argv[i + 1], CultureInfo.InvariantCulture) : fallback; }
string? shot = argv.IndexOf("--shot") is var si and >= 0 && si + 1 < argv.Count ? argv[si + 1] : null;
int loads = Opt("--loads", 5), cycles = Opt("--cycles", 40), burst = Opt("--burst", 200);
var inv = CultureInfo.InvariantCulture;

var clock = Stopwatch.StartNew();
var fabric = new EmulatedFabric(FabricSpec.Parse(spec));
var reference = IpAddress.Parse("239.1.0.1");
int stride = Math.Max(1, fabric.Hosts.Count / 256);
var joined = fabric.Hosts.Where((_, i) => i % stride == 0).ToArray();
foreach (var h in joined) fabric.Join(h, reference);
var hosts = new HostTable();
fabric.ExportHosts(hosts);
var references = new ReferenceGroupTable(fabric.Topology);
fabric.ExportReferenceGroups(references);
var keys = new PushKeyRing().Add(1, 1, new byte[32]);
var southbound = new EmulatorSouthbound(fabric, keys);
await using var host = await TsmControllerHost.StartAsync(new ControllerOptions
{
    ApiUrl = "http://127.0.0.1:0",
    PushUdp = null,
    Lifecycle = new LifecycleOptions().AddVlan(1, "239.255.0.0/16"),
    ConfigureLogging = l => l.ClearProviders(),
}, fabric.Topology, hosts, references, southbound, southbound, TimeProvider.System);
Console.Error.WriteLine(string.Create(inv, $"{spec}: {fabric.Switches.Count} switches, {fabric.Topology.Links.Count} links, {fabric.Hosts.Count} hosts ({joined.Length} joined {reference}); controller up in {clock.Elapsed.TotalSeconds:0.0} s at {host.ApiUrl}"));
using var http = new HttpClient { BaseAddress = host.ApiUrl, Timeout = TimeSpan.FromSeconds(60) };

using var playwright = await Playwright.CreateAsync();
await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
{
    ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
});

var firstRender = new List<double>();
var snapshotRender = new List<double>();
var snapshotPaint = new List<double>();
var secondFrame = new List<double>();
long snapshotBytes = 0;
IPage page = null!;
IBrowserContext context = null!;
for (int i = 0; i < loads; i++)
{
    if (context is not null) await context.DisposeAsync();
    context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1440, Height = 860 } });
    page = await context.NewPageAsync();
    await page.GotoAsync(host.ApiUrl.ToString());
    await page.WaitForSelectorAsync("body[data-ready=true]", new PageWaitForSelectorOptions { Timeout = 120_000 });
    var s = await page.EvaluateAsync<JsonElement>("() => window.tsmDashboard");
    firstRender.Add(s.GetProperty("firstRenderMs").GetDouble());
    snapshotRender.Add(s.GetProperty("snapshotRenderMs").GetDouble());
    snapshotPaint.Add(s.GetProperty("snapshotPaintMs").GetDouble());
    secondFrame.Add(s.GetProperty("snapshotSecondFrameMs").GetDouble());
    snapshotBytes = s.GetProperty("snapshotBytes").GetInt64();
}
var drawn = await page.EvaluateAsync<JsonElement>("() => ({ sw: document.querySelectorAll('#nodes .switch').length, links: window.tsmDashboard.linksDrawn, bundled: window.tsmDashboard.linksBundled, agg: window.tsmDashboard.hostsAggregated, els: document.querySelectorAll('#graph *').length })");

// Group changes while one group is selected (its tree is redrawn on the selected group's changes only).
string[] Members(int i) => [joined[(i * 7) % joined.Length].Ipv4.ToString(), joined[(i * 7 + joined.Length / 3) % joined.Length].Ipv4.ToString(), joined[(i * 7 + 2 * joined.Length / 3) % joined.Length].Ipv4.ToString()];
async Task<string> CreateAsync(int i, int ttlMs = 600_000)
{
    using var r = await http.PostAsJsonAsync("api/v1/groups", new { vlan = 1, reference = reference.ToString(), members = Members(i), ttlMs });
    var body = await r.Content.ReadAsStringAsync();
    if (!r.IsSuccessStatusCode) throw new InvalidOperationException(body);
    return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
}
var selectedId = await CreateAsync(9999);
await page.Locator($"#groups li[data-group-id='{selectedId}']").ClickAsync();
var selectMs = (await page.EvaluateAsync<JsonElement>("() => window.tsmDashboard.selectMs")).GetDouble();
var treePorts = await page.Locator("#overlay line.port.tree").CountAsync();

var restToRow = new List<double>();
var restToGone = new List<double>();
await page.EvaluateAsync("() => { window.tsmDashboard.updateMs.length = 0; window.tsmDashboard.updateFrameMs.length = 0; }");
for (int i = 0; i < cycles; i++)
{
    var id = await CreateAsync(i);
    var t = Stopwatch.StartNew();
    try
    {
        await page.Locator($"#groups li[data-group-id='{id}']").WaitForAsync(new LocatorWaitForOptions { Timeout = 10_000 });
    }
    catch (TimeoutException)
    {
        Console.Error.WriteLine(await page.EvaluateAsync<string>("() => JSON.stringify({ rows: [...document.querySelectorAll('#groups li')].map(l => l.outerHTML.slice(0, 120)), conn: document.getElementById('conn').textContent, updates: window.tsmDashboard.updates, snaps: window.tsmDashboard.snapshots })"));
        throw;
    }
    restToRow.Add(t.Elapsed.TotalMilliseconds);
    using (var d = await http.DeleteAsync($"api/v1/groups/{id}")) d.EnsureSuccessStatusCode();
    t.Restart();
    await page.Locator($"#groups li[data-group-id='{id}']").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Detached, Timeout = 10_000 });
    restToGone.Add(t.Elapsed.TotalMilliseconds);
}
var upd = await page.EvaluateAsync<JsonElement>("() => ({ h: window.tsmDashboard.updateMs, f: window.tsmDashboard.updateFrameMs })");
var handle = upd.GetProperty("h").EnumerateArray().Select(e => e.GetDouble()).ToList();
var frame = upd.GetProperty("f").EnumerateArray().Select(e => e.GetDouble()).ToList();
Console.Error.WriteLine("per-event frame times, in order: " + string.Join(' ', frame.Select(f => f.ToString("0", inv))));
Console.Error.WriteLine("REST → row, in order: " + string.Join(' ', restToRow.Select(f => f.ToString("0", inv))));

// A burst: groups created concurrently; time from the last REST answer until the page counts them all.
var burstClock = Stopwatch.StartNew();
await Parallel.ForAsync(0, burst, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) => await CreateAsync(100_000 + i));
double burstRest = burstClock.Elapsed.TotalMilliseconds;
var lastAnswer = Stopwatch.StartNew();
await page.WaitForFunctionAsync($"() => document.getElementById('group-count').textContent === '({burst + 1})'", null, new PageWaitForFunctionOptions { Timeout = 60_000 });
double burstTail = lastAnswer.Elapsed.TotalMilliseconds;

// Zoom: one wheel step over the graph, to the next painted frame.
var zoom = new List<double>();
await page.Mouse.MoveAsync(500, 400);
for (int i = 0; i < 10; i++)
{
    await page.Mouse.WheelAsync(0, i < 5 ? -240 : 240);
    await page.WaitForFunctionAsync("() => window.tsmDashboard.zoomFrameMs !== null");
    zoom.Add((await page.EvaluateAsync<JsonElement>("() => { const v = window.tsmDashboard.zoomFrameMs; window.tsmDashboard.zoomFrameMs = null; return v; }")).GetDouble());
}
if (shot is not null) await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot });

static string Stat(List<double> xs)
{
    if (xs.Count == 0) return "–";
    var s = xs.Order().ToList();
    double P(double p) => s[Math.Clamp((int)Math.Ceiling(p * s.Count) - 1, 0, s.Count - 1)];
    return string.Create(CultureInfo.InvariantCulture, $"median {P(0.5):0.0} · p90 {P(0.9):0.0} · max {s[^1]:0.0} (n={s.Count})");
}
Console.WriteLine(string.Create(inv, $"| fabric | {spec}: {fabric.Switches.Count} switches, {fabric.Topology.Links.Count} links, {fabric.Hosts.Count} hosts ({hosts.Count} addresses) |"));
Console.WriteLine(string.Create(inv, $"| drawn | {drawn.GetProperty("sw").GetInt32()} switches, {drawn.GetProperty("links").GetInt32()} links (one path per kind: {drawn.GetProperty("bundled").GetBoolean()}), hosts aggregated per switch: {drawn.GetProperty("agg").GetBoolean()}; {drawn.GetProperty("els").GetInt32()} SVG elements |"));
Console.WriteLine(string.Create(inv, $"| snapshot | {snapshotBytes / 1024.0:0} KiB of JSON on the event stream |"));
Console.WriteLine($"| time to first render (navigation start → graph painted), ms | {Stat(firstRender)} |");
Console.WriteLine($"| of which building the SVG from the snapshot, ms | {Stat(snapshotRender)} |");
Console.WriteLine($"| DOM built → first frame committed (style, layout, paint), ms | {Stat(snapshotPaint)} |");
Console.WriteLine($"| DOM built → the frame after it (the first one rastered), ms | {Stat(secondFrame)} |");
Console.WriteLine(string.Create(inv, $"| select a group (tree of {treePorts} ports drawn), ms | {selectMs:0.0} |"));
Console.WriteLine($"| per group event, handler, ms | {Stat(handle)} |");
Console.WriteLine($"| per group event, to the next painted frame, ms | {Stat(frame)} |");
Console.WriteLine($"| REST 201 → row on the page (Playwright's wait included), ms | {Stat(restToRow)} |");
Console.WriteLine($"| REST 204 → row gone, ms | {Stat(restToGone)} |");
Console.WriteLine(string.Create(inv, $"| burst of {burst} creates (8 at a time): REST {burstRest:0} ms, last answer → page shows all {burstTail:0} ms |"));
Console.WriteLine($"| one wheel-zoom step to the next painted frame, ms | {Stat(zoom)} |");
await context.DisposeAsync();
