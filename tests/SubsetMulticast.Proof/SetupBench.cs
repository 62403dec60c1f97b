using System.Net;
using System.Text.Json;

namespace SubsetMulticast.Proof;

/// <summary>One path's setup trials: decision → all 3 targets hold the first datagram (kernel receive timestamps).</summary>
internal sealed class SetupRow(string path, string config)
{
    public string Path { get; } = path;
    public string Config { get; } = config;
    public int Warmup { get; set; }
    public List<double> SetupMs { get; } = [];
    /// <summary>Ours: POST → 201; IGMP: decision → all three acknowledged their join.</summary>
    public List<double> ControlMs { get; } = [];
    public List<double> ControllerMs { get; } = [];
    public List<int> ExcessHosts { get; } = [];
    public long ExcessDatagrams { get; set; }
    public List<double> JoinToReportMs { get; } = [];
    public int Failed { get; set; }

    /// <summary>Ours: the controller's Server-Timing hops per trial (plan, submit, write, barrier, switch, total; ms) and msgs (count).</summary>
    public Dictionary<string, List<double>> ServerHops { get; } = [];
    /// <summary>Ours: POST → 201 minus the controller's own total (HTTP client, loopback TCP, Kestrel before and after the handler).</summary>
    public List<double> RestMs { get; } = [];
    /// <summary>Answer (or the IGMP acknowledgements) → the first probe on the sender's wire.</summary>
    public List<double> ToFirstSendMs { get; } = [];
    /// <summary>The slowest target's first probe: sender's wire → its wire (a new flow: an upcall on each bridge).</summary>
    public List<double> FirstTransitMs { get; } = [];
    /// <summary>A probe sent once every target had one: sender's wire → the slowest target's wire (datapath flows cached).</summary>
    public List<double> WarmTransitMs { get; } = [];
    /// <summary>The first probe on the sender's wire → the slowest target's first arrival: the first transit plus any probes lost before the rules took effect.</summary>
    public List<double> FirstSendToAllMs { get; } = [];
    /// <summary>Probes sent before the one that reached the slowest target first (0: the first probe reached all three).</summary>
    public List<double> ProbesMissed { get; } = [];
    /// <summary>Ours: the controller's own share of a trial, its total minus the switches' barrier wait (written → last reply).</summary>
    public List<double> ControllerOwnMs { get; } = [];
    /// <summary>Per trial, first transit − warm transit: what a new flow's first packet costs (upcalls) over a cached one.</summary>
    public List<double> UpcallMs { get; } = [];
    /// <summary>IGMP: per trial, the slowest target's join → its own report on the wire (the host kernel's report delay).</summary>
    public List<double> ReportDelayMs { get; } = [];
    /// <summary>
    /// Per trial, decision → all received minus what is measured separately: ours, the controller's own share, the
    /// switches' barrier and the upcall share; IGMP, the kernel's report delay and the upcall share. What is left is
    /// the client path (HTTP client, loopback, Kestrel outside the pipeline), answer → first probe, the warm transit.
    /// </summary>
    public List<double> RemainderMs { get; } = [];
    /// <summary>/proc/loadavg when this path's trials began.</summary>
    public string Load { get; set; } = "";

    public void AddHop(string name, double ms)
    {
        if (!ServerHops.TryGetValue(name, out var list)) ServerHops[name] = list = [];
        list.Add(ms);
    }
}

/// <summary>One path's teardown trials: decision → the last datagram any target received, while the sender keeps sending.</summary>
internal sealed class TeardownRow(string path, string config)
{
    public string Path { get; } = path;
    public string Config { get; } = config;
    /// <summary>NaN: delivery to the targets did not stop within the cap.</summary>
    public List<double> StopMs { get; } = [];
    /// <summary>Decision → first datagram to a non-target (the entry is gone and the group is flooded as unregistered); NaN if none.</summary>
    public List<double> FloodMs { get; } = [];
    public List<double> ReturnMs { get; } = [];
    public List<int> LateAfterReturn { get; } = [];
    public double CapMs { get; set; }
    public int Failed { get; set; }
}

