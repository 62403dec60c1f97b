using System.Diagnostics;
using System.Net;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Southbound;
using Xunit.Abstractions;

namespace SubsetMulticast.OpenFlow.Tests.Interop;

/// <summary>
/// Hitless reconcile against a real Open vSwitch: while a sender streams numbered datagrams to a live group, the
/// switch's controller connection drops and comes back, and the reconcile on reconnect rewrites the live group's flow
/// (its cookie was changed behind our back) and removes a stray rule — all in one ONF bundle. The receivers (AF_PACKET
/// captures; nobody joins the group) count every datagram: the members get all of them, the non-member none.
/// </summary>
[Trait("Category", "Interop")]
[Collection(OvsThirdLaneCollection.Name)]
public class HitlessReconcileOvsTests(ITestOutputHelper output)
{
    private const string Group = "239.255.0.5";
    private const int UdpPort = 5011;
    private const int Datagrams = 2500; // every 2 ms: a 5 s stream, around the reconnect

    [Fact]
    public async Task Reconnect_WhileStreaming_BundleReconcileLosesNoDatagram()
    {
        // ovs-vswitchd in a namespace of its own: the root namespace may hold another userspace datapath (see OvsLab).
        await using var lab = new OvsLab();
        await using var listener = new OpenFlowListener(new IPEndPoint(lab.ControllerAddress, 0),
            new OpenFlowOptions { RequestTimeout = TimeSpan.FromSeconds(30), HandshakeTimeout = TimeSpan.FromSeconds(30) });
        listener.Start();
        using var sb = new OpenFlowSouthbound(listener);
        var reconciled = new List<ReconcileResult?>();
        sb.Reconciled += (_, r, e) => { lock (reconciled) reconciled.Add(r); output.WriteLine($"reconciled: {r?.ToString() ?? e}"); };

        lab.StartDatabase();
        lab.StartSwitchDaemon();
        const ulong dpid = 0x0B01;
        string br = lab.AddBridge("br", dpid, listener.LocalEndpoint.Port);
        var hosts = Enumerable.Range(1, 4).Select(i => lab.AddHost(br, i, ofport: i)).ToArray();
        string switchId = OpenFlowSession.FormatDatapathId(dpid);
        await Eventually.UntilAsync(() => listener.TryGetSwitch(switchId, out var s) && s.Ports.Count >= 5, "OVS handshake", 60_000, () => lab.LogTail("vswitchd.log", 15));
        await Eventually.UntilAsync(() => { lock (reconciled) return reconciled.Count >= 1; }, "initial reconciliation", 30_000);

        var rule = new GroupRule(new VlanId(0), IpAddress.Parse(Group), [2, 3]);
        Assert.True((await sb.ApplyAsync([new SwitchChange(switchId, null, rule)], default)).Succeeded);
        uint gid = sb.GroupIdFor(rule.Vlan, rule.Group);

        // Behind the controller's back: the live flow gets another cookie (same match, same actions: forwarding is
        // unchanged) and a stray group + flow appear in our spaces. The reconcile must rewrite the first and remove the rest.
        ulong ours = sb.CookieFor(gid);
        lab.Ofctl($"add-flow {br} cookie=0x{ours ^ 0xFF:x},priority=1000,ip,nw_dst={Group},actions=group:{gid}");
        lab.Ofctl($"add-group {br} group_id={0x53FF_0001u},type=all,bucket=output:4");
        lab.Ofctl($"add-flow {br} cookie=0x{sb.CookieFor(0x53FF_0001u):x},priority=1000,ip,nw_dst=239.255.0.99,actions=group:{0x53FF_0001u}");

        var receivers = new Dictionary<int, (Process P, List<string> Lines, Task Pump)>();
        foreach (int i in new[] { 2, 3, 4 })
        {
            var p = lab.StartReceiver(hosts[i - 1], i, Group, UdpPort);
            var lines = new List<string>();
            Assert.Equal("ready", await p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)));
            var pump = Task.Run(async () =>
            {
                while (await p.StandardOutput.ReadLineAsync() is { } line) lock (lines) lines.Add(line);
            });
            receivers[i] = (p, lines, pump);
        }

        string sendPy = Path.Combine(lab.Dir, "stream.py");
        await File.WriteAllTextAsync(sendPy, $"""
            import socket,time
            s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
            s.setsockopt(socket.IPPROTO_IP,socket.IP_MULTICAST_IF,socket.inet_aton('10.77.0.1'))
            s.setsockopt(socket.IPPROTO_IP,socket.IP_MULTICAST_TTL,1)
            t=time.time()
            for i in range({Datagrams}):
                s.sendto(b'seq-%d' % i,('{Group}',{UdpPort}))
                t+=0.002
                d=t-time.time()
                if d>0: time.sleep(d)
            """);
        using var sender = Shell.Start("ip", $"netns exec {hosts[0]} python3 {sendPy}");
        // Once the stream is flowing to a member, drop the controller connection: OVS (fail_mode=secure) keeps its
        // tables and reconnects; the reconcile on that connect runs while datagrams keep coming.
        await Eventually.UntilAsync(() => { lock (receivers[2].Lines) return receivers[2].Lines.Count >= 200; }, "the stream reaching member 2", 30_000);
        int before; lock (reconciled) before = reconciled.Count;
        listener.TryGetSwitch(switchId, out var session);
        await session.CloseAsync("test: controller connection dropped");
        await Eventually.UntilAsync(() => { lock (reconciled) return reconciled.Count > before; }, "reconcile after reconnect", 30_000, () => lab.LogTail("vswitchd.log", 10));
        ReconcileResult? r; lock (reconciled) r = reconciled[before];
        Assert.NotNull(r);
        Assert.Equal("bundle", r!.Method);
        Assert.Equal((0, 1, 2), (r.Added, r.Modified, r.Removed));
        bool stillStreaming = !sender.HasExited;
        await sender.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(stillStreaming, "the reconcile finished after the stream ended; the test proved nothing");
        await Task.Delay(OvsLab.DeliveryGrace);

        var counts = new Dictionary<int, HashSet<int>>();
        foreach (var (i, (p, lines, pump)) in receivers)
        {
            await p.StandardInput.WriteLineAsync("stop");
            p.StandardInput.Close();
            await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            await pump.WaitAsync(TimeSpan.FromSeconds(30));
            lock (lines)
                counts[i] = lines.Where(l => l.StartsWith("got seq-", StringComparison.Ordinal) && l.EndsWith(" 10.77.0.1", StringComparison.Ordinal))
                    .Select(l => int.Parse(l.AsSpan(8, l.IndexOf(' ', 8) - 8), System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        }
        output.WriteLine($"received: member 2 {counts[2].Count}/{Datagrams}, member 3 {counts[3].Count}/{Datagrams}, non-member 4 {counts[4].Count}");
        Assert.Equal(Datagrams, counts[2].Count);
        Assert.Equal(Datagrams, counts[3].Count);
        Assert.Empty(counts[4]);

        string flows = lab.Ofctl($"dump-flows {br}"), groups = lab.Ofctl($"dump-groups {br}");
        Assert.Contains($"cookie=0x{ours:x},", flows);
        Assert.DoesNotContain("239.255.0.99", flows);
        Assert.DoesNotContain($"group_id={0x53FF_0001u}", groups);
    }
}
