using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Protocol;
using static SubsetMulticast.OpenFlow.Tests.Southbound.OpenFlowSouthboundTests;

namespace SubsetMulticast.OpenFlow.Tests.Southbound;

/// <summary>Concurrent transactions to one switch share writes and barriers, yet each is confirmed and rolled back on its own.</summary>
public class CoalescingTests
{
    private static GroupRule Rule(int i, params uint[] ports) => new(new VlanId(0), IpAddress.Parse($"239.255.0.{i}"), ports);

    [Fact]
    public async Task ConcurrentTransactions_ShareBarriers_AllInstalled()
    {
        var (l, sb, f) = await Fabric(2);
        try
        {
            int before0 = f[0].CountReceived<BarrierRequest>();
            var txs = new List<Task<SouthboundResult>>();
            for (int i = 1; i <= 40; i++)
                txs.Add(sb.ApplyAsync([new SwitchChange(f[0].SwitchId, null, Rule(i, 1, 2)), new SwitchChange(f[1].SwitchId, null, Rule(i, 3))], default).AsTask());
            var results = await Task.WhenAll(txs).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.All(results, r => Assert.True(r.Succeeded, string.Join(", ", r.Failures)));
            int barriers = f[0].CountReceived<BarrierRequest>() - before0;
            Assert.True(barriers <= 10, $"40 transactions took {barriers} barriers on one switch; they should share them");
            Assert.Equal(40, f[0].Groups.Count);
            Assert.Equal(40, f[0].Flows.Count);
            Assert.Equal(40, f[1].Groups.Count);
            Assert.Equal(40, sb.IntendedRules(f[1].SwitchId).Count);
        }
        finally { await Teardown(l, sb, f); }
    }

    [Fact]
    public async Task OneRefusedAmongCoalesced_OnlyItFailsAndLeavesNothing()
    {
        var (l, sb, f) = await Fabric(2);
        try
        {
            var refused = Rule(7, 2);
            f[1].FailGroup = (sb.GroupIdFor(refused.Vlan, refused.Group), 6 /* OFPGMFC_OUT_OF_GROUPS */);
            var txs = new List<Task<SouthboundResult>>();
            for (int i = 1; i <= 20; i++)
                txs.Add(sb.ApplyAsync([new SwitchChange(f[0].SwitchId, null, Rule(i, 1)), new SwitchChange(f[1].SwitchId, null, Rule(i, 2))], default).AsTask());
            var results = await Task.WhenAll(txs).WaitAsync(TimeSpan.FromSeconds(30));
            for (int i = 1; i <= 20; i++)
                Assert.True(results[i - 1].Succeeded == (i != 7), $"transaction {i}: {string.Join(", ", results[i - 1].Failures)}");
            Assert.Contains(results[6].Failures, x => x.SwitchId == f[1].SwitchId);

            // The refused transaction left nothing on either switch (its part on the other switch was rolled back);
            // the 19 others that shared its writes and barriers are all in place.
            uint gid = sb.GroupIdFor(refused.Vlan, refused.Group);
            foreach (var sw in f)
            {
                Assert.False(sw.Groups.ContainsKey(gid), $"{sw.SwitchId} kept the refused group");
                Assert.DoesNotContain(sw.Flows, x => x.Match.Ipv4Dst == refused.Group.V4);
                Assert.Equal(19, sw.Groups.Count);
                Assert.Equal(19, sw.Flows.Count);
                Assert.Equal(19, sb.IntendedRules(sw.SwitchId).Count);
            }
        }
        finally { await Teardown(l, sb, f); }
    }

    [Fact]
    public async Task Staged_AnswersWhenWritten_ConfirmsLater()
    {
        var (l, sb, f) = await Fabric(1);
        try
        {
            f[0].BarrierDelay = TimeSpan.FromMilliseconds(300);
            var staged = await sb.ApplyStagedAsync([new SwitchChange(f[0].SwitchId, null, Rule(1, 1, 2))], default);
            Assert.True(staged.Written.Succeeded);
            Assert.False(staged.Confirmed.IsCompleted, "the staged answer waited for the barrier");
            Assert.Single(sb.IntendedRules(f[0].SwitchId));
            var confirmed = await staged.Confirmed.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(confirmed.Succeeded);
            Assert.Single(f[0].Groups);
        }
        finally { await Teardown(l, sb, f); }
    }
}
