using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Controller;
using SubsetMulticast.Controller.Groups;
using SubsetMulticast.Controller.OpenFlowFabric;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Emulator;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Discovery;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.Push;
using EmulatedOpenFlowFabric = SubsetMulticast.Emulator.OpenFlow.OpenFlowFabric;

namespace SubsetMulticast.Cli.Load;

/// <summary>
/// Runs <see cref="LoadOptions.Clients"/> concurrent clients, each creating a group of random members and
/// releasing it again, against the real controller composition in this process and an emulated fabric — as
/// OpenFlow switches over TCP on loopback, or the in-process emulator. Measures cycles per second, setup and
/// release latency as the client sees them, CPU and memory; at the end compares every switch's table with
/// the controller's live groups (every acknowledged group present with its portset, every released one gone).
/// </summary>
public static class LoadRunner
{
    private static readonly IpAddress ReferenceV4 = IpAddress.Parse("239.1.0.1");
    private static readonly IpAddress ReferenceV6 = IpAddress.Parse("ff05::db8:1");
    private const ushort Vlan = 0;

    public static async Task<LoadReport> RunAsync(LoadOptions o, TextWriter log, CancellationToken cancellationToken = default)
    {
        if (o.Clients < 1 || o.Members < 1) throw new ArgumentException("Clients and members must be positive.", nameof(o));
        if (o.Path == LoadPath.Exchanges && o.Switches != LoadSwitches.OpenFlow)
            throw new ArgumentException("--path exchanges measures the round trips with OpenFlow switches: it needs --switches openflow.");
        var spec = FabricSpec.Parse(o.Fabric, vlan: Vlan, ipv6: o.Ipv6);
        // A /9 (IPv4) or /105 (IPv6) holds 2^23 addresses (one group MAC each): room for a million live groups plus the cycling ones.
        var lifecycle = new LifecycleOptions { MaxTtl = TimeSpan.FromHours(24) };
        if (o.Ipv6) lifecycle.AddVlan(Vlan, null, "ff15::/105");
        else lifecycle.AddVlan(Vlan, o.LiveGroups > 30_000 ? "239.128.0.0/9" : "239.255.0.0/16");
        if (o.HoldDown is { } hd) lifecycle.ReleaseHoldDown = hd;
        var options = new ControllerOptions
        {
            ApiUrl = "http://127.0.0.1:0",
            ApiH2cUrl = o.Path == LoadPath.Rest2 ? "http://127.0.0.1:0" : null,
            PushUdp = null,
            Lifecycle = lifecycle,
            // Errors, and the OpenFlow layer's warnings (a session closing or a handshake failing says why a switch is missing).
            ConfigureLogging = l => l.ClearProviders().AddSimpleConsole(c => c.SingleLine = true)
                .AddFilter((category, level) => level >= LogLevel.Error
                    || (level >= LogLevel.Warning && category?.StartsWith("SubsetMulticast.OpenFlow", StringComparison.Ordinal) == true)),
        };

        Bench bench = o.Switches == LoadSwitches.OpenFlow
            ? await OpenFlowBench.StartAsync(options, spec, o, log, cancellationToken).ConfigureAwait(false)
            : await EmulatorBench.StartAsync(options, spec, o).ConfigureAwait(false);
        try { return await RunOnAsync(bench, o, log, cancellationToken).ConfigureAwait(false); }
        finally
        {
            // The report is made; a switch connection failing while both ends shut down must not lose it.
            try { await bench.DisposeAsync().ConfigureAwait(false); }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or OperationCanceledException)
            { log.WriteLine($"(shutdown: {e.Message})"); }
        }
    }

    private static async Task<LoadReport> RunOnAsync(Bench bench, LoadOptions o, TextWriter log, CancellationToken cancellationToken)
    {
        var connectTime = bench.ConnectTime;
        var learnTime = bench.LearnTime;
        log.WriteLine($"fabric up: {bench.SwitchCount} switches connected in {connectTime.TotalSeconds:0.00} s, learned {learnTime.TotalSeconds:0.00} s later");

        var groups = bench.Controller.Groups;
        var hosts = bench.Hosts;
        GC.Collect();
        long heapBefore = GC.GetTotalMemory(true);
        var fillWatch = Stopwatch.StartNew();
        if (o.LiveGroups > 0)
        {
            long made = 0;
            await Parallel.ForAsync(0, o.LiveGroups, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, o.Clients), CancellationToken = cancellationToken }, async (i, ct) =>
            {
                var rnd = new Random(o.Seed * 7919 + i);
                var r = await groups.CreateAsync(new CreateGroupRequest(Vlan, ReferenceFor(o), Pick(rnd, hosts, o.Members), TimeSpan.FromHours(24)), ct).ConfigureAwait(false);
                if (!r.Succeeded) throw new InvalidOperationException($"live group {i}: {r.Problem!.Detail}");
                if (Interlocked.Increment(ref made) % 100_000 == 0) log.WriteLine($"  {made:N0} live groups");
            }).ConfigureAwait(false);
        }
        var fillTime = fillWatch.Elapsed;
        GC.Collect();
        long heapAfterFill = GC.GetTotalMemory(true);
        if (o.LiveGroups > 0) log.WriteLine($"{o.LiveGroups:N0} live groups in {fillTime.TotalSeconds:0.0} s, heap {heapBefore / 1048576.0:0} → {heapAfterFill / 1048576.0:0} MiB");

        // Persistent setup (the draft's alternate method): the hosts form negotiating groups of NegotiatingGroupSize, each with
        // every k-of-n subset installed ahead; a client then picks a negotiating group and k of its members, and its create is
        // a look-up. Nothing is released (the set stays installed): a cycle is that one create.
        IpAddress[][]? negotiating = null;
        if (o.Setup == SetupMode.Persistent)
        {
            var installWatch = Stopwatch.StartNew();
            negotiating = [.. hosts.Chunk(NegotiatingGroupSize).Where(c => c.Length == NegotiatingGroupSize)];
            if (negotiating.Length == 0 || o.Members > NegotiatingGroupSize)
                throw new ArgumentException($"--setup persistent needs at least {NegotiatingGroupSize} hosts and at most {NegotiatingGroupSize} members per group (the fabric has {hosts.Length} hosts).");
            foreach (var members in negotiating)
            {
                var made = await groups.Persistent.CreateAsync(new VlanId(Vlan), ReferenceFor(o), members, o.Members, cancellationToken).ConfigureAwait(false);
                if (!made.Succeeded) throw new InvalidOperationException($"persistent set of {string.Join(", ", members.Take(3))}…: {made.Problem!.Detail}");
            }
            log.WriteLine($"{negotiating.Length} persistent sets (every {o.Members}-of-{NegotiatingGroupSize} subset of a negotiating group) installed in {installWatch.Elapsed.TotalSeconds:0.0} s: {groups.Lifecycle.Store.Count:N0} groups");
        }

        bench.StartRefusing(o.RefuseOneIn);
        using var http = o.Path is LoadPath.Coordinator or LoadPath.Exchanges ? null
            : NewHttpClient(o.Path == LoadPath.Rest2 ? bench.Controller.ApiH2cUrl! : bench.Controller.ApiUrl, o);
        var clients = new Client[o.Clients];
        for (int i = 0; i < clients.Length; i++) clients[i] = new Client(i, o, groups, http, hosts, bench as OpenFlowBench, negotiating);
        var run = new RunState();
        var tasks = clients.Select(c => Task.Run(() => c.RunAsync(run))).ToArray();

        if (o.Warmup > TimeSpan.Zero) await Task.Delay(o.Warmup, cancellationToken).ConfigureAwait(false);
        var proc = Process.GetCurrentProcess();
        proc.Refresh();
        var cpu0 = proc.TotalProcessorTime;
        var kernel0 = proc.PrivilegedProcessorTime;
        // What the runtime spent inside the window besides our work: the JIT still tiering methods up (on a starved
        // machine it was 10-15 % of the process's CPU 30 s in), collections, and the bytes allocated per cycle.
        var jit0 = System.Runtime.JitInfo.GetCompilationTime();
        long jitMethods0 = System.Runtime.JitInfo.GetCompiledMethodCount();
        long alloc0 = GC.GetTotalAllocatedBytes();
        int gc0 = GC.CollectionCount(0), gc2 = GC.CollectionCount(2);
        // Whether a lock or the thread pool is where the time goes: contended Monitor entries (the lifecycle's lock, the
        // switch gates, the emulated agents' tables) and work items per cycle; barrier batches per cycle say how well
        // concurrent transactions to one switch share a write and a barrier.
        long contention0 = Monitor.LockContentionCount, items0 = ThreadPool.CompletedWorkItemCount, barriers0 = bench.Barriers;
        var window = Stopwatch.StartNew();
        Volatile.Write(ref run.Phase, 1);
        var deadline = DateTime.UtcNow + o.Duration;
        while (DateTime.UtcNow < deadline && !tasks.All(t => t.IsCompleted))
        {
            if (o.MaxCycles > 0 && clients.Sum(c => c.Cycles) >= o.MaxCycles) break;
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
        Volatile.Write(ref run.Phase, 2);
        var elapsed = window.Elapsed;
        proc.Refresh();
        var cpu = proc.TotalProcessorTime - cpu0;
        var kernel = proc.PrivilegedProcessorTime - kernel0;
        var jit = System.Runtime.JitInfo.GetCompilationTime() - jit0;
        long jitMethods = System.Runtime.JitInfo.GetCompiledMethodCount() - jitMethods0;
        long allocated = GC.GetTotalAllocatedBytes() - alloc0;
        int gen0 = GC.CollectionCount(0) - gc0, gen2 = GC.CollectionCount(2) - gc2;
        long contentions = Monitor.LockContentionCount - contention0, items = ThreadPool.CompletedWorkItemCount - items0, barriers = bench.Barriers - barriers0;
        await Task.WhenAll(tasks).ConfigureAwait(false);

        // Optimistic creates are confirmed (or undone) after their answer; let the last ones settle before the audit.
        await bench.QuiesceAsync(groups).ConfigureAwait(false);
        var tables = bench.CheckTables(groups, o);
        proc.Refresh();
        return new LoadReport
        {
            Options = o,
            SwitchCount = bench.SwitchCount,
            HostCount = hosts.Length,
            ConnectTime = connectTime,
            LearnTime = learnTime,
            LiveFillTime = fillTime,
            Cycles = clients.Sum(c => c.Cycles),
            Refused = clients.Sum(c => c.Refused),
            Failed = clients.Sum(c => c.Failed),
            FirstError = clients.Select(c => c.FirstError).FirstOrDefault(e => e is not null),
            Elapsed = elapsed,
            Setup = LatencyRecorder.Merge(clients.Select(c => c.SetupLatency)),
            Release = LatencyRecorder.Merge(clients.Select(c => c.ReleaseLatency)),
            CpuCores = cpu.TotalSeconds / elapsed.TotalSeconds,
            KernelCpuCores = kernel.TotalSeconds / elapsed.TotalSeconds,
            JitTime = jit,
            JitMethods = jitMethods,
            AllocatedBytes = allocated,
            Gen0Collections = gen0,
            Gen2Collections = gen2,
            LockContentions = contentions,
            WorkItems = items,
            Barriers = o.Switches == LoadSwitches.OpenFlow ? barriers : null,
            ManagedBytesBefore = heapBefore,
            ManagedBytesAfterFill = heapAfterFill,
            WorkingSetPeak = proc.PeakWorkingSet64,
            LiveAtEnd = groups.Lifecycle.Store.Count,
            Tables = tables,
        };
    }

    private static IpAddress ReferenceFor(LoadOptions o) => o.Ipv6 ? ReferenceV6 : ReferenceV4;

    /// <summary>Members of one negotiating group under <c>--setup persistent</c> (NexentaEdge's: 12; C(12,3) = 220 groups each).</summary>
    internal const int NegotiatingGroupSize = 12;

    private static IpAddress[] HostAddresses(EmulatedFabric fabric, LoadOptions o) =>
        [.. fabric.Hosts.Select(h => o.Ipv6 ? h.Ipv6 ?? throw new InvalidOperationException($"host {h.Name} has no IPv6 address") : h.Ipv4)];

    private static HttpClient NewHttpClient(Uri api, LoadOptions o)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = o.Clients,
            // h2c: the clients' requests are multiplexed as streams on one connection, a further one opened only when
            // the server's stream limit (Kestrel: 100) is reached.
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        var client = new HttpClient(handler) { BaseAddress = api, Timeout = TimeSpan.FromSeconds(30) };
        if (o.Path == LoadPath.Rest2)
        {
            client.DefaultRequestVersion = HttpVersion.Version20;
            client.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }
        return client;
    }

    internal static IpAddress[] Pick(Random rnd, IpAddress[] hosts, int k)
    {
        var members = new IpAddress[Math.Min(k, hosts.Length)];
        for (int i = 0; i < members.Length; i++)
        {
            IpAddress h;
            do h = hosts[rnd.Next(hosts.Length)]; while (Array.IndexOf(members, h, 0, i) >= 0);
            members[i] = h;
        }
        return members;
    }

    private sealed class RunState
    {
        /// <summary>0 warm-up (not recorded), 1 measuring, 2 stop.</summary>
        public int Phase;
    }

    private sealed class Client(int index, LoadOptions o, GroupCoordinator groups, HttpClient? http, IpAddress[] hosts, OpenFlowBench? switches,
        IpAddress[][]? negotiating)
    {
        private readonly Core.Planning.PlanBuffer _plan = new();
        private readonly Random _rnd = new(o.Seed * 1_000_003 + index);
        public LatencyRecorder SetupLatency { get; } = new();
        public LatencyRecorder ReleaseLatency { get; } = new();
        public long Cycles;
        public long Refused;
        public long Failed;
        public string? FirstError;

        public async Task RunAsync(RunState run)
        {
            string setup = o.Setup switch { SetupMode.Optimistic => "optimistic", SetupMode.Persistent => "persistent", _ => "confirmed" };
            while (true)
            {
                int phase = Volatile.Read(ref run.Phase);
                if (phase == 2) return;
                var members = negotiating is null ? Pick(_rnd, hosts, o.Members) : Pick(_rnd, negotiating[_rnd.Next(negotiating.Length)], o.Members);
                long t0 = Stopwatch.GetTimestamp();
                string? id;
                try
                {
                    id = o.Path == LoadPath.Exchanges ? await ExchangeAsync(members).ConfigureAwait(false)
                        : http is null ? await CreateDirectAsync(members).ConfigureAwait(false)
                        : await CreateRestAsync(members, setup).ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException)
                {
                    Fail(e.Message);
                    continue;
                }
                long t1 = Stopwatch.GetTimestamp();
                if (id is null) continue;
                if (negotiating is not null)
                {
                    // A persistent set's group stays installed: the client just uses it. The cycle is the create.
                    if (phase == 1) { SetupLatency.Add((long)Stopwatch.GetElapsedTime(t0, t1).TotalMicroseconds); Cycles++; }
                    // A look-up completes without awaiting anything: without a yield the clients would hold every pool thread
                    // and the run's own clock (a timer) would not get a turn to end the window.
                    await Task.Yield();
                    continue;
                }
                bool released;
                try
                {
                    released = o.Path == LoadPath.Exchanges ? await ExchangeAsync(members).ConfigureAwait(false) is not null
                        : http is null ? await ReleaseDirectAsync(id).ConfigureAwait(false)
                        : await ReleaseRestAsync(id).ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    Fail(e.Message);
                    continue;
                }
                long t2 = Stopwatch.GetTimestamp();
                if (phase == 1 && released)
                {
                    SetupLatency.Add((long)Stopwatch.GetElapsedTime(t0, t1).TotalMicroseconds);
                    ReleaseLatency.Add((long)Stopwatch.GetElapsedTime(t1, t2).TotalMicroseconds);
                    Cycles++;
                }
            }
        }

        private void Fail(string message)
        {
            Failed++;
            FirstError ??= message;
        }

        /// <summary><see cref="LoadPath.Exchanges"/>: the barrier round trips a create (or a release) of these members makes, nothing else.</summary>
        private async Task<string?> ExchangeAsync(IpAddress[] members)
        {
            var writes = switches!.SubmitEmpty(ReferenceFor(o), members, _plan);
            if (writes is null) { Fail("the reference group is not known, or a switch it names is not connected"); return null; }
            foreach (var w in writes)
                if ((await w.Confirmed.ConfigureAwait(false)).Count > 0) { Fail($"{w.SwitchId} sent an ERROR for a bare barrier"); return null; }
            return "";
        }

        private async Task<string?> CreateDirectAsync(IpAddress[] members)
        {
            var r = await groups.CreateAsync(new CreateGroupRequest(Vlan, ReferenceFor(o), members, TimeSpan.FromSeconds(60), null, o.Setup), default).ConfigureAwait(false);
            if (r.Succeeded && o.Setup == SetupMode.Persistent && r.Value!.Setup != SetupMode.Persistent)
            {
                FailFellBack(members);
                await groups.ReleaseAsync(r.Value.Group.Id, default).ConfigureAwait(false);
                return null;
            }
            if (r.Succeeded) return r.Value!.Group.Id;
            if (r.Problem!.Kind == ProblemKind.SouthboundFailed) Refused++;
            else Fail(r.Problem.Detail);
            return null;
        }

        private async Task<bool> ReleaseDirectAsync(string id)
        {
            var r = await groups.ReleaseAsync(id, default).ConfigureAwait(false);
            if (r.Succeeded) return true;
            // An optimistic group a switch refused after the answer is released by the controller itself.
            if (r.Problem!.Kind == ProblemKind.GroupNotFound && o.Setup == SetupMode.Optimistic) { Refused++; return false; }
            Fail(r.Problem.Detail);
            return false;
        }

        private async Task<string?> CreateRestAsync(IpAddress[] members, string setup)
        {
            var body = new StringBuilder(160).Append("{\"vlan\":0,\"reference\":\"").Append(ReferenceFor(o).ToString()).Append("\",\"members\":[");
            for (int i = 0; i < members.Length; i++) body.Append(i == 0 ? "\"" : ",\"").Append(members[i].ToString()).Append('"');
            body.Append("],\"ttlMs\":60000,\"setup\":\"").Append(setup).Append("\"}");
            using var content = new StringContent(body.ToString(), Encoding.UTF8, "application/json");
            using var response = await http!.PostAsync("api/v1/groups", content).ConfigureAwait(false);
            var bytes = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Created)
            {
                string created = StringProperty(bytes, "id") ?? throw new InvalidOperationException("201 without an id");
                if (setup == "persistent" && StringProperty(bytes, "setup") != "persistent")
                {
                    FailFellBack(members);
                    using var undo = await http.DeleteAsync($"api/v1/groups/{created}").ConfigureAwait(false);
                    return null;
                }
                return created;
            }
            if (response.StatusCode == HttpStatusCode.BadGateway) Refused++;
            else Fail($"POST {(int)response.StatusCode}: {Encoding.UTF8.GetString(bytes)}");
            return null;
        }

        private async Task<bool> ReleaseRestAsync(string id)
        {
            using var response = await http!.DeleteAsync($"api/v1/groups/{id}").ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NoContent) return true;
            if (response.StatusCode == HttpStatusCode.NotFound && o.Setup == SetupMode.Optimistic) { Refused++; return false; }
            Fail($"DELETE {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync().ConfigureAwait(false)}");
            return false;
        }

        /// <summary>The first string property called <paramref name="name"/> in a JSON answer, or null.</summary>
        private static string? StringProperty(byte[] json, string name)
        {
            var reader = new Utf8JsonReader(json);
            while (reader.Read())
                if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals(name) && reader.Read())
                    return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            return null;
        }

        /// <summary>No installed group for these members: the create was made the confirmed way, which is not what is measured.</summary>
        private void FailFellBack(IpAddress[] members) =>
            Fail($"no persistent group for {string.Join(", ", members)}: the create fell back to confirmed");
    }

    /// <summary>A controller and the switches it programs, up and learned.</summary>
    private abstract class Bench : IAsyncDisposable
    {
        public required TsmControllerHost Controller { get; init; }
        public required IpAddress[] Hosts { get; init; }
        public required int SwitchCount { get; init; }
        public required TimeSpan ConnectTime { get; init; }
        public required TimeSpan LearnTime { get; init; }

        /// <summary>Barrier batches confirmed by the switches so far (OpenFlow only).</summary>
        public long Barriers => Interlocked.Read(ref BarrierCount);
        protected long BarrierCount;
        public abstract TableCheck CheckTables(GroupCoordinator groups, LoadOptions o);

        /// <summary>From now on every switch refuses GROUP_MOD ADDs for one group id in <paramref name="oneIn"/> (the kept live groups are made first).</summary>
        public virtual void StartRefusing(int oneIn) { }
        public abstract Task QuiesceAsync(GroupCoordinator groups);
        public abstract ValueTask DisposeAsync();
    }

    private sealed class OpenFlowBench : Bench
    {
        public required OpenFlowControllerService Service { get; init; }
        public required EmulatedOpenFlowFabric Switches { get; init; }

        public static async Task<OpenFlowBench> StartAsync(ControllerOptions options, FabricSpec spec, LoadOptions o, TextWriter log, CancellationToken ct)
        {
            var service = await OpenFlowControllerService.StartAsync(new OpenFlowControllerSettings
            {
                Controller = options,
                OpenFlowEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
                // Generous keepalive: in a 1,000-switch connect storm on a starved machine (load 45 on 2 cores) echo replies
                // took longer than the default 15 s and the sessions were closed (issue 14's first 1,000-switch attempts).
                Connection = new OpenFlowOptions
                {
                    HandshakeTimeout = TimeSpan.FromSeconds(60), RequestTimeout = TimeSpan.FromSeconds(60),
                    EchoInterval = TimeSpan.FromSeconds(30), EchoTimeout = TimeSpan.FromSeconds(120),
                },
                Discovery = new DiscoveryOptions { LldpInterval = TimeSpan.FromSeconds(5), LinkTimeout = TimeSpan.FromSeconds(300) },
            }, ct).ConfigureAwait(false);
            var watch = Stopwatch.StartNew();
            var fabric = new EmulatedFabric(spec);
            var switches = await EmulatedOpenFlowFabric.ConnectAsync(fabric, service.Listener.LocalEndpoint,
                new Emulator.OpenFlow.OpenFlowFabricOptions { ConnectConcurrency = 64, ConnectTimeout = TimeSpan.FromSeconds(120) }, ct).ConfigureAwait(false);
            await EmulatedOpenFlowFabric.PollAsync(() => service.Listener.Switches.Values.Count(s => s.IsReady) == fabric.Switches.Count, TimeSpan.FromSeconds(300), "every switch's handshake", TimeProvider.System, ct).ConfigureAwait(false);
            var connected = watch.Elapsed;
            log.WriteLine($"  {fabric.Switches.Count} switches connected (handshake done) in {connected.TotalSeconds:0.00} s");
            var wait = TimeSpan.FromSeconds(600);
            await EmulatedOpenFlowFabric.PollAsync(() => fabric.Switches.All(switches.PuntsIgmp), wait, "punt flows", TimeProvider.System, ct).ConfigureAwait(false);
            await EmulatedOpenFlowFabric.PollAsync(() => service.Learner.Topology.Links.Count == spec.Links.Count, wait, "LLDP links", TimeProvider.System, ct).ConfigureAwait(false);
            fabric.Announce();
            foreach (var h in fabric.Hosts) fabric.Join(h, ReferenceFor(o));
            await switches.WaitForPacketInsSentAsync(wait).ConfigureAwait(false);
            await EmulatedOpenFlowFabric.PollAsync(() => service.References.TryGet(Vlan, ReferenceFor(o), out var g) && g.SwitchCount == fabric.Switches.Count, wait, "reference group on every switch", TimeProvider.System, ct).ConfigureAwait(false);
            await EmulatedOpenFlowFabric.PollAsync(() => service.Hosts.Count == fabric.Hosts.Count, wait, "every host located", TimeProvider.System, ct).ConfigureAwait(false);
            var bench = new OpenFlowBench
            {
                Service = service,
                Switches = switches,
                Controller = service.Controller,
                Hosts = HostAddresses(fabric, o),
                SwitchCount = fabric.Switches.Count,
                ConnectTime = connected,
                LearnTime = watch.Elapsed - connected,
            };
            foreach (var session in service.Listener.Switches.Values) session.BarrierCompleted += bench.OnBarrier;
            return bench;
        }

        private void OnBarrier(OpenFlowSession session, TimeSpan roundTrip) => Interlocked.Increment(ref BarrierCount);

        /// <summary>
        /// An empty write (the barrier alone) to every switch the planner names for <paramref name="members"/>, through
        /// each session's pump as a create's messages go; null when the reference group is unknown or a switch is not connected.
        /// </summary>
        public SwitchWrite[]? SubmitEmpty(IpAddress reference, IpAddress[] members, Core.Planning.PlanBuffer plan)
        {
            if (!Service.References.TryGet(Vlan, reference, out var group)) return null;
            var topology = Service.References.Topology;
            new Core.Planning.SubsetPlanner(topology, Service.Hosts).Plan(group, members, plan);
            var writes = new SwitchWrite[plan.SwitchCount];
            for (int i = 0; i < writes.Length; i++)
            {
                // A switch gone from the listener is a broken fabric: the caller fails the cycle (null) rather than throw.
                if (!Service.Listener.Switches.TryGetValue(topology.Switches[plan.SwitchAt(i)].Id, out var session)) return null;
                writes[i] = session.Submit([]);
            }
            return writes;
        }

        public override async Task QuiesceAsync(GroupCoordinator groups)
        {
            // Every switch has answered everything sent before this barrier (ours and the optimistic ones' confirmations).
            await Task.WhenAll(Service.Listener.Switches.Values.Select(s => s.BarrierAsync())).ConfigureAwait(false);
            await Task.Delay(200).ConfigureAwait(false);
        }

        public override void StartRefusing(int oneIn)
        {
            if (oneIn <= 0) return;
            foreach (var agent in Switches.Agents)
                agent.Refuse = m => m is GroupMod { Command: GroupModCommand.Add } g && (g.GroupId * 2654435761u) % (uint)oneIn == 0
                    ? new ErrorMessage(OfpErrorNames.GroupModFailed, 6 /* OUT_OF_GROUPS */, g.ToArray()) : null;
        }

        public override TableCheck CheckTables(GroupCoordinator groups, LoadOptions o)
        {
            o.BeforeAudit?.Invoke(Switches.Agents);
            return TableAudit.Check(groups.All(), Service.Southbound, Switches.Agents);
        }

        public override async ValueTask DisposeAsync()
        {
            await Switches.DisposeAsync().ConfigureAwait(false);
            await Service.DisposeAsync().ConfigureAwait(false);
        }
    }

    private sealed class EmulatorBench : Bench
    {
        /// <summary>The emulator's own view of hosts and reference groups stands in for learning (no OpenFlow here to learn from).</summary>
        public static async Task<EmulatorBench> StartAsync(ControllerOptions options, FabricSpec spec, LoadOptions o)
        {
            var watch = Stopwatch.StartNew();
            var fabric = new EmulatedFabric(spec);
            foreach (var h in fabric.Hosts) fabric.Join(h, ReferenceFor(o));
            var hosts = new Core.Fabric.HostTable();
            fabric.ExportHosts(hosts);
            var references = new Core.ReferenceGroups.ReferenceGroupTable(fabric.Topology);
            fabric.ExportReferenceGroups(references);
            var keys = new PushKeyRing().Add(Vlan, 1, new byte[32]);
            var southbound = new EmulatorSouthbound(fabric, keys);
            var controller = await TsmControllerHost.StartAsync(options, fabric.Topology, hosts, references, southbound, southbound, TimeProvider.System).ConfigureAwait(false);
            return new EmulatorBench
            {
                Controller = controller,
                Hosts = HostAddresses(fabric, o),
                SwitchCount = fabric.Switches.Count,
                ConnectTime = watch.Elapsed,
                LearnTime = TimeSpan.Zero,
            };
        }

        public override Task QuiesceAsync(GroupCoordinator groups) => Task.CompletedTask;
        public override TableCheck CheckTables(GroupCoordinator groups, LoadOptions o) => new(SwitchCount, 0, 0, 0, 0, 0, 0, false);

        public override ValueTask DisposeAsync() => Controller.DisposeAsync();
    }
}
