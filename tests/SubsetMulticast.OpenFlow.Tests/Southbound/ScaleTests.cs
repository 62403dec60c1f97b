using System.Diagnostics;
using System.Globalization;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.OpenFlow.Southbound;
using Xunit.Abstractions;
using static SubsetMulticast.OpenFlow.Tests.Connections.ListenerTests;

namespace SubsetMulticast.OpenFlow.Tests.Southbound;

/// <summary>100 OpenFlow switches over TCP (the test's fake switch; the lead's emulator will replace it).</summary>
public class ScaleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Apply_HundredSwitches_OneTransactionThenRollbackOnOneRefusal()
    {
        await using var listener = StartListener();
        using var sb = new OpenFlowSouthbound(listener);
        var fakes = Enumerable.Range(1, 100).Select(i => new FakeSwitch((ulong)(0x1000 + i))).ToList();
        try
        {
            foreach (var f in fakes) await f.ConnectAsync(listener.LocalEndpoint);
            await Until(() => fakes.All(f => listener.TryGetSwitch(f.SwitchId, out _)), "100 handshakes", 30_000);
            var vlan = new VlanId(3);
            List<SwitchChange> Plan(IpAddress g, bool install) => fakes.Select((f, i) =>
            {
                var rule = new GroupRule(vlan, g, [1, (uint)(2 + i % 3)]);
                return install ? new SwitchChange(f.SwitchId, null, rule) : new SwitchChange(f.SwitchId, rule, null);
            }).ToList();

            var g0 = IpAddress.Parse("239.9.0.1");
            Assert.True((await sb.ApplyAsync(Plan(g0, true), default)).Succeeded);
            uint gid = sb.GroupIdFor(vlan, g0);
            Assert.All(fakes, f => { lock (f.Gate) Assert.True(f.Groups.ContainsKey(gid) && f.Flows.Count == 1); });

            // Switch 57 refuses: the transaction fails naming it, and all 100 are back to the previous state.
            var g1 = IpAddress.Parse("239.9.0.2");
            fakes[56].FailGroup = (sb.GroupIdFor(vlan, g1), 3);
            var failed = await sb.ApplyAsync(Plan(g1, true), default);
            Assert.False(failed.Succeeded);
            Assert.Equal(fakes[56].SwitchId, Assert.Single(failed.Failures).SwitchId);
            uint gid1 = sb.GroupIdFor(vlan, g1);
            Assert.All(fakes, f => { lock (f.Gate) Assert.False(f.Groups.ContainsKey(gid1)); });
            fakes[56].FailGroup = null;

            // Cycles: create + release on 100 switches.
            var lat = new List<double>();
            var total = Stopwatch.StartNew();
            for (int i = 0; i < 50 && total.Elapsed < TimeSpan.FromSeconds(60); i++)
            {
                var g = IpAddress.FromV4(0xEF0A0000u + (uint)i);
                var sw = Stopwatch.StartNew();
                Assert.True((await sb.ApplyAsync(Plan(g, true), default)).Succeeded);
                lat.Add(sw.Elapsed.TotalMilliseconds);
                Assert.True((await sb.ApplyAsync(Plan(g, false), default)).Succeeded);
            }
            lat.Sort();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"BENCH {DateTime.UtcNow:yyyy-MM-dd} {Environment.MachineName} {Environment.ProcessorCount} cores: 100 fake OpenFlow switches over TCP; install median {lat[lat.Count / 2]:0.00} ms max {lat[^1]:0.00} ms; {lat.Count / total.Elapsed.TotalSeconds:0.0} create+release cycles/s"));
            Assert.True((await sb.ApplyAsync(Plan(g0, false), default)).Succeeded);
            Assert.All(fakes, f => { lock (f.Gate) Assert.Empty(f.Groups); });
        }
        finally { foreach (var f in fakes) await f.DisposeAsync(); }
    }

    /// <summary>
    /// Pipelining, shown by order rather than by a stopwatch: each switch holds its barrier reply for 1 s, so
    /// a southbound that waited for one switch before writing the next could not get the 20th barrier out
    /// until 19 s after the first. All 20 arriving within one hold time means they were all written first.
    /// </summary>
    [Fact]
    public async Task Apply_TwentySlowSwitches_AllBarriersAreOutBeforeAnyIsAnswered()
    {
        await using var listener = StartListener();
        using var sb = new OpenFlowSouthbound(listener);
        var hold = TimeSpan.FromSeconds(1);
        var fakes = Enumerable.Range(1, 20).Select(i => new FakeSwitch((ulong)(0x2000 + i)) { BarrierDelay = hold }).ToList();
        var clock = Stopwatch.StartNew();
        var arrivals = new List<TimeSpan>();
        foreach (var f in fakes) f.Agent.MessageReceived += m => { if (m is BarrierRequest) lock (arrivals) arrivals.Add(clock.Elapsed); };
        try
        {
            foreach (var f in fakes) await f.ConnectAsync(listener.LocalEndpoint);
            await Until(() => fakes.All(f => listener.TryGetSwitch(f.SwitchId, out _)), "20 handshakes", 20_000);
            lock (arrivals) arrivals.Clear();
            var rule = new GroupRule(new VlanId(0), IpAddress.Parse("239.9.9.9"), [1]);
            Assert.True((await sb.ApplyAsync(fakes.Select(f => new SwitchChange(f.SwitchId, null, rule)).ToList(), default)).Succeeded);
            lock (arrivals)
            {
                Assert.Equal(20, arrivals.Count);
                var spread = arrivals.Max() - arrivals.Min();
                output.WriteLine($"20 barriers arrived within {spread.TotalMilliseconds:0.0} ms of each other (each answered after {hold.TotalMilliseconds:0} ms)");
                Assert.True(spread < hold, $"barriers spread over {spread.TotalMilliseconds:0} ms: written one switch at a time");
            }
        }
        finally { foreach (var f in fakes) await f.DisposeAsync(); }
    }
}
