using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Emulator;
using SubsetMulticast.Emulator.OpenFlow;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.OpenFlow.Southbound;

namespace SubsetMulticast.Cli.Cluster;

/// <summary>Settings of <see cref="ClusterFailoverRun"/>.</summary>
public sealed record ClusterFailoverOptions
{
    /// <summary>The emulated fabric (100 switches: leaf-spine:4:96:2).</summary>
    public string Fabric { get; init; } = "leaf-spine:4:96:2";
    public int Nodes { get; init; } = 3;
    /// <summary>Concurrent create/release clients, spread over the nodes.</summary>
    public int Clients { get; init; } = 4;
    /// <summary>Groups created through each node before the load starts (one of them carries the stream).</summary>
    public int GroupsPerNode { get; init; } = 3;
    /// <summary>Load before the kill, and after the last switch has a master again.</summary>
    public TimeSpan Before { get; init; } = TimeSpan.FromSeconds(2);
    public TimeSpan After { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>The stream's interval: one datagram to the live group each.</summary>
    public TimeSpan StreamInterval { get; init; } = TimeSpan.FromMilliseconds(20);
    public int NodeTtlSeconds { get; init; } = 1;
    public TimeSpan SettleTimeout { get; init; } = TimeSpan.FromSeconds(120);
    /// <summary>When set, each node logs (no <c>--quiet</c>) to <c>{dir}/{node}.log</c>: a failed run's story.</summary>
    public string? NodeLogDirectory { get; init; }
}

/// <summary>What <see cref="ClusterFailoverRun"/> found.</summary>
public sealed record ClusterFailoverReport
{
    public int Switches { get; init; }
    public int Hosts { get; init; }
    public string Victim { get; init; } = "";
    public int VictimMasterships { get; init; }
    /// <summary>From the SIGKILL to the moment etcd names a live master for every switch.</summary>
    public TimeSpan TimeToMaster { get; init; }
    /// <summary>From the SIGKILL to the moment every switch's own role table names a live MASTER (the emulated switches' view).</summary>
    public TimeSpan TimeToSwitchMaster { get; init; }
    public int Acknowledged { get; init; }
    public int Released { get; init; }
    public int Kept { get; init; }
    public int Unanswered { get; init; }
    public int Refused { get; init; }
    public int Failed { get; init; }
    /// <summary>Kept acknowledged groups a survivor does not list.</summary>
    public IReadOnlyList<string> Lost { get; init; } = [];
    /// <summary>"group on switch" for every kept acknowledged group whose rule a switch lacks or holds with other ports.</summary>
    public IReadOnlyList<string> MissingOnSwitches { get; init; } = [];
    /// <summary>Released groups whose rule a switch still holds (address not reused).</summary>
    public IReadOnlyList<string> Leftovers { get; init; } = [];
    public int StreamSent { get; init; }
    /// <summary>Per member: datagrams received.</summary>
    public IReadOnlyList<int> StreamToMembers { get; init; } = [];
    public int StreamToOthers { get; init; }
    public string Load { get; init; } = "";

    public bool Passed => Lost.Count == 0 && MissingOnSwitches.Count == 0 && Leftovers.Count == 0 && StreamToOthers == 0
        && StreamToMembers.Count > 0 && StreamToMembers.All(n => n == StreamSent);

