using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.OpenFlow.Southbound;
using static SubsetMulticast.OpenFlow.Tests.Connections.ListenerTests;

namespace SubsetMulticast.OpenFlow.Tests.Southbound;

public class OpenFlowSouthboundTests
{
    private static readonly IpAddress G1 = IpAddress.Parse("239.1.1.1");
    private static readonly IpAddress G6 = IpAddress.Parse("ff0e::1:1");

    /// <summary>
    /// Connects the fake switches and returns once the southbound's automatic reconciliation of each has
    /// reported (it runs after the switch is already visible through TryGetSwitch), so that a test's own
    /// changes, reconciliations and Reconciled handlers never meet the connect-time one.
    /// </summary>
    internal static async Task<(OpenFlowListener, OpenFlowSouthbound, FakeSwitch[])> Fabric(int switches)
    {
        var listener = StartListener();
        var sb = new OpenFlowSouthbound(listener);
        var fakes = new FakeSwitch[switches];
        for (int i = 0; i < switches; i++) fakes[i] = new FakeSwitch((ulong)(i + 1));
        var reconciled = fakes.ToDictionary(f => f.SwitchId,
            _ => new TaskCompletionSource<(ReconcileResult?, string?)>(TaskCreationOptions.RunContinuationsAsynchronously));
        void OnReconciled(string id, ReconcileResult? r, string? error)
        {
            if (reconciled.TryGetValue(id, out var t)) t.TrySetResult((r, error));
        }
        sb.Reconciled += OnReconciled;
        try
        {
            foreach (var f in fakes) await f.ConnectAsync(listener.LocalEndpoint);
            try { await Task.WhenAll(reconciled.Values.Select(t => t.Task)).WaitAsync(TimeSpan.FromSeconds(30)); }
            catch (TimeoutException)
            {
                Assert.Fail("timed out waiting for the connect-time reconciliation of " +
                    string.Join(", ", reconciled.Where(kv => !kv.Value.Task.IsCompleted).Select(kv => kv.Key)));
            }
            foreach (var (id, t) in reconciled)
            {
                var (r, error) = await t.Task;
                Assert.True(r is not null, $"connect-time reconciliation of {id} failed: {error}");
            }
            Assert.All(fakes, f => Assert.True(listener.TryGetSwitch(f.SwitchId, out _), $"{f.SwitchId} is not connected"));
        }
        catch
        {
            await Teardown(listener, sb, fakes);
            throw;
        }
        finally { sb.Reconciled -= OnReconciled; }
        return (listener, sb, fakes);
    }

    internal static async Task Teardown(OpenFlowListener l, OpenFlowSouthbound sb, FakeSwitch[] fakes)
    {
        sb.Dispose();
        foreach (var f in fakes) await f.DisposeAsync();
        await l.DisposeAsync();
    }

    [Fact]
    public async Task Apply_InstallOnTwoSwitches_OneGroupAndOneFlowEach()
    {
        var (l, sb, f) = await Fabric(2);
        try
        {
            var r1 = new GroupRule(new VlanId(10), G1, [1, 2, 3]);
            var r2 = new GroupRule(new VlanId(10), G1, [4]);
            var result = await sb.ApplyAsync([new SwitchChange(f[0].SwitchId, null, r1), new SwitchChange(f[1].SwitchId, null, r2)], default);
            Assert.True(result.Succeeded, string.Join(",", result.Failures));
            uint gid = sb.GroupIdFor(new VlanId(10), G1);
            Assert.Equal(0x53u, gid >> 24);
            Assert.Equal([1u, 2u, 3u], f[0].Groups[gid].Buckets.Select(b => ((OutputAction)b.Actions[0]).Port));
            Assert.Equal(GroupType.All, f[0].Groups[gid].GroupType);
            var flow = Assert.Single(f[0].Flows);
            Assert.Equal((ushort)(0x1000 | 10), flow.Match.VlanVid);
            Assert.Equal((ushort)0x0800, flow.Match.EthType);
            Assert.Equal(G1.V4, flow.Match.Ipv4Dst);
            Assert.Equal(gid, ((GroupAction)((ApplyActions)flow.Instructions[0]).Actions[0]).GroupId);
            Assert.True(sb.IsOurCookie(flow.Cookie));
            Assert.Single(f[1].Groups);
            Assert.Equal(1, f[0].CountReceived<BarrierRequest>() - 0); // handshake sends none; one per transaction
        }
        finally { await Teardown(l, sb, f); }
    }

