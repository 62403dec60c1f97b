using System.Diagnostics;
using System.Net;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.OpenFlow.Southbound;
using Xunit.Abstractions;

namespace SubsetMulticast.OpenFlow.Tests.Interop;

/// <summary>
/// Against a real Open vSwitch (Debian openvswitch-switch, userspace datapath). Fails — never skips —
/// when the package is missing. Runs as root (namespaces, veths).
/// </summary>
[Trait("Category", "Interop")]
[Collection(OvsSecondLaneCollection.Name)]
public class OpenVswitchInteropTests(ITestOutputHelper output)
{
    private const string Group = "239.77.0.1";
    private const int UdpPort = 5007;

    [Fact]
    public async Task OpenVswitch_GroupRuleInstalledReleasedAndRestoredAfterRestart_RealMulticastReachesOnlyMembers()
    {
        await using var lab = new OvsLab();
        await using var listener = new OpenFlowListener(new IPEndPoint(lab.ControllerAddress, 0),
            new OpenFlowOptions { RequestTimeout = TimeSpan.FromSeconds(30), HandshakeTimeout = TimeSpan.FromSeconds(30) });
        listener.Start();
        using var sb = new OpenFlowSouthbound(listener);
        var reconciled = new List<ReconcileResult?>();
        sb.Reconciled += (_, r, _) => { lock (reconciled) reconciled.Add(r); };

        lab.StartDatabase();
        lab.StartSwitchDaemon();
        const ulong dpid = 0x0000_0000_0000_0A01;
        string br = lab.AddBridge("br", dpid, listener.LocalEndpoint.Port);
        var hosts = Enumerable.Range(1, 4).Select(i => lab.AddHost(br, i, ofport: i)).ToArray();
        string switchId = OpenFlowSession.FormatDatapathId(dpid);
        Assert.Equal("0000000000000a01", switchId);

        // Handshake, features, port description.
        // Generous and bounded: on the 2-core CI machine every test assembly (and a second OVS lab) runs at once.
        await Eventually.UntilAsync(() => listener.TryGetSwitch(switchId, out var s) && s.Ports.Count >= 5, "OVS handshake with 4 ports + LOCAL", 60_000,
            () => $"sessions: [{string.Join(", ", listener.Switches.Select(kv => $"{kv.Key} ready={kv.Value.IsReady} ports={kv.Value.Ports.Count}"))}]\n{lab.LogTail("vswitchd.log", 15)}");
        listener.TryGetSwitch(switchId, out var session);
        output.WriteLine($"features: dpid={session.DatapathId:x16} tables={session.Features!.NTables} caps=0x{session.Features.Capabilities:x}");
        foreach (var p in session.Ports.Values.OrderBy(p => p.PortNo)) output.WriteLine($"port {p.PortNo} {p.Name} {p.HwAddr} up={p.IsUp}");
        Assert.Equal($"{lab.Tag}s2", session.Ports[2].Name);
        await Eventually.UntilAsync(() => { lock (reconciled) return reconciled.Count >= 1; }, "initial reconciliation", 30_000);

        // Install: members on ports 2 and 3; port 4 has a listener that must hear nothing.
        var rule = new GroupRule(new VlanId(0), IpAddress.Parse(Group), [2, 3]);
        var sw = Stopwatch.StartNew();
        var result = await sb.ApplyAsync([new SwitchChange(switchId, null, rule)], default);
        output.WriteLine($"install confirmed by barrier in {sw.Elapsed.TotalMilliseconds:0.0} ms");
        Assert.True(result.Succeeded, string.Join("; ", result.Failures));
        uint gid = sb.GroupIdFor(rule.Vlan, rule.Group);
        string groups = lab.Ofctl($"dump-groups {br}");
        string flows = lab.Ofctl($"dump-flows {br}");
        output.WriteLine(groups); output.WriteLine(flows);
        Assert.Contains($"group_id={gid},type=all", groups);
        Assert.Contains("actions=output:2", groups);
        Assert.Contains("actions=output:3", groups);
        Assert.Contains($"nw_dst={Group}", flows);
        Assert.Contains($"actions=group:{gid}", flows);
        Assert.Contains("cookie=0x534d", flows);

        await AssertDeliveryAsync(lab, hosts, expectReceivers: [2, 3], tag: "first");

        // Re-push with other ports: MODIFY.
        var moved = rule with { Ports = [3, 4] };
        Assert.True((await sb.ApplyAsync([new SwitchChange(switchId, rule, moved)], default)).Succeeded);
        Assert.Contains("actions=output:4", lab.Ofctl($"dump-groups {br}"));
        Assert.True((await sb.ApplyAsync([new SwitchChange(switchId, moved, rule)], default)).Succeeded);

        // Restart ovs-vswitchd: its flows and groups are gone; reconciliation must restore them.
        int before; lock (reconciled) before = reconciled.Count;
        lab.KillSwitchDaemon();
        await session.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        lab.StartSwitchDaemon();
        // A restarted vswitchd may reconnect more than once while it re-adds ports; take the first success.
        await Eventually.UntilAsync(() => { lock (reconciled) return reconciled.Skip(before).Any(r => r is not null); }, "reconciliation after restart", 60_000);
        ReconcileResult? after; lock (reconciled) after = reconciled.Skip(before).First(r => r is not null);
        output.WriteLine($"after restart: {after}");
        Assert.NotNull(after);
        Assert.Equal(2, after!.Added); // the group and its flow, in one bundle
        Assert.Equal("bundle", after.Method);
        Assert.Contains($"group_id={gid},type=all", lab.Ofctl($"dump-groups {br}"));
        await AssertDeliveryAsync(lab, hosts, expectReceivers: [2, 3], tag: "restored");

        // A second reconciliation finds everything right and touches nothing.
        listener.TryGetSwitch(switchId, out var session2);
        var again = await sb.ReconcileAsync(session2, default);
        Assert.Equal((0, 0, 0, 2), (again.Added, again.Modified, again.Removed, again.Kept));
        Assert.Null(again.Method); // nothing sent

        // Release removes both rules.
        Assert.True((await sb.ApplyAsync([new SwitchChange(switchId, rule, null)], default)).Succeeded);
        Assert.DoesNotContain($"group_id={gid}", lab.Ofctl($"dump-groups {br}"));
        Assert.DoesNotContain(Group, lab.Ofctl($"dump-flows {br}"));
        await AssertDeliveryAsync(lab, hosts, expectReceivers: [], tag: "released");
    }

