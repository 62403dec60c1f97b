using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SubsetMulticast.Controller.Audit;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Agent;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.OpenFlow.Reconcile;
using SubsetMulticast.OpenFlow.Southbound;

namespace SubsetMulticast.Controller.Tests.Audit;

/// <summary>
/// The periodic audit on a <see cref="FakeTimeProvider"/>: nothing runs until the interval passes, then one read-only run
/// per interval; a switch tampered with turns "mismatch" on the dashboard's seam and counts consecutive failures, and
/// goes back to "ok" once repaired. The switch is the emulator's OpenFlow agent over TCP.
/// </summary>
public sealed class PeriodicAuditTests
{
    [Fact]
    public async Task Periodic_RunsPerInterval_TracksHistory_AndFeedsTheDashboard()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-02T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var listener = new OpenFlowListener(new IPEndPoint(IPAddress.Loopback, 0), new OpenFlowOptions { RequestTimeout = TimeSpan.FromSeconds(30), HandshakeTimeout = TimeSpan.FromSeconds(30) });
        listener.Start();
        using var sb = new OpenFlowSouthbound(listener, new OpenFlowSouthboundOptions { ReconcileOnConnect = false });
        await using var agent = new OpenFlowSwitchAgent(0x21, Enumerable.Range(1, 4).Select(p => new OfpPort((uint)p, new MacAddress(0x020000000000UL | (uint)p), $"p{p}")));
        // The listener says when the switch's session is ready: no polling.
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        listener.SwitchConnected += s => { if (s.SwitchId == agent.SwitchId) ready.TrySetResult(); };
        await agent.ConnectAsync(listener.LocalEndpoint);
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var rule = new GroupRule(new VlanId(0), IpAddress.Parse("239.255.0.4"), [1, 3]);
        Assert.True((await sb.ApplyAsync([new SwitchChange(agent.SwitchId, null, rule)], default)).Succeeded);

        var options = new RuleAuditOptions { Interval = TimeSpan.FromSeconds(30) };
        var auditor = new RuleAuditor([new OpenFlowRuleAudit(listener, sb, time)], options, time, NullLogger<RuleAuditor>.Instance);
        var runs = System.Threading.Channels.Channel.CreateUnbounded<RuleAuditRun>();
        auditor.Completed += r => runs.Writer.TryWrite(r);
        using var periodic = new PeriodicRuleAudit(auditor, options, time);
        await periodic.StartAsync(default);
        await periodic.Scheduled.WaitAsync(TimeSpan.FromSeconds(30));
        try
        {
            Assert.False(auditor.TryRead(out _)); // no run yet: the dashboard says "none yet"
            time.Advance(TimeSpan.FromSeconds(29));
            Assert.False(runs.Reader.TryRead(out _));
            time.Advance(TimeSpan.FromSeconds(1));
            var first = await runs.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.False(first.Repair);
            Assert.Equal(time.GetUtcNow(), first.StartedAt);
            Assert.True(Assert.Single(first.Reports).InSync);
            Assert.True(auditor.TryRead(out var verdicts));
            Assert.Equal(("ok", agent.SwitchId), (Assert.Single(verdicts).Status, verdicts[0].Switch));

            uint gid = sb.GroupIdFor(rule.Vlan, rule.Group);
            agent.Mutate((groups, _) => groups[gid] = groups[gid] with { Buckets = [new OfpBucket([new OutputAction(2)])] });
            for (int n = 1; n <= 2; n++)
            {
                time.Advance(TimeSpan.FromSeconds(30));
                var run = await runs.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
                Assert.Equal(1, Assert.Single(run.Reports).Modified);
                Assert.True(auditor.TryGetHistory("openflow", agent.SwitchId, out var h));
                Assert.Equal((n, 1), (h.ConsecutiveFailures, h.SuccessCount));
            }
            Assert.Equal([2u], agent.Groups[gid].Buckets.Select(b => ((OutputAction)b.Actions[0]).Port)); // periodic audits never repair
            Assert.True(auditor.TryRead(out verdicts));
            Assert.Equal("mismatch", verdicts[0].Status);

            var repaired = await auditor.RunAsync(null, repair: true, default);
            Assert.Equal(1, repaired.Reports[0].Repaired);
            await runs.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(auditor.TryRead(out verdicts));
            Assert.Equal("ok", verdicts[0].Status);
            Assert.True(auditor.TryGetHistory("openflow", agent.SwitchId, out var after));
            Assert.Equal((0, 2, 2), (after.ConsecutiveFailures, after.SuccessCount, after.FailureCount));
        }
        finally { await periodic.StopAsync(default); }
    }
}
