using System.Diagnostics;
using System.Globalization;
using System.Net;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Southbound;
using SubsetMulticast.Testing;
using Xunit.Abstractions;

namespace SubsetMulticast.OpenFlow.Tests.Interop;

/// <summary>
/// Issue 14's throughput against Open vSwitch: concurrent clients each create a group on three userspace-datapath
/// bridges (GROUP_MOD + FLOW_MOD per bridge, confirmed by barrier) and release it again, through the controller's
/// OpenFlow southbound and sessions. At the end every bridge's tables, read with ovs-ofctl, hold exactly the groups
/// kept live and nothing a released transaction installed. By default a 2-s smoke run with 8 clients (a test);
/// TSM_OVS_LOAD_SECONDS and TSM_OVS_LOAD_CLIENTS make it the harness run recorded in control-plane-load.md.
/// </summary>
[Trait("Category", "Interop")]
[Collection(OvsSecondLaneCollection.Name)]
public class OvsThroughputTests(ITestOutputHelper output)
{
    private const int Kept = 16;

    [Fact]
    public async Task ConcurrentCreateRelease_ThreeBridges_TablesHoldExactlyTheLiveGroups()
    {
        int seconds = int.TryParse(Environment.GetEnvironmentVariable("TSM_OVS_LOAD_SECONDS"), out var s) ? s : 2;
        int clients = int.TryParse(Environment.GetEnvironmentVariable("TSM_OVS_LOAD_CLIENTS"), out var c) ? c : 8;
        await using var lab = new OvsLab();
        await using var listener = new OpenFlowListener(new IPEndPoint(lab.ControllerAddress, 0), // the lab's switches live in their own namespace
            new OpenFlowOptions { RequestTimeout = TimeSpan.FromSeconds(30), HandshakeTimeout = TimeSpan.FromSeconds(30) });
        listener.Start();
        using var sb = new OpenFlowSouthbound(listener);
        int reconciled = 0;
        sb.Reconciled += (_, _, _) => Interlocked.Increment(ref reconciled);
        lab.StartDatabase();
        lab.StartSwitchDaemon();
        var bridges = new[] { 0xC01UL, 0xC02UL, 0xC03UL }.Select(d => (Bridge: lab.AddBridge($"t{d & 0xF}", d, listener.LocalEndpoint.Port), Id: OpenFlowSession.FormatDatapathId(d))).ToArray();
        await Eventually.UntilAsync(() => bridges.All(b => listener.TryGetSwitch(b.Id, out var x) && x.IsReady) && Volatile.Read(ref reconciled) >= 3,
            TimeSpan.FromSeconds(60), "three bridges connected and reconciled");

        // Ports need not exist for OVS to take a group (an OUTPUT to a port added later is valid): rules name 1–4.
        static IReadOnlyList<SwitchChange> Changes((string Bridge, string Id)[] on, GroupRule? before, GroupRule? after) =>
            [.. on.Select(b => new SwitchChange(b.Id, before, after))];
        var kept = Enumerable.Range(1, Kept).Select(i => new GroupRule(new VlanId(0), IpAddress.Parse($"239.254.0.{i}"), [1, (uint)(2 + i % 3)])).ToArray();
        foreach (var rule in kept) Assert.True((await sb.ApplyAsync(Changes(bridges, null, rule), default)).Succeeded);

        long cycles = 0, failures = 0;
        string? firstFailure = null;
        var setups = new List<double>[clients];
        var deadline = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        double load0 = LoadAverage();
        // What limits it: the CPU ovs-vswitchd and this process (controller side and clients) each got in the window.
        int vswitchd = int.Parse(File.ReadAllText(Path.Combine(lab.Dir, "vswitchd.pid")).Trim(), CultureInfo.InvariantCulture);
        var self = Process.GetCurrentProcess();
        double ovsCpu0 = ProcessCpuSeconds(vswitchd), selfCpu0 = self.TotalProcessorTime.TotalSeconds;
        var wall = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            var mine = setups[client] = [];
            for (int i = 0; Stopwatch.GetTimestamp() < deadline && i < 10_000_000; i++)
            {
                var rule = new GroupRule(new VlanId(0), IpAddress.Parse($"239.200.{client % 256}.{1 + i % 250}"), [1, (uint)(2 + i % 3)]);
                long t0 = Stopwatch.GetTimestamp();
                var created = await sb.ApplyAsync(Changes(bridges, null, rule), default);
                double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                var released = created.Succeeded ? await sb.ApplyAsync(Changes(bridges, rule, null), default) : created;
                if (created.Succeeded && released.Succeeded) { mine.Add(ms); Interlocked.Increment(ref cycles); }
                else
                {
                    Interlocked.Increment(ref failures);
                    Interlocked.CompareExchange(ref firstFailure, string.Join("; ", released.Failures), null);
                }
            }
        }))).WaitAsync(TimeSpan.FromSeconds(seconds + 120));
        var elapsed = wall.Elapsed;
        self.Refresh();
        double ovsCores = (ProcessCpuSeconds(vswitchd) - ovsCpu0) / elapsed.TotalSeconds, selfCores = (self.TotalProcessorTime.TotalSeconds - selfCpu0) / elapsed.TotalSeconds;
        var all = setups.SelectMany(x => x).Order().ToArray();
        double P(double q) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)(q * all.Length))];
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{DateTime.UtcNow:u} OVS 3 bridges, {clients} clients, {elapsed.TotalSeconds:0.0} s: {cycles:N0} create+release = {cycles / elapsed.TotalSeconds:N0}/s; " +
            $"failures {failures}; setup p50 {P(0.5):0.000} ms, p99 {P(0.99):0.000} ms, p99.9 {P(0.999):0.000} ms; load average {load0:0.0} → {LoadAverage():0.0}; " +
            $"CPU: ovs-vswitchd {ovsCores:0.00} cores = {ovsCores * elapsed.TotalSeconds * 1e6 / Math.Max(1, cycles):0} µs per cycle, controller + clients {selfCores:0.00} cores = {selfCores * elapsed.TotalSeconds * 1e6 / Math.Max(1, cycles):0} µs per cycle"));

        Assert.Equal(0, failures);
        Assert.True(cycles > 0);
        // The bridges' own tables: exactly the kept groups, each with its flow; nothing a released transaction installed.
        var keptIds = kept.Select(r => sb.GroupIdFor(r.Vlan, r.Group)).Order().ToArray();
        foreach (var (bridge, _) in bridges)
        {
            var groups = (await lab.OfctlAsync($"dump-groups {bridge}")).Split('\n')
                .Select(l => l.Trim()).Where(l => l.StartsWith("group_id=", StringComparison.Ordinal))
                .Select(l => uint.Parse(l["group_id=".Length..l.IndexOf(',')], CultureInfo.InvariantCulture)).Where(sb.IsOurGroup).Order().ToArray();
            Assert.Equal(keptIds, groups);
            var flows = (await lab.OfctlAsync($"dump-flows {bridge}")).Split('\n').Count(l => l.Contains("actions=group:", StringComparison.Ordinal));
            Assert.Equal(Kept, flows);
        }
    }

    /// <summary>utime + stime of a process from /proc (fields 14 and 15, after the parenthesised name), in seconds.</summary>
    private static double ProcessCpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0; // USER_HZ
    }

    private static double LoadAverage() =>
        double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
}
