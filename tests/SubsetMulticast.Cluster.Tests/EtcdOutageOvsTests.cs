using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SubsetMulticast.OpenFlow.Tests.Interop;
using Xunit.Abstractions;

namespace SubsetMulticast.Cluster.Tests;

/// <summary>
/// Issue 12, bad input: the group store's etcd stalls (SIGSTOP) and then dies (SIGKILL) under the real controller
/// (<c>tsm serve --openflow --store etcd=… --etcd-timeout 1</c>) and a real Open vSwitch, while a sender streams to a
/// live group. Each time: a new group is refused 503 problem+json within the call timeout, nothing is half-created (the
/// API's list and the switch's rules are unchanged), the live group keeps reaching exactly its members (counted by
/// receivers in namespaces), the log says so in one line, not one per request; when etcd is back (SIGCONT, or a new
/// etcd on the same data directory and ports) a new group is created and forwards, and the old one still does.
/// </summary>
/// <remarks>
/// In this assembly, not OpenFlow.Tests (the suite's long pole): it shares the OVS and tsm fixtures by linking them.
/// Groups live 60 s: etcd revokes at once, on SIGCONT, every lease whose TTL ran out while it was stopped (and the
/// controller releases an expired group through etcd itself), so the live group's TTL must outlast the stalls — a few
/// seconds here — by far; no refresh is needed within that.
/// </remarks>
[Trait("Category", "Interop")]
public class EtcdOutageOvsTests(ITestOutputHelper output)
{
    private const int UdpPort = 5014;
    private const string Reference = "239.1.0.1";
    private const int TimeoutSeconds = 1;

