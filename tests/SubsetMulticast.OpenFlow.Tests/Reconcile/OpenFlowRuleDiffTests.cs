using System.Net;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Audit;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.OpenFlow.Reconcile;
using SubsetMulticast.OpenFlow.Southbound;

namespace SubsetMulticast.OpenFlow.Tests.Reconcile;

/// <summary>
/// The pure comparison behind reconcile and audit: over many seeded random tables, every removal, addition and
/// alteration made to a switch's copy of the intended rules lands in its category, and the repair messages, applied
/// one by one with OpenFlow's semantics, bring the copy back to exactly the intended state.
/// </summary>
public class OpenFlowRuleDiffTests
{
    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(3)] [InlineData(4)] [InlineData(5)]
    [InlineData(6)] [InlineData(7)] [InlineData(8)] [InlineData(9)] [InlineData(10)]
    public void Compare_RandomTampering_EachInItsCategory_AndRepairConverges(int seed)
    {
        var rng = new Random(seed);
        using var sb = new OpenFlowSouthbound(new OpenFlowListener(new IPEndPoint(IPAddress.Loopback, 0)));
        var intended = new IntendedSwitchState();
        int rules = 5 + rng.Next(60);
        for (int i = 0; i < rules; i++)
        {
            var rule = new GroupRule(new VlanId((ushort)rng.Next(3)), IpAddress.FromV4(0xEFFF0000u + (uint)i), [.. Enumerable.Range(1, 1 + rng.Next(4)).Select(p => (uint)p)]);
            foreach (var m in sb.InstallMessages(rule, GroupModCommand.Add)) intended.Add(m);
        }
        var groups = intended.Groups.Values.ToDictionary(g => g.GroupId);
        var flows = intended.Flows.ToDictionary(kv => kv.Key, kv => kv.Value);
        int missing = 0, extra = 0, modified = 0;
        foreach (var id in groups.Keys.ToList())
        {
            switch (rng.Next(6))
            {
                case 0: groups.Remove(id); missing++; break;
                case 1: groups[id] = groups[id] with { Buckets = [new OfpBucket([new OutputAction(99)])] }; modified++; break;
            }
        }
        foreach (var key in flows.Keys.ToList())
        {
            switch (rng.Next(6))
            {
                case 0: flows.Remove(key); missing++; break;
                case 1: flows[key] = flows[key] with { Instructions = [new ApplyActions([new OutputAction(7)])] }; modified++; break;
                case 2: flows[key] = flows[key] with { Cookie = flows[key].Cookie ^ 1 }; modified++; break;
            }
        }
        int extras = rng.Next(5);
        for (int i = 0; i < extras; i++)
        {
            uint gid = 0x53F0_0000u + (uint)i;
            groups[gid] = new GroupDescEntry(GroupType.All, gid, []);
            var match = new OfpMatch { EthType = 0x0800, Ipv4Dst = 0xEF000000u + (uint)i };
            flows[new FlowKey(0, 1000, match)] = new FlowStatsEntry(0, 1000, sb.CookieFor(gid), match, [new ApplyActions([new GroupAction(gid)])]);
            extra += 2;
        }

        var diff = OpenFlowRuleDiff.Compare(intended, flows.Values, groups.Values);
        var items = diff.Items();
        Assert.Equal(missing, items.Count(i => i.Category == RuleAuditCategory.Missing));
        Assert.Equal(modified, items.Count(i => i.Category == RuleAuditCategory.Modified));
        Assert.Equal(extra, items.Count(i => i.Category == RuleAuditCategory.Extra));
        Assert.Equal(intended.Flows.Count + intended.Groups.Count - missing - modified, diff.Matched);
        Assert.All(items.Where(i => i.Category == RuleAuditCategory.Modified), i => Assert.NotEqual(i.Expected, i.Observed));

        // Apply the repair with OpenFlow's semantics, one message at a time (an ORDERED bundle does the same).
        foreach (var m in diff.RepairMessages())
        {
            switch (m)
            {
                case GroupMod { Command: GroupModCommand.Add } g: Assert.True(groups.TryAdd(g.GroupId, new(g.GroupType, g.GroupId, g.Buckets)), "ADD of an existing group"); break;
                case GroupMod { Command: GroupModCommand.Modify } g: Assert.True(groups.ContainsKey(g.GroupId), "MODIFY of a missing group"); groups[g.GroupId] = new(g.GroupType, g.GroupId, g.Buckets); break;
                case GroupMod { Command: GroupModCommand.Delete } g:
                    groups.Remove(g.GroupId);
                    Assert.DoesNotContain(flows.Values, f => f.Instructions.OfType<ApplyActions>().Any(a => a.Actions.Contains(new GroupAction(g.GroupId))));
                    break;
                case FlowMod { Command: FlowModCommand.Add } f:
                    Assert.True(f.Instructions.OfType<ApplyActions>().SelectMany(a => a.Actions).OfType<GroupAction>().All(a => groups.ContainsKey(a.GroupId)), "a flow added before its group");
                    flows[new FlowKey(f.TableId, f.Priority, f.Match)] = new(f.TableId, f.Priority, f.Cookie, f.Match, f.Instructions);
                    break;
                case FlowMod { Command: FlowModCommand.DeleteStrict } f: Assert.True(flows.Remove(new FlowKey(f.TableId, f.Priority, f.Match))); break;
                default: Assert.Fail($"unexpected repair message {m}"); break;
            }
        }
        var after = OpenFlowRuleDiff.Compare(intended, flows.Values, groups.Values);
        Assert.Equal(0, after.Differences);
        Assert.Empty(after.RepairMessages());
    }

    [Fact]
    public void Compare_InSync_NoMessages()
    {
        using var sb = new OpenFlowSouthbound(new OpenFlowListener(new IPEndPoint(IPAddress.Loopback, 0)));
        var intended = new IntendedSwitchState();
        foreach (var m in sb.InstallMessages(new GroupRule(new VlanId(0), IpAddress.Parse("239.255.0.1"), [1, 2]), GroupModCommand.Add)) intended.Add(m);
        var diff = OpenFlowRuleDiff.Compare(intended, intended.Flows.Values, intended.Groups.Values);
        Assert.Equal((0, 2, 2, 2), (diff.Differences, diff.Matched, diff.Expected, diff.Observed));
        Assert.Empty(diff.RepairMessages());
    }
}