    [Fact]
    public async Task OpenVswitch_GroupModRefused_TransactionFailsWithNamedError()
    {
        await using var lab = new OvsLab();
        await using var listener = new OpenFlowListener(new IPEndPoint(lab.ControllerAddress, 0));
        listener.Start();
        lab.StartDatabase();
        lab.StartSwitchDaemon();
        string br = lab.AddBridge("br", 0xB01, listener.LocalEndpoint.Port);
        string id = OpenFlowSession.FormatDatapathId(0xB01);
        await Eventually.UntilAsync(() => listener.TryGetSwitch(id, out _), "handshake", 20_000);
        listener.TryGetSwitch(id, out var session);
        // Real OVS answer: a second ADD of the same group is GROUP_MOD_FAILED/GROUP_EXISTS.
        var add = new GroupMod(GroupModCommand.Add, GroupType.All, 77, []);
        Assert.Empty(await session.ApplyWithBarrierAsync([add]));
        var errors = await session.ApplyWithBarrierAsync([add]);
        Assert.Equal("GROUP_MOD_FAILED/GROUP_EXISTS", Assert.Single(errors).Name);
        Assert.Contains("group_id=77", lab.Ofctl($"dump-groups {br}"));
    }

    private async Task AssertDeliveryAsync(OvsLab lab, string[] hosts, int[] expectReceivers, string tag)
    {
        var hostNs = Enumerable.Range(1, hosts.Length).ToDictionary(i => i, i => hosts[i - 1]);
        var got = await lab.DeliverAsync(hostNs, sender: 1, listeners: [2, 3, 4], Group, UdpPort, tag);
        output.WriteLine($"{tag}: received by [{string.Join(',', got)}]");
        Assert.Equal(expectReceivers, got.Order().ToArray());
    }
}