    /// <param name="mode">store: one controller, <c>--store etcd=…</c>; cluster: a one-node cluster, <c>--cluster etcd=… --node-id n1</c>,
    /// whose node lease (2 s) runs out during the stall: etcd revokes it on SIGCONT, with its mastership of the switch, and
    /// the node joins again and claims the switch again before the next group can be confirmed.</param>
    [Theory]
    [InlineData("store")]
    [InlineData("cluster")]
    public async Task EtcdStalledThenKilled_NewGroups503_LiveGroupKeepsForwarding_RecoversWhenEtcdReturns(string mode)
    {
        bool cluster = mode == "cluster";
        var total = Stopwatch.StartNew();
        // etcd starts while the switch daemons do.
        var starting = EtcdServer.StartAsync();
        OvsLab? made = null;
        try { made = new OvsLab(); }
        catch
        {
            await (await starting).DisposeAsync();
            throw;
        }
        await using var lab = made;
        await using var etcd = await starting;
        // tsm serve (a .NET process: seconds on a loaded machine) starts while the switch daemons do.
        string[] store = cluster ? ["--cluster", $"etcd={etcd.ClientUrl}", "--node-id", "n1"] : ["--store", $"etcd={etcd.ClientUrl}"];
        var serving = TsmServe.StartLoggingAsync(lab.ControllerAddress, ["--openflow", $"{lab.ControllerAddress}:0",
            .. store, "--etcd-timeout", $"{TimeoutSeconds}", "--lldp-interval", "1", "--audit-interval", "0",
            "--querier", "10.77.0.254", "--query-interval", "2", "--query-response", "1"]);
        try
        {
            lab.StartDatabase();
            lab.StartSwitchDaemon();
        }
        catch
        {
            await (await serving).DisposeAsync();
            throw;
        }
        await using var tsm = await serving;
        output.WriteLine($"etcd, OVS and tsm serve up at {total.Elapsed.TotalSeconds:0.0} s");
        var processes = new List<Process>();
        try
        {
            using var http = new HttpClient { BaseAddress = tsm.Api, Timeout = TimeSpan.FromSeconds(30) };
            string br = lab.AddBridge("e", 0x31, tsm.OpenFlow.Port);
            var hosts = new Dictionary<int, string>();
            for (int i = 1; i <= 4; i++) hosts[i] = lab.AddHost(br, i, ofport: i);
            foreach (var (i, ns) in hosts) await lab.InHostAsync(ns, $"ip addr add {Reference}/32 dev {lab.Tag}i{i} autojoin");
            output.WriteLine($"bridge and hosts at {total.Elapsed.TotalSeconds:0.0} s");
            // Receivers on h2..h4 count every datagram to our port, per group, from now to the end.
            var counts = new ConcurrentDictionary<(int Host, string Group), int>();
            var counters = Enumerable.Range(2, 3).Select(i => StartCounterAsync(lab, hosts[i], i, counts)).ToList();
            try { await Task.WhenAll(counters); }
            finally { processes.AddRange(counters.Where(c => c.IsCompletedSuccessfully).Select(c => c.Result)); }
            await Eventually.UntilAsync(() => GetJsonAsync(http, "api/v1/topology"),
                t => Enumerable.Range(1, 4).All(i => t.GetProperty("hosts").EnumerateArray().Any(h => h.GetProperty("ip").GetString() == $"10.77.0.{i}")), "four hosts located", 30_000,
                diagnose: () => $"{lab.OfctlAsync($"show {br}").GetAwaiter().GetResult()}\n" +
                    string.Join('\n', http.GetStringAsync("metrics").GetAwaiter().GetResult().Split('\n').Where(l => l.StartsWith("tsm_learning_", StringComparison.Ordinal))));
            output.WriteLine($"lab up in {total.Elapsed.TotalSeconds:0.0} s");

            int Count(int host, string group) => counts.GetValueOrDefault((host, group));

            var live = await CreateAsync(http, ["10.77.0.2", "10.77.0.3"]);
            string liveGroup = live.GetProperty("group").GetString()!;
            processes.Add(lab.StartStream(hosts[1], liveGroup, UdpPort));
            await Eventually.UntilAsync(() => Count(2, liveGroup) >= 5 && Count(3, liveGroup) >= 5, "the live group's members receiving the stream", 10_000);

            // 1. etcd stalls: it holds its connections and answers nothing.
            output.WriteLine($"streaming at {total.Elapsed.TotalSeconds:0.0} s");
            await RefusedWhileAwayAsync("stalled", etcd.Pause);
            // A cluster node: held until its lease keep-alive has failed (the 2 s TTL passed), so etcd revokes the lease on SIGCONT.
            if (cluster) await Eventually.UntilAsync(() => tsm.Lines.Any(l => l.Contains("etcd does not answer", StringComparison.Ordinal)), "the node's keep-alive failing", 10_000);
            var stallLines = Logged(tsm);
            etcd.Resume();
            var second = await CreateWhenBackAsync("after SIGCONT");
            await ForwardsToExactlyAsync(second, [3, 4]);

            // 2. etcd dies: connections refused; a new etcd on the same data directory and ports brings the keys back.
            await RefusedWhileAwayAsync("killed", etcd.Kill);
            await etcd.RestartAsync();
            var third = await CreateWhenBackAsync("after a restart on the same data directory");
            await ForwardsToExactlyAsync(third, [2, 4]);

            // The live group forwarded to its members, and only to them, the whole time.
            int before = Count(2, liveGroup);
            await Eventually.UntilAsync(() => Count(2, liveGroup) > before + 5 && Count(3, liveGroup) > before + 5, "the live group still forwarding at the end", 10_000);
            Assert.Equal(0, Count(4, liveGroup));
            var listed = (await GetJsonAsync(http, "api/v1/groups")).EnumerateArray().Select(g => g.GetProperty("group").GetString()).Order().ToList();
            Assert.Equal(new[] { liveGroup, second, third }.Order(), listed);

            // What the log said: one warning when etcd went away (not one per refused request, no stack), one line when it was back.
            Assert.Single(stallLines, l => l.Contains("is unavailable", StringComparison.Ordinal));
            Assert.DoesNotContain(Logged(tsm), l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
            Assert.Equal(2, tsm.Lines.Count(l => l.Contains("The group store", StringComparison.Ordinal) && l.Contains("answers again", StringComparison.Ordinal)));
            if (cluster)
            {
                // The node's keep-alive and watch retry every 200 ms while etcd is away: one warning, not one per retry.
                Assert.Single(stallLines, l => l.Contains("etcd does not answer", StringComparison.Ordinal));
                Assert.Contains(tsm.Lines, l => l.Contains("Node n1: etcd answers again", StringComparison.Ordinal));
            }
            foreach (var l in Logged(tsm)) output.WriteLine($"log: {l}");
            output.WriteLine($"total {total.Elapsed.TotalSeconds:0.0} s");

            async Task RefusedWhileAwayAsync(string how, Action away)
            {
                string groupsBefore = await lab.OfctlAsync($"dump-groups {br}");
                string flowsBefore = OurFlows(await lab.OfctlAsync($"dump-flows --no-stats {br}"));
                var listedBefore = (await GetJsonAsync(http, "api/v1/groups")).ToString();
                int[] at = [Count(2, liveGroup), Count(3, liveGroup)];
                away();
                // Three requests at once, as clients retrying send them: each refused within the call timeout (plus slack for a loaded machine).
                await Task.WhenAll(Enumerable.Range(0, 3).Select(async _ =>
                {
                    var sw = Stopwatch.StartNew();
                    using var r = await http.PostAsJsonAsync("api/v1/groups", new { vlan = 0, reference = Reference, members = new[] { "10.77.0.4" }, ttlMs = 60_000 });
                    var body = await r.Content.ReadAsStringAsync();
                    output.WriteLine($"etcd {how}: POST {(int)r.StatusCode} in {sw.Elapsed.TotalSeconds:0.00} s: {body}");
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
                    Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
                    Assert.Contains("urn:tsm:problem:store-unavailable", body, StringComparison.Ordinal);
                    Assert.True(sw.Elapsed < TimeSpan.FromSeconds(TimeoutSeconds + 2), $"refused after {sw.Elapsed.TotalSeconds:0.0} s, not within the {TimeoutSeconds} s call timeout");
                }));
                // Nothing half-created: the list (served from the controller's view, without etcd) and the switch's rules are as before.
                Assert.Equal(listedBefore, (await GetJsonAsync(http, "api/v1/groups")).ToString());
                Assert.Equal(groupsBefore, await lab.OfctlAsync($"dump-groups {br}"));
                Assert.Equal(flowsBefore, OurFlows(await lab.OfctlAsync($"dump-flows --no-stats {br}")));
                // The live group keeps reaching its members while etcd is away.
                await Eventually.UntilAsync(() => Count(2, liveGroup) >= at[0] + 10 && Count(3, liveGroup) >= at[1] + 10, $"the live group forwarding while etcd is {how}", 10_000);
                Assert.Equal(0, Count(4, liveGroup));
            }

            async Task<string> CreateWhenBackAsync(string when)
            {
                var back = Stopwatch.StartNew();
                // Bounded: a client retries a 503; the first attempts may still meet the old connection's failure.
                var created = await Eventually.UntilAsync(async () =>
                {
                    using var r = await http.PostAsJsonAsync("api/v1/groups", new { vlan = 0, reference = Reference, members = Members(when), ttlMs = 60_000 });
                    return (r.StatusCode, Body: await r.Content.ReadAsStringAsync());
                }, r => r.StatusCode == HttpStatusCode.Created, $"a group created {when}", 15_000, pollMs: 100);
                output.WriteLine($"created {when} {back.Elapsed.TotalSeconds:0.00} s after etcd was back");
                return JsonDocument.Parse(created.Body).RootElement.GetProperty("group").GetString()!;
            }

            async Task ForwardsToExactlyAsync(string group, int[] members)
            {
                var stream = lab.StartStream(hosts[1], group, UdpPort);
                processes.Add(stream);
                await Eventually.UntilAsync(() => members.All(m => Count(m, group) >= 10), $"{group} reaching its members {string.Join(",", members)}", 10_000);
                foreach (int h in new[] { 2, 3, 4 }.Except(members)) Assert.Equal(0, Count(h, group));
                processes.Remove(stream);
                Kill(stream);
            }
        }
        finally
        {
            var stopping = Stopwatch.StartNew();
            foreach (var p in processes) Kill(p);
            output.WriteLine($"children stopped in {stopping.Elapsed.TotalSeconds:0.0} s");
            await tsm.DisposeAsync();
            output.WriteLine($"tsm stopped in {stopping.Elapsed.TotalSeconds:0.0} s");
        }
    }

    private static string[] Members(string when) => when.StartsWith("after SIGCONT", StringComparison.Ordinal) ? ["10.77.0.3", "10.77.0.4"] : ["10.77.0.2", "10.77.0.4"];

    /// <summary>Our rules only (transactional groups are allocated from 239.255.0.0/16): learning may add others.</summary>
    private static string OurFlows(string dump) =>
        string.Join('\n', dump.Split('\n').Where(l => l.Contains("nw_dst=239.255.", StringComparison.Ordinal)).Select(l => l.Trim()).Order(StringComparer.Ordinal));

    private static List<string> Logged(TsmServe tsm) =>
        [.. tsm.Lines.Where(l => l.Contains("etcd", StringComparison.OrdinalIgnoreCase) || l.Contains("exception", StringComparison.OrdinalIgnoreCase) || l.TrimStart().StartsWith("at ", StringComparison.Ordinal))];

    /// <summary>
    /// Counts, in the host's namespace, every UDP datagram to <see cref="UdpPort"/> by its destination group: an
    /// AF_PACKET capture, never a join (a rendezvous group is installed from the reference group; its receivers only
    /// listen). Prints "ready", then one line per datagram; 90 s at most.
    /// </summary>
    private static async Task<Process> StartCounterAsync(OvsLab lab, string ns, int index, ConcurrentDictionary<(int, string), int> counts)
    {
        string script = $"""
            import socket,struct,time
            s=socket.socket(socket.AF_PACKET,socket.SOCK_DGRAM,socket.htons(0x0800))
            s.bind(('{lab.Tag}i{index}',0x0800))
            s.settimeout(0.5)
            print('ready',flush=True)
            end=time.time()+90
            while time.time()<end:
                try: d,a=s.recvfrom(65535)
                except socket.timeout: continue
                if a[2]==socket.PACKET_OUTGOING or len(d)<28 or d[9]!=17: continue
                ihl=(d[0]&15)*4
                if struct.unpack('!H',d[ihl+2:ihl+4])[0]!={UdpPort}: continue
                print('got',socket.inet_ntoa(d[16:20]),flush=True)
            """;
        var path = Path.Combine(lab.Dir, $"count{index}.py");
        File.WriteAllText(path, script);
        var p = Shell.Start("ip", $"netns exec {ns} python3 {path}");
        var ready = new TaskCompletionSource();
        _ = Task.Run(async () =>
        {
            while (await p.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line == "ready") ready.TrySetResult();
                else if (line.StartsWith("got ", StringComparison.Ordinal)) counts.AddOrUpdate((index, line[4..].Trim()), 1, (_, n) => n + 1);
            }
        });
        try { await ready.Task.WaitAsync(TimeSpan.FromSeconds(20)); }
        catch (TimeoutException) { Kill(p); throw new Xunit.Sdk.XunitException($"counter {index} did not start: {await p.StandardError.ReadToEndAsync()}"); }
        return p;
    }

    private static void Kill(Process p)
    {
        Shell.Stop(p);
    }

    private static async Task<JsonElement> CreateAsync(HttpClient http, string[] members)
    {
        using var r = await http.PostAsJsonAsync("api/v1/groups", new { vlan = 0, reference = Reference, members, ttlMs = 60_000 });
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.Created, body);
        return JsonDocument.Parse(body).RootElement;
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, string path) =>
        JsonDocument.Parse(await http.GetStringAsync(path)).RootElement;
}