    public string ToText() => string.Create(CultureInfo.InvariantCulture, $"""
        cluster failover: {Switches} emulated switches, {Hosts} hosts; killed {Victim} (master of {VictimMasterships})
          every switch had a live master again (etcd) after {TimeToMaster.TotalMilliseconds:0} ms; in every switch's role table after {TimeToSwitchMaster.TotalMilliseconds:0} ms
          load: {Acknowledged} groups acknowledged, {Released} released, {Kept} kept, {Unanswered} releases unanswered, {Refused} refused, {Failed} failed (the killed node)
          lost by a survivor: {Lost.Count}{(Lost.Count > 0 ? " — " + string.Join(", ", Lost.Take(10)) : "")}
          acknowledged but missing on a switch: {MissingOnSwitches.Count}{(MissingOnSwitches.Count > 0 ? " — " + string.Join(", ", MissingOnSwitches.Take(10)) : "")}
          released but left on a switch: {Leftovers.Count}{(Leftovers.Count > 0 ? " — " + string.Join(", ", Leftovers.Take(10)) : "")}
          stream: {StreamSent} datagrams, members received [{string.Join(", ", StreamToMembers)}], others {StreamToOthers}
          load average: {Load}
          {(Passed ? "PASS" : "FAIL")}
        """);
}

/// <summary>
/// Issue 12's failover run on emulated switches: an etcd (private unless given), <see cref="ClusterFailoverOptions.Nodes"/>
/// <c>tsm serve --openflow --cluster</c> processes, and an emulated OpenFlow fabric whose every switch connects to every
/// node (roles as Open vSwitch keeps them). Groups are created through every node; while clients create and release
/// through every node and a host streams to a live group through the emulated data plane, the node mastering the most
/// switches is killed with SIGKILL. Measured: the time until every switch has a live master again (in etcd, and in the
/// switches' own role tables). Checked afterwards: every acknowledged, unreleased group is listed by every survivor and
/// installed with its ports on each of its switches (read from the emulated switches' tables), released ones are gone,
/// and every datagram of the stream reached exactly the group's members.
/// </summary>
public static class ClusterFailoverRun
{
    private const string Reference = "239.1.0.1";