    [Fact]
    public async Task Apply_RepushAndRemove_ModifiesThenDeletesBoth()
    {
        var (l, sb, f) = await Fabric(1);
        try
        {
            var a = new GroupRule(new VlanId(0), G6, [1, 2]);
            var b = a with { Ports = [2, 3] };
            Assert.True((await sb.ApplyAsync([new SwitchChange(f[0].SwitchId, null, a)], default)).Succeeded);
            Assert.True((await sb.ApplyAsync([new SwitchChange(f[0].SwitchId, a, b)], default)).Succeeded);
            lock (f[0].Gate) Assert.Equal(GroupModCommand.Modify, f[0].Received.OfType<GroupMod>().Last().Command);
            uint gid = sb.GroupIdFor(new VlanId(0), G6);
            Assert.Equal([2u, 3u], f[0].Groups[gid].Buckets.Select(x => ((OutputAction)x.Actions[0]).Port));
            var flow = Assert.Single(f[0].Flows);
            Assert.Null(flow.Match.VlanVid);
            Assert.Equal(G6, flow.Match.Ipv6Dst);
            Assert.Equal([b], sb.IntendedRules(f[0].SwitchId));

            Assert.True((await sb.ApplyAsync([new SwitchChange(f[0].SwitchId, b, null)], default)).Succeeded);
            Assert.Empty(f[0].Groups);
            Assert.Empty(f[0].Flows);
            Assert.Empty(sb.IntendedRules(f[0].SwitchId));
        }
        finally { await Teardown(l, sb, f); }
    }

    [Fact]
    public async Task Apply_OneSwitchRefuses_TransactionFailsAndOthersRolledBack()
    {
        var (l, sb, f) = await Fabric(3);
        try
        {
            var rule = new GroupRule(new VlanId(5), G1, [1, 2]);
            f[2].FailGroup = (sb.GroupIdFor(new VlanId(5), G1), 3); // OUT_OF_GROUPS
            var result = await sb.ApplyAsync(f.Select(x => new SwitchChange(x.SwitchId, null, rule)).ToList(), default);
            Assert.False(result.Succeeded);
            var failure = Assert.Single(result.Failures);
            Assert.Equal(f[2].SwitchId, failure.SwitchId);
            Assert.Contains("GROUP_MOD_FAILED/OUT_OF_GROUPS", failure.Reason);
            foreach (var x in f) { Assert.Empty(x.Groups); Assert.Empty(x.Flows); }
            Assert.Empty(sb.IntendedRules(f[0].SwitchId));
        }
        finally { await Teardown(l, sb, f); }
    }

    [Fact]
    public async Task Apply_ModifyRefused_RollbackRestoresPreviousPorts()
    {
        var (l, sb, f) = await Fabric(2);
        try
        {
            var a = new GroupRule(new VlanId(5), G1, [1]);
            var b = a with { Ports = [1, 2] };
            Assert.True((await sb.ApplyAsync(f.Select(x => new SwitchChange(x.SwitchId, null, a)).ToList(), default)).Succeeded);
            uint gid = sb.GroupIdFor(new VlanId(5), G1);
            f[1].FailGroup = (gid, 12); // BAD_BUCKET
            var result = await sb.ApplyAsync(f.Select(x => new SwitchChange(x.SwitchId, a, b)).ToList(), default);
            Assert.False(result.Succeeded);
            f[1].FailGroup = null;
            Assert.Equal([1u], f[0].Groups[gid].Buckets.Select(x => ((OutputAction)x.Actions[0]).Port));
            Assert.Equal([a], sb.IntendedRules(f[0].SwitchId));
        }
        finally { await Teardown(l, sb, f); }
    }

    [Fact]
    public async Task Apply_SwitchNotConnected_FailsWithoutSending()
    {
        var (l, sb, f) = await Fabric(1);
        try
        {
            var rule = new GroupRule(new VlanId(1), G1, [1]);
            var result = await sb.ApplyAsync([new SwitchChange(f[0].SwitchId, null, rule), new SwitchChange("00000000000000ff", null, rule)], default);
            Assert.False(result.Succeeded);
            Assert.Equal("00000000000000ff", Assert.Single(result.Failures).SwitchId);
            Assert.Equal(0, f[0].CountReceived<GroupMod>());
        }
        finally { await Teardown(l, sb, f); }
    }

    [Fact]
    public async Task Reconnect_EmptyTables_ReconciliationRestoresRules()
    {
        var (l, sb, f) = await Fabric(1);
        FakeSwitch? again = null;
        try
        {
            var rule = new GroupRule(new VlanId(7), G1, [1, 3]);
            Assert.True((await sb.ApplyAsync([new SwitchChange(f[0].SwitchId, null, rule)], default)).Succeeded);
            // Fabric waited for the first connection's reconciliation, so a report for this switch from here on
            // is the reconnect's; subscribed just before reconnecting, since it can finish before ConnectAsync returns.
            var done = new TaskCompletionSource<ReconcileResult?>(TaskCreationOptions.RunContinuationsAsynchronously);
            sb.Reconciled += (id, r, _) => { if (id == f[0].SwitchId) done.TrySetResult(r); };
            again = new FakeSwitch(1); // same datapath, empty tables (like a restarted ovs-vswitchd)
            await again.ConnectAsync(l.LocalEndpoint);
            var r = await done.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.NotNull(r);
            Assert.Equal(2, r!.Added); // the group and its flow
            Assert.Equal("bundle", r.Method);
            uint gid = sb.GroupIdFor(new VlanId(7), G1);
            Assert.Equal([1u, 3u], again.Groups[gid].Buckets.Select(x => ((OutputAction)x.Actions[0]).Port));
            Assert.Single(again.Flows);
        }
        finally { if (again is not null) await again.DisposeAsync(); await Teardown(l, sb, f); }
    }

