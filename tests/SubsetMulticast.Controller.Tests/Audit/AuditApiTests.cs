using System.Net;
using System.Text.Json;
using SubsetMulticast.Cli.CommandLine;
using SubsetMulticast.Controller.OpenFlowFabric;
using SubsetMulticast.Controller.Tests.Support;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.Controller.Tests.Audit;

/// <summary>
/// /api/v1/audit, /api/v1/audit/repair and <c>tsm audit</c> against the OpenFlow controller service with three switch
/// agents over TCP: counts per category, paging, bounds and problem+json, repair of exactly what differs, the metrics.
/// </summary>
public sealed class AuditApiTests
{
    [Fact]
    public async Task Audit_OverRestAndCli_ReportsRepairsPagesAndRefusesBadInput()
    {
        var settings = OpenFlowServiceTests.Settings(OpenFlowServiceTests.Clock());
        settings.Controller.Audit = new SubsetMulticast.Controller.Audit.RuleAuditOptions { Interval = null };
        await using var service = await OpenFlowControllerService.StartAsync(settings);
        string[] ids = [AgentFabric.Id(AgentFabric.SpineDpid), AgentFabric.Id(AgentFabric.Leaf1Dpid), AgentFabric.Id(AgentFabric.Leaf2Dpid)];
        // Rules go straight to the southbound below, so wait until each switch's connect bootstrap (which restores the
        // store's rules as intended, then reconciles) has finished: a later restore would replace them.
        var bootstrapped = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>();
        var allBootstrapped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        service.Southbound.Reconciled += (id, _, _) => { bootstrapped[id] = true; if (ids.All(bootstrapped.ContainsKey)) allBootstrapped.TrySetResult(); };
        await using var fabric = new AgentFabric();
        await fabric.ConnectAsync(service.Listener.LocalEndpoint);
        using var http = new HttpClient { BaseAddress = service.Controller.ApiUrl, Timeout = TimeSpan.FromSeconds(60) };
        await allBootstrapped.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var rules = new[] { IpAddress.Parse("239.255.0.1"), IpAddress.Parse("239.255.0.2") }.Select(g => new GroupRule(new VlanId(0), g, [1, 2])).ToArray();
        Assert.True((await service.Southbound.ApplyAsync([.. ids.SelectMany(id => rules.Select(r => new SwitchChange(id, null, r)))], default)).Succeeded);

        var clean = await GetJsonAsync(http, "api/v1/audit");
        Assert.Equal(3, clean.GetProperty("switches").GetArrayLength());
        Assert.Equal(12, clean.GetProperty("totals").GetProperty("expected").GetInt32()); // 2 groups + 2 flows on 3 switches
        Assert.Equal(12, clean.GetProperty("totals").GetProperty("matched").GetInt32());
        Assert.All(clean.GetProperty("switches").EnumerateArray(), s => Assert.True(s.GetProperty("inSync").GetBoolean()));

        // Behind the controller's back on leaf 1: one group gone, the other's buckets changed.
        uint g1 = service.Southbound.GroupIdFor(rules[0].Vlan, rules[0].Group), g2 = service.Southbound.GroupIdFor(rules[1].Vlan, rules[1].Group);
        fabric.Leaf1.Mutate((groups, _) => { groups.Remove(g1); groups[g2] = groups[g2] with { Buckets = [new OfpBucket([new OutputAction(9)])] }; });

        var one = await GetJsonAsync(http, $"api/v1/audit?switch={ids[1]}");
        var leaf1 = Assert.Single(one.GetProperty("switches").EnumerateArray().ToArray());
        var counts = leaf1.GetProperty("counts");
        Assert.Equal((1, 0, 1, 2), (counts.GetProperty("missing").GetInt32(), counts.GetProperty("extra").GetInt32(), counts.GetProperty("modified").GetInt32(), counts.GetProperty("matched").GetInt32()));
        Assert.Equal(["missing", "modified"], leaf1.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("category").GetString()).Order());
        Assert.Equal(1, leaf1.GetProperty("consecutiveFailures").GetInt32());

        // Paging: one switch a page, Link rel="next" until the last.
        var seen = new List<string>();
        string? url = "api/v1/audit?limit=1&items=1";
        for (int pages = 0; url is not null && pages < 10; pages++)
        {
            using var page = await http.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            var body = JsonDocument.Parse(await page.Content.ReadAsStringAsync()).RootElement;
            seen.AddRange(body.GetProperty("switches").EnumerateArray().Select(s => s.GetProperty("switch").GetString()!));
            url = page.Headers.TryGetValues("Link", out var link) ? link.Single()[1..link.Single().IndexOf('>')].TrimStart('/') : null;
        }
        Assert.Equal(ids.Order(StringComparer.Ordinal), seen);

        // Bad input: problem+json, never a 500.
        foreach (var (bad, status) in new[] { ("limit=0", 400), ("limit=1001", 400), ("items=x", 400), ("bogus=1", 400), ("switch=nope", 404), ("limit=-1", 400) })
        {
            using var r = await http.GetAsync($"api/v1/audit?{bad}");
            Assert.Equal(status, (int)r.StatusCode);
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        }

        // tsm audit: text and exit code 1 while leaf 1 differs; --repair fixes exactly its two findings; then in sync.
        var (code, text, _) = await CliAsync("audit", "--controller", service.Controller.ApiUrl.ToString());
        Assert.Equal(1, code);
        Assert.Contains($"openflow {ids[1]}: DIFFERS", text);
        var (rcode, rjson, rerr) = await CliAsync("audit", "--controller", service.Controller.ApiUrl.ToString(), "--switch", ids[1], "--repair", "--json");
        Assert.True(rcode == 0, rerr + rjson);
        var repaired = JsonDocument.Parse(rjson).RootElement;
        Assert.Equal(2, repaired.GetProperty("totals").GetProperty("repaired").GetInt32());
        Assert.Equal("bundle", repaired.GetProperty("switches")[0].GetProperty("repairResult").GetString());
        Assert.Equal([1u, 2u], fabric.Leaf1.Groups[g2].Buckets.Select(b => ((OutputAction)b.Actions[0]).Port));
        Assert.True(fabric.Leaf1.Groups.ContainsKey(g1));
        var (okCode, okText, _) = await CliAsync("audit", "--controller", service.Controller.ApiUrl.ToString());
        Assert.True(okCode == 0, okText);

        // The latest findings are in /metrics.
        string metrics = await http.GetStringAsync("metrics");
        Assert.True(Observability.Prometheus.Sample(metrics, "tsm_audit_runs_total", "repair=\"true\"") >= 1, metrics);
        Assert.Equal(12, Observability.Prometheus.Sample(metrics, "tsm_audit_rules", "category=\"matched\""));
        Assert.Equal(0, Observability.Prometheus.Sample(metrics, "tsm_audit_switches_out_of_sync"));
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, string url)
    {
        using var r = await http.GetAsync(url);
        string body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement;
    }

    private static async Task<(int Code, string Stdout, string Stderr)> CliAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = await TsmCommandLine.RunAsync(args, stdout, stderr, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
