using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Audit;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Reconcile;
using SubsetMulticast.OpenFlow.Southbound;
using Xunit.Abstractions;

namespace SubsetMulticast.OpenFlow.Tests.Interop;

/// <summary>
/// The OpenFlow audit against a real Open vSwitch: rules removed, added and altered behind the controller's back with
/// ovs-ofctl are each reported in their category; repair fixes exactly those (the untouched rule's flow keeps its age,
/// the operator's own flow stays), and a second audit finds the switch in sync.
/// </summary>
[Trait("Category", "Interop")]
[Collection(OvsSecondLaneCollection.Name)]
public partial class RuleAuditOvsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Audit_TamperedWithOvsOfctl_EachInItsCategory_RepairFixesExactlyThose()
    {
        // ovs-vswitchd in a namespace of its own: the root namespace may hold another userspace datapath (see OvsLab).
        await using var lab = new OvsLab();
        await using var listener = new OpenFlowListener(new IPEndPoint(lab.ControllerAddress, 0),
            new OpenFlowOptions { RequestTimeout = TimeSpan.FromSeconds(30), HandshakeTimeout = TimeSpan.FromSeconds(30) });
        listener.Start();
        using var sb = new OpenFlowSouthbound(listener);
        int reconciles = 0;
        sb.Reconciled += (_, _, _) => Interlocked.Increment(ref reconciles);
        lab.StartDatabase();
        lab.StartSwitchDaemon();
        string br = lab.AddBridge("br", 0x0C01, listener.LocalEndpoint.Port);
        for (int i = 1; i <= 4; i++) lab.AddHost(br, i, ofport: i);
        string switchId = OpenFlowSession.FormatDatapathId(0x0C01);
        await Eventually.UntilAsync(() => listener.TryGetSwitch(switchId, out var s) && s.Ports.Count >= 5 && Volatile.Read(ref reconciles) >= 1, "OVS handshake and first reconcile", 60_000);

        GroupRule Rule(int n, params uint[] ports) => new(new VlanId(0), IpAddress.Parse($"239.255.0.{n}"), ports);
        var removed = Rule(1, 1, 2); var kept = Rule(2, 2, 3); var altered = Rule(3, 3, 4);
        Assert.True((await sb.ApplyAsync([new(switchId, null, removed), new(switchId, null, kept), new(switchId, null, altered)], default)).Succeeded);
        uint alteredGid = sb.GroupIdFor(altered.Vlan, altered.Group);
        const uint strayGid = 0x53FF_0002;
        // The operator's own flow, outside our cookie space: never ours to judge.
        lab.Ofctl($"add-flow {br} cookie=0x1234,priority=5,arp,actions=NORMAL");

        var audit = new OpenFlowRuleAudit(listener, sb);
        var clean = await audit.AuditAsync(switchId, repair: false, default);
        Assert.True(clean.InSync, string.Join("\n", clean.Items));
        Assert.Equal((6, 6, 6), (clean.Expected, clean.Observed, clean.Matched));

        // Behind the controller's back: a flow removed, a group and flow added in our spaces, a group's buckets altered.
        lab.Ofctl($"--strict del-flows {br} priority=1000,ip,nw_dst=239.255.0.1");
        lab.Ofctl($"add-group {br} group_id={strayGid},type=all,bucket=output:4");
        lab.Ofctl($"add-flow {br} cookie=0x{sb.CookieFor(strayGid):x},priority=1000,ip,nw_dst=239.255.0.98,actions=group:{strayGid}");
        lab.Ofctl($"mod-group {br} group_id={alteredGid},type=all,bucket=output:1");
        double keptAge = FlowAge(lab.Ofctl($"dump-flows {br}"), "239.255.0.2");

        var found = await audit.AuditAsync(switchId, repair: false, default);
        foreach (var i in found.Items) output.WriteLine($"{i.Category} {i.Kind} {i.Key} want {i.Expected} have {i.Observed}");
        Assert.Equal((6, 7, 4), (found.Expected, found.Observed, found.Matched));
        Assert.Equal((1, 2, 1, 0), (found.Missing, found.Extra, found.Modified, found.Unverifiable));
        Assert.Contains(found.Items, i => i is { Category: RuleAuditCategory.Missing, Kind: "flow" } && i.Key.Contains("ipv4_dst=239.255.0.1", StringComparison.Ordinal));
        Assert.Contains(found.Items, i => i is { Category: RuleAuditCategory.Extra, Kind: "group" } && i.Key == OpenFlowRuleDiff.GroupKey(strayGid));
        Assert.Contains(found.Items, i => i is { Category: RuleAuditCategory.Extra, Kind: "flow" } && i.Key.Contains("239.255.0.98", StringComparison.Ordinal));
        var mod = Assert.Single(found.Items, i => i.Category == RuleAuditCategory.Modified);
        Assert.Equal(("group", OpenFlowRuleDiff.GroupKey(alteredGid), "type=all buckets=output:3,output:4", "type=all buckets=output:1"), (mod.Kind, mod.Key, mod.Expected, mod.Observed));
        Assert.All(found.Items, i => Assert.Equal(RuleAuditAction.None, i.Action));
        Assert.Contains("239.255.0.98", lab.Ofctl($"dump-flows {br}")); // an audit alone changes nothing

        var repaired = await audit.AuditAsync(switchId, repair: true, default);
        Assert.Equal("bundle", repaired.RepairResult);
        Assert.Equal(4, repaired.Repaired);
        Assert.All(repaired.Items, i => Assert.Equal(RuleAuditAction.Repaired, i.Action));
        string flows = lab.Ofctl($"dump-flows {br}"), groups = lab.Ofctl($"dump-groups {br}");
        output.WriteLine(flows); output.WriteLine(groups);
        Assert.Contains("nw_dst=239.255.0.1 ", flows);
        Assert.DoesNotContain("239.255.0.98", flows);
        Assert.DoesNotContain($"group_id={strayGid}", groups);
        string alteredLine = groups.Split('\n').Single(l => l.Contains($"group_id={alteredGid},", StringComparison.Ordinal));
        Assert.Contains("output:3", alteredLine);
        Assert.Contains("output:4", alteredLine);
        Assert.DoesNotContain("output:1", alteredLine);
        Assert.Contains("cookie=0x1234", flows);
        Assert.True(FlowAge(flows, "239.255.0.2") >= keptAge, "the rule that was right was rewritten");

        var after = await audit.AuditAsync(switchId, repair: false, default);
        Assert.True(after.InSync, string.Join("\n", after.Items));
    }

    /// <summary>The duration= of the flow for a group address in a dump-flows listing (seconds).</summary>
    private static double FlowAge(string dump, string group)
    {
        var line = dump.Split('\n').Single(l => l.Contains($"nw_dst={group} ", StringComparison.Ordinal) || l.EndsWith($"nw_dst={group}", StringComparison.Ordinal) || l.Contains($"nw_dst={group},", StringComparison.Ordinal));
        return double.Parse(Duration().Match(line).Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"duration=([0-9.]+)s")]
    private static partial Regex Duration();
}