    public static async Task<ClusterFailoverReport> RunAsync(ClusterFailoverOptions o, TextWriter log, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(o);
        if (o.Nodes < 2) throw new ArgumentException("A cluster needs at least 2 nodes.", nameof(o));
        // A private etcd (Debian's etcd-server) per run: the nodes' keys start empty.
        await using var etcd = await PrivateEtcd.StartAsync(cancellationToken).ConfigureAwait(false);
        string etcdUrl = etcd.ClientUrl;
        const string prefix = "/tsm";
        var nodes = new List<NodeProcess>();
        EmulatedFabric? fabric = null;
        OpenFlowFabric? switches = null;
        using var sessionStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task? session = null;
        try
        {
            for (int i = 1; i <= o.Nodes; i++)
                nodes.Add(await NodeProcess.StartAsync($"n{i}", etcdUrl, o.NodeTtlSeconds, o.NodeLogDirectory, cancellationToken).ConfigureAwait(false));
            log.WriteLine($"{o.Nodes} nodes up: {string.Join(", ", nodes.Select(n => $"{n.Name} api {n.Api} openflow {n.OpenFlow}"))}");
            var http = nodes.Select(n => new HttpClient { BaseAddress = n.Api, Timeout = TimeSpan.FromSeconds(30) }).ToList();

            fabric = new EmulatedFabric(FabricSpec.Parse(o.Fabric, vlan: 0, ipv6: false));
            var watch = Stopwatch.StartNew();
            switches = await OpenFlowFabric.ConnectAsync(fabric, [.. nodes.Select(n => n.OpenFlow)],
                new OpenFlowFabricOptions { ConnectTimeout = TimeSpan.FromSeconds(30) }, cancellationToken).ConfigureAwait(false);
            log.WriteLine($"{fabric.Switches.Count} emulated switches connected to every node in {watch.Elapsed.TotalSeconds:0.0} s");
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            session = OpenFlowFabricSession.RunAsync(switches, new OpenFlowFabricSessionOptions
                {
                    Group = IpAddress.Parse(Reference),
                    SettleTimeout = o.SettleTimeout,
                    // Hosts report again as a querier with a short interval would make them: a node that was not yet taking
                    // packet-ins as a slave when the first reports came (or whose packet-ins were dropped under load) learns
                    // the joins within seconds, not after the emulator's 60 s default (66 s and >120 s learning times, 2026-12-02).
                    RejoinInterval = TimeSpan.FromSeconds(3),
                },
                new Events(ready), cancellationToken: sessionStop.Token);
            await Task.WhenAny(ready.Task, session).ConfigureAwait(false);
            if (session.IsFaulted) await session.ConfigureAwait(false);
            var ids = fabric.Switches.Select(OpenFlowFabric.SwitchIdOf).ToList();
            int leaves = fabric.Hosts.Select(h => h.Switch).Distinct().Count();
            await UntilAsync(async () => (await MastersAsync(etcdUrl, prefix).ConfigureAwait(false)).Count == ids.Count, "a master for every switch", o.SettleTimeout, cancellationToken).ConfigureAwait(false);
            int polls = 0;
            for (int n = 0; n < nodes.Count; n++)
            {
                var client = http[n];
                await UntilAsync(async () =>
                {
                    // Hosts announce themselves again now and then, as ARP refreshes do: a node that was not yet taking
                    // packet-ins as a slave (its SET_ASYNC still in flight) when the first announcements came learns them now.
                    if (++polls % 20 == 0) fabric.Announce();
                    var t = await GetJsonAsync(client, "api/v1/topology").ConfigureAwait(false);
                    var r = await GetJsonAsync(client, "api/v1/reference-groups").ConfigureAwait(false);
                    // Every switch and the joins everywhere; hosts: most of them (a create ignores a member its node has not
                    // located, so it only shrinks the group — the checks below read what each group really got).
                    return t.GetProperty("switches").GetArrayLength() == ids.Count && t.GetProperty("hosts").GetArrayLength() * 2 >= fabric.Hosts.Count
                        && r.EnumerateArray().Any(g => g.GetProperty("group").GetString() == Reference && g.GetProperty("switches").GetArrayLength() >= leaves);
                }, $"node {nodes[n].Name} to learn the fabric and the joins", o.SettleTimeout, cancellationToken).ConfigureAwait(false);
                log.WriteLine($"node {nodes[n].Name} learned the fabric and the joins {watch.Elapsed.TotalSeconds:0.0} s after connecting");
            }
            var known = new List<int>();
            foreach (var client in http) known.Add((await GetJsonAsync(client, "api/v1/topology").ConfigureAwait(false)).GetProperty("hosts").GetArrayLength());
            log.WriteLine($"every node learned {ids.Count} switches and the joins {watch.Elapsed.TotalSeconds:0.0} s after connecting; hosts located per node: {string.Join(", ", known)} of {fabric.Hosts.Count}");

            // Groups through every node; the first carries the stream.
            var random = new Random(12);
            var hosts = fabric.Hosts;
            var made = new List<JsonElement>();
            int retries = 0;
            for (int n = 0; n < nodes.Count; n++)
                for (int k = 0; k < o.GroupsPerNode; k++)
                {
                    var (g, problem) = await TryCreateAsync(http[n], PickMembers(random, hosts, 3), cancellationToken).ConfigureAwait(false);
                    made.Add(g ?? throw new InvalidOperationException($"create through {nodes[n].Name} failed: {problem}"));
                    if (n == 0 && k == 0 && g.Value.GetProperty("effective").GetArrayLength() == 0 && ++retries < 50) { made.RemoveAt(0); k--; } // the stream needs members
                }
            var live = made[0];
            var liveAddress = IpAddress.Parse(live.GetProperty("group").GetString()!);
            var members = live.GetProperty("effective").EnumerateArray().Select(m => m.GetString()!).ToHashSet(StringComparer.Ordinal);
            var memberHosts = hosts.Where(h => members.Contains(h.Ipv4.ToString())).Select(h => h.Index).ToList();
            var sender = hosts.First(h => !members.Contains(h.Ipv4.ToString()));

            // The stream: one datagram per interval through the emulated data plane, counted per host.
            var perHost = new long[hosts.Count];
            int sent = 0;
            using var stopStream = new CancellationTokenSource();
            var stream = Task.Run(async () =>
            {
                byte[] payload = Encoding.ASCII.GetBytes("failover");
                using var tick = new PeriodicTimer(o.StreamInterval);
                while (!stopStream.IsCancellationRequested && sent < 1_000_000)
                {
                    var report = fabric.SendUdp(sender, liveAddress, payload);
                    sent++;
                    for (int i = 0; i < report.FramesPerHost.Length; i++) perHost[i] += report.FramesPerHost[i];
                    try { await tick.WaitForNextTickAsync(stopStream.Token).ConfigureAwait(false); }
                    catch (OperationCanceledException) { break; }
                }
            }, CancellationToken.None);

            // The load.
            var acknowledged = new ConcurrentDictionary<string, JsonElement>();
            foreach (var g in made) acknowledged[g.GetProperty("id").GetString()!] = g;
            var released = new ConcurrentDictionary<string, bool>();
            var uncertain = new ConcurrentDictionary<string, bool>();
            int refused = 0, failed = 0;
            int victimIndex = -1;
            using var stopLoad = new CancellationTokenSource();
            var load = Enumerable.Range(0, o.Clients).Select(c => Task.Run(async () =>
            {
                var rnd = new Random(100 + c);
                for (int round = 0; round < 100_000 && !stopLoad.IsCancellationRequested; round++)
                {
                    int n = rnd.Next(nodes.Count);
                    if (n == Volatile.Read(ref victimIndex)) continue; // clients move off a node once they know it died
                    try
                    {
                        var (g, _) = await TryCreateAsync(http[n], PickMembers(rnd, hosts, 1 + rnd.Next(4)), CancellationToken.None).ConfigureAwait(false);
                        if (g is null) { Interlocked.Increment(ref refused); continue; }
                        string id = g.Value.GetProperty("id").GetString()!;
                        acknowledged[id] = g.Value;
                        if (rnd.Next(2) == 0)
                        {
                            uncertain[id] = true;
                            using var d = await http[rnd.Next(nodes.Count)].DeleteAsync($"api/v1/groups/{Uri.EscapeDataString(id)}").ConfigureAwait(false);
                            if (d.StatusCode == HttpStatusCode.NoContent) released[id] = true;
                            if (d.IsSuccessStatusCode || (int)d.StatusCode < 500) uncertain.TryRemove(id, out _);
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { Interlocked.Increment(ref failed); }
                }
            }, CancellationToken.None)).ToList();

            await Task.Delay(o.Before, cancellationToken).ConfigureAwait(false);
            var masters = await MastersAsync(etcdUrl, prefix).ConfigureAwait(false);
            string victim = masters.Values.GroupBy(v => v).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
            int index = nodes.FindIndex(n => n.Name == victim);
            int victimMasterships = masters.Count(m => m.Value == victim);
            var victimEndpoint = nodes[index].OpenFlow;
            log.WriteLine($"killing {victim} (SIGKILL), master of {victimMasterships} of {ids.Count} switches, {acknowledged.Count} groups acknowledged so far");
            var killed = Stopwatch.StartNew();
            nodes[index].Kill();
            Volatile.Write(ref victimIndex, index);
            TimeSpan toEtcd = TimeSpan.Zero, toSwitches = TimeSpan.Zero;
            var agents = fabric.Switches.Select(switches.Agent).ToList();
            for (int i = 0; i < 100_000 && (toEtcd == TimeSpan.Zero || toSwitches == TimeSpan.Zero); i++)
            {
                if (killed.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException("60 s after the kill, some switch still has no live master");
                if (toSwitches == TimeSpan.Zero && agents.All(a => a.Controllers.Any(c => c.Role == ControllerRole.Master && !victimEndpoint.Equals(c.Controller))))
                    toSwitches = killed.Elapsed;
                if (toEtcd == TimeSpan.Zero)
                {
                    var now = await MastersAsync(etcdUrl, prefix).ConfigureAwait(false);
                    if (ids.All(s => now.TryGetValue(s, out var who) && who != victim)) toEtcd = killed.Elapsed;
                }
                await Task.Delay(5, cancellationToken).ConfigureAwait(false);
            }
            log.WriteLine($"every switch had a live master again after {toEtcd.TotalMilliseconds:0} ms (etcd), {toSwitches.TotalMilliseconds:0} ms (the switches' role tables)");

            await Task.Delay(o.After, cancellationToken).ConfigureAwait(false);
            await stopLoad.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(load).ConfigureAwait(false);
            await stopStream.CancelAsync().ConfigureAwait(false);
            await stream.ConfigureAwait(false);

            // Every kept acknowledged group: listed by every survivor, and on each of its switches with its ports.
            var kept = acknowledged.Where(a => !released.ContainsKey(a.Key) && !uncertain.ContainsKey(a.Key)).ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
            var lost = new List<string>();
            Dictionary<string, JsonElement>? listedBySurvivor = null;
            for (int n = 0; n < nodes.Count; n++)
            {
                if (n == index) continue;
                var all = await ListAllAsync(http[n]).ConfigureAwait(false);
                listedBySurvivor ??= all;
                foreach (var id in kept.Keys) if (!all.ContainsKey(id)) lost.Add($"{id} (by {nodes[n].Name})");
            }
            using var gids = new OpenFlowSouthbound(new OpenFlowListener(new IPEndPoint(IPAddress.Loopback, 0)));
            var byId = fabric.Switches.ToDictionary(OpenFlowFabric.SwitchIdOf, switches.Agent, StringComparer.Ordinal);
            var missing = new List<string>();
            foreach (var (id, answered) in kept)
            {
                // The group as a survivor holds it now: a topology or membership change may have re-planned its ports since the create.
                var g = listedBySurvivor is not null && listedBySurvivor.TryGetValue(id, out var current) ? current : answered;
                uint gid = gids.GroupIdFor(default, IpAddress.Parse(g.GetProperty("group").GetString()!));
                foreach (var sw in g.GetProperty("switches").EnumerateArray())
                {
                    string swId = sw.GetProperty("id").GetString()!;
                    var want = sw.GetProperty("ports").EnumerateArray().Select(p => p.GetUInt32()).Order().ToList();
                    var agent = byId[swId];
                    string? why = !agent.Groups.TryGetValue(gid, out var held) ? "no group"
                        : held.Buckets.SelectMany(b => b.Actions).OfType<OutputAction>().Select(a => a.Port).Order().ToList() is var got && !got.SequenceEqual(want)
                            ? $"ports {string.Join(' ', got)}, want {string.Join(' ', want)}"
                        : !agent.Flows.Any(f => f.Cookie == gids.CookieFor(gid)) ? "no flow" : null;
                    if (why is not null) missing.Add($"{id} on {swId} ({why})");
                }
            }
            var liveAddresses = kept.Values.Select(g => g.GetProperty("group").GetString()!).ToHashSet(StringComparer.Ordinal);
            var leftovers = new List<string>();
            foreach (var id in released.Keys)
            {
                string address = acknowledged[id].GetProperty("group").GetString()!;
                if (liveAddresses.Contains(address) || uncertain.Keys.Any(u => acknowledged[u].GetProperty("group").GetString() == address)) continue;
                if (listedBySurvivor is not null && (await GetJsonAsync(http[(index + 1) % nodes.Count], "api/v1/groups?limit=1000").ConfigureAwait(false))
                    .EnumerateArray().Any(g => g.GetProperty("group").GetString() == address)) continue; // held by a group whose answer was lost
                uint gid = gids.GroupIdFor(default, IpAddress.Parse(address));
                foreach (var (swId, agent) in byId)
                    if (agent.Groups.ContainsKey(gid)) leftovers.Add($"{id} on {swId}");
            }
            foreach (var h in http) h.Dispose();
            return new ClusterFailoverReport
            {
                Switches = ids.Count,
                Hosts = hosts.Count,
                Victim = victim,
                VictimMasterships = victimMasterships,
                TimeToMaster = toEtcd,
                TimeToSwitchMaster = toSwitches,
                Acknowledged = acknowledged.Count,
                Released = released.Count,
                Kept = kept.Count,
                Unanswered = uncertain.Count,
                Refused = refused,
                Failed = failed,
                Lost = lost,
                MissingOnSwitches = missing,
                Leftovers = leftovers,
                StreamSent = sent,
                StreamToMembers = [.. memberHosts.Select(i => (int)perHost[i])],
                StreamToOthers = (int)Enumerable.Range(0, hosts.Count).Where(i => !memberHosts.Contains(i)).Sum(i => perHost[i]),
                Load = LoadAverage(),
            };
        }
        finally
        {
            await sessionStop.CancelAsync().ConfigureAwait(false);
            if (session is not null) { try { await session.ConfigureAwait(false); } catch (Exception e) when (e is OperationCanceledException or TimeoutException) { } }
            if (switches is not null) await switches.DisposeAsync().ConfigureAwait(false);
            foreach (var n in nodes) n.Dispose();
        }
    }

    private static string[] PickMembers(Random random, IReadOnlyList<EmulatedHost> hosts, int count) =>
        [.. Enumerable.Range(0, count).Select(_ => random.Next(hosts.Count)).Distinct().Select(i => hosts[i].Ipv4.ToString())];

    private static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Trim(); }
        catch (IOException) { return "?"; }
    }

    private static async Task<(JsonElement? Group, string? Problem)> TryCreateAsync(HttpClient http, string[] members, CancellationToken ct)
    {
        using var r = await http.PostAsJsonAsync("api/v1/groups", new { vlan = 0, reference = Reference, members, ttlMs = 600_000 }, ct).ConfigureAwait(false);
        var body = await r.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (r.StatusCode == HttpStatusCode.Created) return (JsonDocument.Parse(body).RootElement.Clone(), null);
        return (null, $"{(int)r.StatusCode} {body[..Math.Min(300, body.Length)]}");
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, string path) =>
        JsonDocument.Parse(await http.GetStringAsync(path).ConfigureAwait(false)).RootElement.Clone();

    private static async Task<Dictionary<string, JsonElement>> ListAllAsync(HttpClient http)
    {
        var ids = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        string? after = null;
        for (int page = 0; page < 10_000; page++)
        {
            var list = await GetJsonAsync(http, $"api/v1/groups?limit=1000{(after is null ? "" : "&after=" + Uri.EscapeDataString(after))}").ConfigureAwait(false);
            int n = 0;
            foreach (var g in list.EnumerateArray()) { after = g.GetProperty("id").GetString(); ids[after!] = g; n++; }
            if (n < 1000) break;
        }
        return ids;
    }

    /// <summary>masters/{switch} → node, read from etcd's JSON gateway.</summary>
    private static async Task<Dictionary<string, string>> MastersAsync(string etcd, string prefix)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        string key = prefix + "/masters/";
        var end = Encoding.UTF8.GetBytes(key);
        end[^1]++;
        using var r = await http.PostAsJsonAsync($"{etcd}/v3/kv/range",
            new { key = Convert.ToBase64String(Encoding.UTF8.GetBytes(key)), range_end = Convert.ToBase64String(end) }).ConfigureAwait(false);
        var body = JsonDocument.Parse(await r.Content.ReadAsStringAsync().ConfigureAwait(false)).RootElement;
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!body.TryGetProperty("kvs", out var kvs)) return result;
        foreach (var kv in kvs.EnumerateArray())
        {
            string k = Encoding.UTF8.GetString(Convert.FromBase64String(kv.GetProperty("key").GetString()!));
            result[k[key.Length..]] = Encoding.UTF8.GetString(Convert.FromBase64String(kv.GetProperty("value").GetString()!));
        }
        return result;
    }

