using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using SubsetMulticast.Controller.Audit;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Audit;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Agent;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.OpenFlow.Reconcile;
using SubsetMulticast.OpenFlow.Southbound;

namespace SubsetMulticast.Benchmarks.Audit;

/// <summary>
/// <c>dotnet run -c Release --project tests/SubsetMulticast.Benchmarks -- audit-scale [SWITCHES] [GROUPS] [RUNS]</c>
/// (default 100 switches × 1,000 groups, 5 runs): emulated OpenFlow switches (the emulator's agent, over loopback TCP)
/// each holding GROUPS rendezvous groups (a group and a flow each) installed through the real southbound; then the whole
/// audit (every switch's FLOW and GROUP_DESC multiparts read, decoded and compared with the intended state) is timed,
/// RUNS times, and once more after tampering with 1% of the rules (audit only, then repair in bundles).
/// Prints one markdown row per measurement for results/audit.md.
/// </summary>
public static class AuditScaleHarness
{
    public static async Task RunAsync(string[] args)
    {
        int switches = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100;
        int groups = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1000;
        int runs = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 5;
        var inv = CultureInfo.InvariantCulture;

        await using var listener = new OpenFlowListener(new IPEndPoint(IPAddress.Loopback, 0),
            new OpenFlowOptions { RequestTimeout = TimeSpan.FromSeconds(120), HandshakeTimeout = TimeSpan.FromSeconds(60) });
        listener.Start();
        using var southbound = new OpenFlowSouthbound(listener, new OpenFlowSouthboundOptions { ReconcileOnConnect = false });
        var agents = Enumerable.Range(1, switches).Select(i => new OpenFlowSwitchAgent((ulong)i,
            Enumerable.Range(1, 8).Select(p => new OfpPort((uint)p, new MacAddress(0x020000000000UL | ((ulong)i << 8) | (uint)p), $"p{p}")))).ToList();
        try
        {
            foreach (var a in agents) await a.ConnectAsync(listener.LocalEndpoint);
            var deadline = Stopwatch.StartNew();
            while (listener.Switches.Values.Count(s => s.IsReady) < switches)
            {
                if (deadline.Elapsed > TimeSpan.FromMinutes(2)) throw new TimeoutException("switches did not connect");
                await Task.Delay(50);
            }
            var ids = agents.Select(a => a.SwitchId).ToList();
            var setup = Stopwatch.StartNew();
            const int batch = 50;
            for (int g0 = 0; g0 < groups; g0 += batch)
            {
                var changes = new List<SwitchChange>();
                for (int g = g0; g < Math.Min(groups, g0 + batch); g++)
                {
                    var rule = new GroupRule(new VlanId(0), IpAddress.FromV4(0xEFFF0000u + (uint)g), [(uint)(1 + g % 8), (uint)(1 + (g + 3) % 8)]);
                    foreach (var id in ids) changes.Add(new SwitchChange(id, null, rule));
                }
                var result = await southbound.ApplyAsync(changes, default);
                if (!result.Succeeded) throw new InvalidOperationException(string.Join("; ", result.Failures.Take(3)));
            }
            Console.WriteLine(string.Create(inv, $"setup: {switches} switches × {groups} groups installed in {setup.Elapsed.TotalSeconds:0.0} s"));

            var auditor = new RuleAuditor([new OpenFlowRuleAudit(listener, southbound)], new RuleAuditOptions { Parallelism = 32 }, TimeProvider.System, NullLogger<RuleAuditor>.Instance);
            var times = new List<double>();
            for (int r = 0; r < runs + 1; r++)
            {
                var run = await auditor.RunAsync(null, repair: false, default);
                long expected = run.Reports.Sum(x => (long)x.Expected), matched = run.Reports.Sum(x => (long)x.Matched);
                if (run.Reports.Count != switches || matched != expected || expected != 2L * switches * groups)
                    throw new InvalidOperationException($"audit found {matched}/{expected} matched on {run.Reports.Count} switches");
                if (r > 0) times.Add(run.Duration.TotalMilliseconds); // the first run warms the JIT
            }
            times.Sort();
            Console.WriteLine(string.Create(inv, $"| audit, in sync | {switches} × {groups} | {2L * switches * groups:N0} rules | min {times[0]:0} ms, median {times[times.Count / 2]:0} ms, max {times[^1]:0} ms ({runs} runs) |"));

            // Tamper with 1% of each switch's rules behind the controller's back, then audit, then repair.
            var rng = new Random(12);
            int tampered = 0;
            foreach (var a in agents)
            {
                a.Mutate((gs, fs) =>
                {
                    var keys = gs.Keys.OrderBy(_ => rng.Next()).Take(Math.Max(1, groups / 100)).ToList();
                    foreach (var k in keys) { gs[k] = gs[k] with { Buckets = [new OfpBucket([new OutputAction(8)])] }; tampered++; }
                });
            }
            var found = await auditor.RunAsync(null, repair: false, default);
            int modified = found.Reports.Sum(x => x.Modified);
            var repaired = await auditor.RunAsync(null, repair: true, default);
            var after = await auditor.RunAsync(null, repair: false, default);
            if (modified != tampered || repaired.Reports.Sum(x => x.Repaired) != tampered || after.Reports.Any(x => !x.InSync))
                throw new InvalidOperationException($"tampered {tampered}, found {modified}, repaired {repaired.Reports.Sum(x => x.Repaired)}");
            Console.WriteLine(string.Create(inv, $"| audit, {tampered} groups altered | {switches} × {groups} | {modified} modified found | {found.Duration.TotalMilliseconds:0} ms |"));
            Console.WriteLine(string.Create(inv, $"| audit + repair (bundles) | {switches} × {groups} | {tampered} repaired | {repaired.Duration.TotalMilliseconds:0} ms |"));
        }
        finally
        {
            foreach (var a in agents) await a.DisposeAsync();
        }
    }
}