    [Fact]
    public async Task Reconcile_MixedState_AddsMissingRemovesUnknownKeepsCorrect()
    {
        var (l, sb, f) = await Fabric(1);
        try
        {
            var keep = new GroupRule(new VlanId(1), IpAddress.Parse("239.0.0.1"), [1]);
            var lost = new GroupRule(new VlanId(1), IpAddress.Parse("239.0.0.2"), [2]);
            var wrong = new GroupRule(new VlanId(1), IpAddress.Parse("239.0.0.3"), [3]);
            Assert.True((await sb.ApplyAsync([new(f[0].SwitchId, null, keep), new(f[0].SwitchId, null, lost), new(f[0].SwitchId, null, wrong)], default)).Succeeded);
            uint lostGid = sb.GroupIdFor(lost.Vlan, lost.Group), wrongGid = sb.GroupIdFor(wrong.Vlan, wrong.Group);
            f[0].Mutate((groups, flows) =>
            {
                groups.Remove(lostGid);
                flows.RemoveAll(x => x.Match.Ipv4Dst == lost.Group.V4);
                groups[wrongGid] = groups[wrongGid] with { Buckets = [new OfpBucket([new OutputAction(4)])] };
                // a stray rule of ours, and a foreign rule outside our cookie / group space
                groups[0x5300_0042] = new GroupMod(GroupModCommand.Add, GroupType.All, 0x5300_0042, []);
                flows.Add(new FlowMod(FlowModCommand.Add, new OfpMatch { EthType = 0x0800, Ipv4Dst = 0xEF000063 }, [new ApplyActions([new GroupAction(0x5300_0042)])]) { Cookie = sb.CookieFor(0x5300_0042), Priority = 1000 });
                groups[7] = new GroupMod(GroupModCommand.Add, GroupType.All, 7, []);
                flows.Add(new FlowMod(FlowModCommand.Add, new OfpMatch { EthType = 0x0806 }, []) { Cookie = 0x1234, Priority = 5 });
            });
            lock (f[0].Gate) f[0].Received.Clear();
            l.TryGetSwitch(f[0].SwitchId, out var session);
            var r = await sb.ReconcileAsync(session, default);
            // Counted per flow and per group: lost's group and flow added, wrong's group rewritten, the stray group and flow
            // removed; keep's group and flow and wrong's flow kept.
            Assert.Equal((2, 1, 2, 3), (r.Added, r.Modified, r.Removed, r.Kept));
            uint keepGid = sb.GroupIdFor(keep.Vlan, keep.Group);
            lock (f[0].Gate)
            {
                // Everything went in one bundle, and nothing in it touched the rule that was right.
                var sent = f[0].Received.Select(m => m is BundleAdd b ? b.Inner : m).ToList();
                Assert.Equal(5, f[0].Received.OfType<BundleAdd>().Count()); // 3 group mods, 2 flow mods
                Assert.DoesNotContain(f[0].Received, m => m is GroupMod or FlowMod);
                Assert.DoesNotContain(sent.OfType<GroupMod>(), g => g.GroupId == keepGid);
                Assert.DoesNotContain(sent.OfType<FlowMod>(), m => m.Match.Ipv4Dst == keep.Group.V4);
                Assert.Equal(new uint[] { 7, keepGid, lostGid, wrongGid }.Order(), f[0].Groups.Keys.Order());
                Assert.Equal(4, f[0].Flows.Count); // 3 ours + the foreign ARP flow
                Assert.Equal(3u, ((OutputAction)f[0].Groups[wrongGid].Buckets[0].Actions[0]).Port);
            }
        }
        finally { await Teardown(l, sb, f); }
    }

    [Fact]
    public void GroupIdFor_SamePairTwice_SameIdAndDistinctPairsDiffer()
    {
        var sb = new OpenFlowSouthbound(new OpenFlowListener(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0)));
        var ids = Enumerable.Range(0, 2000).Select(i => sb.GroupIdFor(new VlanId((ushort)(i % 7)), IpAddress.FromV4(0xEF000000u + (uint)i))).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(ids[5], sb.GroupIdFor(new VlanId(5), IpAddress.FromV4(0xEF000005)));
    }
}