    private static async Task UntilAsync(Func<Task<bool>> done, string what, TimeSpan timeout, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < 1_000_000; i++)
        {
            try { if (await done().ConfigureAwait(false)) return; }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException) { }
            if (watch.Elapsed > timeout) throw new TimeoutException($"timed out after {timeout.TotalSeconds:0} s waiting for {what}");
            await Task.Delay(100, ct).ConfigureAwait(false);
        }
    }

    private sealed class Events(TaskCompletionSource ready) : IOpenFlowFabricEvents
    {
        public void ControllerReady(bool ok, int puntingSwitches, bool probedEveryLink, TimeSpan waited) { }
        public void Joined(int hosts, IpAddress group, long packetInsSent, long packetInsDropped) => ready.TrySetResult();
        public void Reconnected(SubsetMulticast.Emulator.Switching.EmulatedSwitch sw) { }
    }

    /// <summary>One <c>tsm serve --cluster</c> child process (this program), stopped by its handle.</summary>
    private sealed class NodeProcess : IDisposable
    {
        private readonly Process _process;

        private NodeProcess(string name, Process process, Uri api, IPEndPoint openFlow)
        {
            Name = name;
            _process = process;
            Api = api;
            OpenFlow = openFlow;
        }

        public string Name { get; }
        public Uri Api { get; }
        public IPEndPoint OpenFlow { get; }

        public static async Task<NodeProcess> StartAsync(string name, string etcd, int ttl, string? logs, CancellationToken ct)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add(typeof(Program).Assembly.Location);
            foreach (var a in (string[])["serve", "--openflow", "127.0.0.1:0", "--api", "http://127.0.0.1:0", .. logs is null ? ["--quiet"] : Array.Empty<string>(), "--lldp-interval", "1",
                "--cluster", $"etcd={etcd}", "--node-id", name, "--node-ttl", ttl.ToString(CultureInfo.InvariantCulture)])
                psi.ArgumentList.Add(a);
            var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start tsm serve");
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(60));
                string? api = null, of = null;
                for (int i = 0; i < 40 && (api is null || of is null); i++)
                {
                    var line = await p.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false)
                        ?? throw new InvalidOperationException($"tsm serve exited: {await p.StandardError.ReadToEndAsync(timeout.Token).ConfigureAwait(false)}");
                    var t = line.Trim();
                    if (t.StartsWith("api ", StringComparison.Ordinal)) api = t[3..].Trim().Replace("api/v1/groups", "", StringComparison.Ordinal);
                    if (t.StartsWith("openflow ", StringComparison.Ordinal)) of = t[8..].Trim();
                }
                if (api is null || of is null) throw new InvalidOperationException("tsm serve printed no api/openflow address");
                if (logs is null)
                {
                    _ = p.StandardOutput.ReadToEndAsync(CancellationToken.None);
                    _ = p.StandardError.ReadToEndAsync(CancellationToken.None);
                }
                else
                {
                    Directory.CreateDirectory(logs);
                    var file = new StreamWriter(Path.Combine(logs, $"{name}.log")) { AutoFlush = true };
                    _ = Task.Run(async () => { while (await p.StandardOutput.ReadLineAsync(CancellationToken.None).ConfigureAwait(false) is { } l) lock (file) file.WriteLine(l); }, CancellationToken.None);
                    _ = Task.Run(async () => { while (await p.StandardError.ReadLineAsync(CancellationToken.None).ConfigureAwait(false) is { } l) lock (file) file.WriteLine(l); }, CancellationToken.None);
                }
                return new NodeProcess(name, p, new Uri(api), IPEndPoint.Parse(of));
            }
            catch
            {
                p.Kill(entireProcessTree: true);
                p.Dispose();
                throw;
            }
        }

        /// <summary>SIGKILL: no clean shutdown, no lease revoked — the node simply vanishes.</summary>
        public void Kill()
        {
            try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        }

        public void Dispose()
        {
            Kill();
            try { _process.WaitForExit(10_000); } catch (InvalidOperationException) { }
            _process.Dispose();
        }
    }

    /// <summary>A private etcd member (Debian's etcd-server): its own directory and loopback ports; killed by pid and removed.</summary>
    private sealed class PrivateEtcd : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly string _dir;

        private PrivateEtcd(Process process, string dir, string url)
        {
            _process = process;
            _dir = dir;
            ClientUrl = url;
        }

        public string ClientUrl { get; }

        public static async Task<PrivateEtcd> StartAsync(CancellationToken ct)
        {
            string etcd = new[] { "/usr/bin/etcd", "/usr/local/bin/etcd" }.FirstOrDefault(File.Exists)
                ?? throw new InvalidOperationException("etcd is not installed: apt-get install etcd-server");
            string dir = Directory.CreateTempSubdirectory("tsm-failover-etcd-").FullName;
            int client = FreePort(), peer = FreePort();
            string url = $"http://127.0.0.1:{client}", peerUrl = $"http://127.0.0.1:{peer}";
            var psi = new ProcessStartInfo(etcd) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            // A 500 ms election timeout lets etcd grant 1 s leases.
            foreach (var a in (string[])["--name", "f", "--data-dir", Path.Combine(dir, "data"), "--listen-client-urls", url, "--advertise-client-urls", url,
                "--listen-peer-urls", peerUrl, "--initial-advertise-peer-urls", peerUrl, "--initial-cluster", $"f={peerUrl}", "--log-level", "warn",
                "--heartbeat-interval", "50", "--election-timeout", "500"])
                psi.ArgumentList.Add(a);
            var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start etcd");
            _ = p.StandardOutput.ReadToEndAsync(CancellationToken.None);
            _ = p.StandardError.ReadToEndAsync(CancellationToken.None);
            var server = new PrivateEtcd(p, dir, url);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
            for (int i = 0; i < 200; i++)
            {
                if (p.HasExited) break;
                try { if ((await http.GetStringAsync($"{url}/health", ct).ConfigureAwait(false)).Contains("\"true\"", StringComparison.Ordinal)) return server; }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
                await Task.Delay(100, ct).ConfigureAwait(false);
            }
            await server.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException("etcd did not become healthy");
        }

        private static int FreePort()
        {
            using var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            return ((IPEndPoint)l.LocalEndpoint).Port;
        }

        public async ValueTask DisposeAsync()
        {
            try { if (!_process.HasExited) _process.Kill(); } catch (InvalidOperationException) { }
            try { await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false); } catch (TimeoutException) { }
            _process.Dispose();
            try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
        }
    }
}