/// <summary>
/// The setup and teardown trials. Taps on every host (AF_PACKET, never joined) time the probes; the sender is host
/// 0. Targets are 3 of the receivers drawn with a fixed seed, the same sequence for every path.
/// </summary>
internal sealed class SetupBench : IDisposable
{
    private readonly Testbed _bed;
    private readonly Watch _watch;
    private readonly List<Tap> _taps = [];
    private readonly List<Agent> _agents = [];
    private readonly Sender _sender;
    private readonly long[] _joinedAt;
    private readonly Action<string> _log;

    public SetupBench(Testbed bed, Action<string> log)
    {
        _bed = bed;
        _log = log;
        _watch = new Watch(bed.Hosts);
        _joinedAt = new long[bed.Hosts];
        for (int h = 0; h < bed.Hosts; h++) _taps.Add(new Tap(bed.Ns(h), bed.Inner(h), h, _watch));
        _sender = new Sender(bed);
        for (int h = 1; h < bed.Hosts; h++) _agents.Add(new Agent(bed, h, _watch, _joinedAt));
    }

    public static List<int[]> Targets(int receivers, int trials, int seed = 9)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, trials).Select(_ => Enumerable.Range(1, receivers).OrderBy(_ => rng.Next()).Take(3).Order().ToArray()).ToList();
    }

    /// <summary>A fresh group per trial, clear of the addresses whose MAC aliases link-local 224.0.0.x.</summary>
    private static IPAddress GroupFor(int trial) => new([239, 100, (byte)(1 + trial / 250 % 250), (byte)(1 + trial % 250)]);

    private int _trialBase;

    // ---------------------------------------------------------------- IGMP path

    public (SetupRow Setup, TeardownRow Teardown) RunIgmp(string path, string config, int warmup, int trials, int teardownTrials, bool floods, double quietMs, double capMs)
    {
        var row = new SetupRow(path, config) { Warmup = warmup, Load = ProofRun.LoadAverage() };
        var down = new TeardownRow(path, config) { CapMs = capMs };
        var targets = Targets(_bed.Receivers, warmup + trials);
        int b = _trialBase;
        _trialBase += 10_000;
        for (int i = 0; i < warmup + trials; i++)
        {
            int trial = b + i;
            var group = GroupFor(trial);
            var t = targets[i];
            _watch.Reset(trial);
            long t0 = Native.NowNs();
            if (!_sender.Tell(_bed, t, 'J', group, trial)) { if (i >= warmup) row.Failed++; _log($"  trial {i}: a join was not acknowledged within 2 s"); _sender.Tell(_bed, t, 'L', group, trial); continue; }
            long acked = Native.NowNs();
            bool all = SendUntilAll(group, trial, t, 3_000);
            if (all) SendWarm(group, trial, t);
            Native.usleep(2000); // flooded copies to non-targets land within microseconds; 2 ms is plenty
            if (!all) { if (i >= warmup) row.Failed++; _log($"  trial {i}{(i < warmup ? " (warm-up)" : "")}: targets [{string.Join(',', t)}] did not all receive within 3 s (got: [{string.Join(',', t.Where(h => _watch.First[h] > 0))}])"); }
            else if (i >= warmup)
            {
                row.SetupMs.Add(Ms(_watch.MaxFirst(t) - t0));
                row.ControlMs.Add(Ms(acked - t0));
                CountExcess(row, t);
                foreach (int h in t) if (_watch.IgmpOut[h] > 0) row.JoinToReportMs.Add(Ms(_watch.IgmpOut[h] - _joinedAt[h]));
                int upcalls = row.UpcallMs.Count;
                RecordTransits(row, t, acked);
                if (t.All(h => _watch.IgmpOut[h] > 0))
                {
                    double report = t.Max(h => Ms(_watch.IgmpOut[h] - _joinedAt[h]));
                    row.ReportDelayMs.Add(report);
                    if (row.UpcallMs.Count > upcalls) row.RemainderMs.Add(row.SetupMs[^1] - report - row.UpcallMs[^1]);
                }
            }
            if (all && i >= warmup && i - warmup < teardownTrials) TeardownIgmp(down, trial + 5_000, group, t, floods, quietMs, capMs);
            else _sender.Tell(_bed, t, 'L', group, trial);
            if ((i + 1) % 50 == 0) _log($"  {path}: {i + 1}/{warmup + trials} trials");
        }
        return (row, down);
    }

    private void TeardownIgmp(TeardownRow row, int trial, IPAddress group, int[] t, bool floods, double quietMs, double capMs)
    {
        _watch.Reset(trial);
        using (_sender.Stream(group, trial))
        {
            if (!WaitAll(t, 1_000)) { row.Failed++; _sender.Tell(_bed, t, 'L', group, trial); return; }
            long t0 = Native.NowNs();
            _sender.Tell(_bed, t, 'L', group, trial);
            long ret = Native.NowNs();
            var (stop, flood) = WaitStopped(t, t0, ret, floods, quietMs, capMs);
            row.StopMs.Add(stop);
            row.FloodMs.Add(flood);
            row.ReturnMs.Add(Ms(ret - t0));
            row.LateAfterReturn.Add(t.Sum(h => Arrivals(h, ret)));
        }
    }

    // ---------------------------------------------------------------- ours

    /// <param name="setupMode">The create's <c>setup</c> field (issue 14): confirmed, optimistic or persistent.</param>
    /// <param name="deleteQuery">Appended to DELETE: "" (answer after the barriers) or "?wait=stopped" (answer once delivery has stopped).</param>
    /// <param name="push">Create (and release) with the draft's binary push instruction over UDP instead of REST: the ack comes after every switch confirmed; null: REST.</param>
    /// <param name="into">Add the trials to this row (a later batch of modes measured in turns); null: a new row.</param>
    /// <param name="offset">Where in the fixed target sequence this batch starts.</param>
    public async Task<(SetupRow Setup, TeardownRow Teardown)> RunOursAsync(HttpClient http, string path, string config, string setupMode, string deleteQuery, int warmup, int trials, int teardownTrials, double quietMs, double capMs,
        PushClient? push = null, SetupRow? into = null, int offset = 0)
    {
        bool persistent = setupMode == "persistent";
        var row = into ?? new SetupRow(path, config) { Warmup = warmup, Load = ProofRun.LoadAverage() };
        var down = new TeardownRow(path, config) { CapMs = capMs };
        // offset: a later batch of the same path (interleaved with other modes) takes the next targets of the sequence.
        var targets = Targets(_bed.Receivers, offset + warmup + trials);
        int b = _trialBase;
        _trialBase += 10_000;
        for (int i = 0; i < warmup + trials; i++)
        {
            int trial = b + i;
            var t = targets[offset + i];
            _watch.Reset(trial);
            if (push is not null)
            {
                await RunPushTrialAsync(push, row, i >= warmup, trial, t);
                if ((i + 1) % 50 == 0) _log($"  {path}: {i + 1}/{warmup + trials} trials");
                continue;
            }
            long t0 = Native.NowNs();
            // Serialized up front with a Content-Length: one write for headers and body (PostAsJsonAsync streams the
            // body chunked, which Kestrel may read after the headers, one wake-up later).
            using var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(new { vlan = 0, reference = Testbed.Reference, members = t.Select(_bed.Ip).ToArray(), ttlMs = 60_000, setup = setupMode }));
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var created = await http.PostAsync("api/v1/groups", content);
            long answered = Native.NowNs();
            bool tearsDown = !persistent && i >= warmup && i - warmup < teardownTrials;
            if (created.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.OK))
            {
                if (i >= warmup) row.Failed++;
                if (tearsDown) down.Failed++; // a release trial that could not run counts against the release row too
                _log($"  POST → {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
                continue;
            }
            var body = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
            var group = IPAddress.Parse(body.GetProperty("group").GetString()!);
            string id = body.GetProperty("id").GetString()!;
            bool all = SendUntilAll(group, trial, t, 1_000);
            if (all) SendWarm(group, trial, t);
            Native.usleep(2000);
            if (!all)
            {
                if (i >= warmup) row.Failed++;
                if (tearsDown) down.Failed++;
                _log($"  trial {i}{(i < warmup ? " (warm-up)" : "")}: group {group} for [{string.Join(',', t)}] not received by all within 1 s");
            }
            else if (i >= warmup)
            {
                row.SetupMs.Add(Ms(_watch.MaxFirst(t) - t0));
                row.ControlMs.Add(Ms(answered - t0));
                if (body.TryGetProperty("setupMicros", out var sm) && sm.ValueKind == JsonValueKind.Number) row.ControllerMs.Add(sm.GetDouble() / 1000);
                double own = double.NaN, barrier = 0;
                if (created.Headers.TryGetValues("Server-Timing", out var timing))
                {
                    var hops = ParseServerTiming(string.Join(", ", timing));
                    foreach (var (name, ms) in hops) row.AddHop(name, ms);
                    if (hops.TryGetValue("total", out double total))
                    {
                        row.RestMs.Add(Ms(answered - t0) - total);
                        barrier = hops.GetValueOrDefault("barrier");
                        own = total - barrier;
                        row.ControllerOwnMs.Add(own);
                    }
                }
                int upcalls = row.UpcallMs.Count;
                RecordTransits(row, t, answered);
                if (double.IsFinite(own) && row.UpcallMs.Count > upcalls) row.RemainderMs.Add(row.SetupMs[^1] - own - barrier - row.UpcallMs[^1]);
                CountExcess(row, t);
            }
            if (persistent) { } // installed ahead and kept: nothing to release
            else if (all && i >= warmup && i - warmup < teardownTrials) await TeardownOursAsync(http, down, trial + 5_000, group, id + deleteQuery, t, quietMs, capMs);
            else using (await http.DeleteAsync($"api/v1/groups/{Uri.EscapeDataString(id)}")) { }
            if ((i + 1) % 50 == 0) _log($"  {path}: {i + 1}/{warmup + trials} trials");
        }
        return (row, down);
    }

    /// <summary>
    /// Creates and releases <paramref name="count"/> groups, nothing measured and no probes: the controller's hot path
    /// reaches the JIT's optimised tier before the first measured trial (see <see cref="ProofOptions.PreWarmCreates"/>).
    /// </summary>
    public async Task PreWarmAsync(HttpClient http, int count, PushClient? push = null)
    {
        var targets = Targets(_bed.Receivers, count, seed: 17);
        for (int i = 0; i < count; i++)
        {
            if (push is not null)
            {
                var group = push.NextGroup();
                await push.SendAsync(SubsetMulticast.Push.PushOpcode.PushMembership, group, targets[i].Select(h => IPAddress.Parse(_bed.Ip(h))).ToArray());
                await push.SendAsync(SubsetMulticast.Push.PushOpcode.Release, group, []);
                continue;
            }
            using var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(new { vlan = 0, reference = Testbed.Reference, members = targets[i].Select(_bed.Ip).ToArray(), ttlMs = 60_000, setup = "confirmed" }));
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var created = await http.PostAsync("api/v1/groups", content);
            if (!created.IsSuccessStatusCode) continue;
            string id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
            using (await http.DeleteAsync($"api/v1/groups/{Uri.EscapeDataString(id)}")) { }
        }
    }

    /// <summary>One trial over the push endpoint: PushMembership at the next address → ack (Applied) → probes; then a Release.</summary>
    private async Task RunPushTrialAsync(PushClient push, SetupRow row, bool counted, int trial, int[] t)
    {
        var members = t.Select(h => IPAddress.Parse(_bed.Ip(h))).ToArray();
        var group = push.NextGroup();
        long t0 = Native.NowNs();
        var outcome = await push.SendAsync(SubsetMulticast.Push.PushOpcode.PushMembership, group, members);
        long answered = Native.NowNs();
        if (outcome != 0)
        {
            if (counted) row.Failed++;
            _log($"  push → outcome {outcome} for {group}");
            return;
        }
        bool all = SendUntilAll(group, trial, t, 1_000);
        if (all) SendWarm(group, trial, t);
        Native.usleep(2000);
        if (!all)
        {
            if (counted) row.Failed++;
            _log($"  trial {trial}: pushed group {group} for [{string.Join(',', t)}] not received by all within 1 s");
        }
        else if (counted)
        {
            row.SetupMs.Add(Ms(_watch.MaxFirst(t) - t0));
            row.ControlMs.Add(Ms(answered - t0));
            RecordTransits(row, t, answered);
            CountExcess(row, t);
        }
        await push.SendAsync(SubsetMulticast.Push.PushOpcode.Release, group, []);
    }

    private async Task TeardownOursAsync(HttpClient http, TeardownRow row, int trial, IPAddress group, string idAndQuery, int[] t, double quietMs, double capMs)
    {
        _watch.Reset(trial);
        using (_sender.Stream(group, trial))
        {
            string id = idAndQuery.Split('?')[0], query = idAndQuery[id.Length..];
            if (!WaitAll(t, 1_000)) { row.Failed++; using (await http.DeleteAsync($"api/v1/groups/{Uri.EscapeDataString(id)}")) { } return; }
            long t0 = Native.NowNs();
            using var deleted = await http.DeleteAsync($"api/v1/groups/{Uri.EscapeDataString(id)}{query}");
            long ret = Native.NowNs();
            if (!deleted.IsSuccessStatusCode) { row.Failed++; _log($"  DELETE → {(int)deleted.StatusCode}"); return; }
            var (stop, flood) = WaitStopped(t, t0, ret, floods: false, quietMs, capMs);
            row.StopMs.Add(stop);
            row.FloodMs.Add(flood);
            row.ReturnMs.Add(Ms(ret - t0));
            // Anyone: the targets and every other receiver (the subset rule says the others never get one anyway).
            row.LateAfterReturn.Add(Enumerable.Range(1, _bed.Receivers).Sum(h => Arrivals(h, ret)));
        }
    }

    // ---------------------------------------------------------------- shared

    /// <summary>"plan;dur=0.05, write;dur=0.1" → {plan: 0.05, write: 0.1}; entries without a duration are skipped.</summary>
    public static Dictionary<string, double> ParseServerTiming(string header)
    {
        var d = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var entry in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = entry.Split(';', StringSplitOptions.TrimEntries);
            foreach (var p in parts.Skip(1))
                if (p.StartsWith("dur=", StringComparison.Ordinal) && double.TryParse(p.AsSpan(4), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double ms))
                    d[parts[0]] = ms;
        }
        return d;
    }

    /// <summary>One more probe once every target has one: its transit is the warm path's (the datapath flows exist now).</summary>
    private void SendWarm(IPAddress group, int trial, int[] t)
    {
        _watch.WarmSeq = _sender.NextSeq(trial);
        _sender.Probe(group, trial);
        long end = Native.NowNs() + 20_000_000L;
        while (Native.NowNs() < end && t.Any(h => Volatile.Read(ref _watch.WarmAt[h]) == 0)) Native.usleep(50);
    }

    /// <summary>The sender-side hops of a trial: answer → first probe on the wire, first and warm transits (slowest target).</summary>
    private void RecordTransits(SetupRow row, int[] t, long answered)
    {
        long firstSent = Volatile.Read(ref _watch.SentAt[0]);
        if (firstSent > 0) row.ToFirstSendMs.Add(Ms(firstSent - answered));
        if (t.All(h => Volatile.Read(ref _watch.First[h]) > 0))
        {
            if (firstSent > 0) row.FirstSendToAllMs.Add(Ms(_watch.MaxFirst(t) - firstSent));
            row.ProbesMissed.Add(t.Max(h => _watch.FirstSeq[h]));
        }
        long first = t.Max(_watch.FirstTransit), warm = t.Max(_watch.WarmTransit);
        if (t.All(h => _watch.FirstTransit(h) > 0)) row.FirstTransitMs.Add(Ms(first));
        if (t.All(h => _watch.WarmTransit(h) > 0)) row.WarmTransitMs.Add(Ms(warm));
        if (t.All(h => _watch.FirstTransit(h) > 0 && _watch.WarmTransit(h) > 0)) row.UpcallMs.Add(Ms(first - warm));
    }

    /// <summary>Sends the first probe at once, then one every ~0.1 ms, until every target's tap saw one (bounded).</summary>
    private bool SendUntilAll(IPAddress group, int trial, int[] t, int capMs)
    {
        long end = Native.NowNs() + capMs * 1_000_000L;
        for (int n = 0; n < 1_000_000; n++)
        {
            _sender.Probe(group, trial);
            for (int spin = 0; spin < 4; spin++)
            {
                if (_watch.AllReceived(t)) return true;
                Native.usleep(25);
            }
            if (Native.NowNs() > end) return false;
        }
        return false;
    }

    private bool WaitAll(int[] t, int capMs)
    {
        long end = Native.NowNs() + capMs * 1_000_000L;
        while (!_watch.AllReceived(t)) { if (Native.NowNs() > end) return false; Native.usleep(100); }
        return true;
    }

    /// <summary>
    /// After a release decided at <paramref name="t0"/>: waits until no target received for <paramref name="quietMs"/>
    /// (stopped: the last arrival − t0), or, where the fabric floods unregistered groups, until a non-target receives
    /// (the membership entry is gone), or the cap. Returns (stop ms or NaN, flood ms or NaN).
    /// </summary>
    private (double Stop, double Flood) WaitStopped(int[] t, long t0, long ret, bool floods, double quietMs, double capMs)
    {
        long cap = t0 + (long)(capMs * 1e6), quiet = (long)(quietMs * 1e6);
        var others = Enumerable.Range(1, _bed.Receivers).Except(t).ToArray();
        for (int i = 0; i < 10_000_000; i++)
        {
            Native.usleep(500);
            long now = Native.NowNs();
            long last = Math.Max(_watch.MaxLast(t), t0);
            long flood = others.Select(h => Volatile.Read(ref _watch.First[h])).Where(x => x > t0).DefaultIfEmpty(0).Min();
            if (floods && flood > 0) return (double.NaN, Ms(flood - t0));
            if (now - Math.Max(last, ret) > quiet) return (Ms(last - t0), flood > 0 ? Ms(flood - t0) : double.NaN);
            if (now > cap) return (double.NaN, flood > 0 ? Ms(flood - t0) : double.NaN);
        }
        return (double.NaN, double.NaN);
    }

    private int Arrivals(int host, long after)
    {
        int n = Math.Min(Volatile.Read(ref _watch.Count[host]), Watch.MaxArrivals), c = 0;
        for (int k = 0; k < n; k++) if (_watch.Arrivals[host][k] > after) c++;
        return c;
    }

    private void CountExcess(SetupRow row, int[] t)
    {
        int hosts = 0;
        for (int h = 1; h < _bed.Hosts; h++)
        {
            if (t.Contains(h)) continue;
            int c = Volatile.Read(ref _watch.Count[h]);
            if (c > 0) { hosts++; row.ExcessDatagrams += c; }
        }
        row.ExcessHosts.Add(hosts);
    }

    private static double Ms(long ns) => ns / 1e6;

    public void Dispose()
    {
        foreach (var a in _agents) a.Dispose();
        _sender.Dispose();
        foreach (var t in _taps) t.Dispose();
    }
}
