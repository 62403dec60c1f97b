using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Controller;
using SubsetMulticast.Controller.OpenFlowFabric;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Discovery;
using Xunit.Abstractions;

namespace SubsetMulticast.OpenFlow.Tests.Interop;

/// <summary>
/// Issue 14, "release means stopped", on Open vSwitch (userspace datapath) with real UDP: a one-address block
/// makes every group re-use the address just released, alternating its one member between h2 and h3, while h1
/// sends to that address without pause. The receivers capture with AF_PACKET and never join the rendezvous
/// group. A datagram sent while group i (member m) is confirmed must never reach the other host — OVS's
/// datapath flow cache lags its barrier, so without the controller's hold-down the previous group's port still
/// gets it — and one sent after DELETE?wait=stopped returned (and before the next POST) must reach nobody.
/// The same run with the hold-down set to 0 must breach: that case proves the check sees what the hold-down
/// prevents (without it, this test would pass against a controller that re-uses addresses at once).
/// TSM_HOLDDOWN_TRIALS sets the trials (default 30, each at least one hold-down long; the issue's 1,000 is a long
/// run, tests/proof/run.sh --latency); TSM_RELEASE_HOLDDOWN_MS overrides the default case's hold-down.
/// </summary>
[Trait("Category", "Interop")]
[Collection(OvsDaemonCollection.Name)]
public class ReleaseHoldDownOvsTests(ITestOutputHelper output)
{
    private const int UdpPort = 5010;
    private const string Reference = "239.1.0.1";
    private const string Block = "239.255.9.9";

    [Fact]
    public Task ReusedAddress_NeverDeliversToThePreviousGroup_AndNothingAfterDelete() =>
        (Task)RunAsync(int.TryParse(Environment.GetEnvironmentVariable("TSM_RELEASE_HOLDDOWN_MS"), out var hd) ? hd : null, expectBreach: false);

    /// <summary>The control: no hold-down, the address re-used at once — OVS's lagging datapath delivers to the previous group's port or after the DELETE returned.</summary>
    /// <remarks>Whether OVS's datapath lags the re-use long enough depends on the machine's moment. At the suite's load a
    /// lab shows the breach about half the time (2026-12-02, with two CPU hogs: 0, 0, 130, 0, 5 and 18 breaches in six labs
    /// of 400 trials), so the control tries up to six labs (~15 s each) and the breach must show in one. Three labs of 400
    /// trials, with each DELETE awaited before the next POST, failed in one of four whole-suite runs at load 17–31 and, with
    /// the sender already at nice -15, in a run beside two CPU hogs (0 breaches in 1,200 trials).</remarks>
    [Fact]
    public async Task WithoutTheHoldDown_TheSameCheckSeesTheBreach()
    {
        for (int attempt = 1; attempt <= 6; attempt++)
            if (await RunAsync(0, expectBreach: true, trials: 400) > 0) return;
        Assert.Fail("no breach in 6 × 400 trials without the hold-down: the check cannot tell a hold-down from none");
    }

    /// <returns>The breaches seen (a datagram to the previous group's port, or after the DELETE returned).</returns>
    private async Task<int> RunAsync(int? holdDownMs, bool expectBreach, int trials = 30)
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("TSM_HOLDDOWN_TRIALS"), out var t)) trials = t;
        var lifecycle = new LifecycleOptions().AddVlan(0, Block + "/32");
        if (holdDownMs is { } hd) lifecycle.ReleaseHoldDown = TimeSpan.FromMilliseconds(hd);

        // Open vSwitch in a namespace of its own; the controller is reached over the lab's management veth.
        await using var lab = new OvsLab();
        lab.StartDatabase();
        lab.StartSwitchDaemon();
        await using var service = await OpenFlowControllerService.StartAsync(new OpenFlowControllerSettings
        {
            Controller = new ControllerOptions { ApiUrl = "http://127.0.0.1:0", PushUdp = null, Lifecycle = lifecycle, ConfigureLogging = l => l.ClearProviders() },
            // The switch daemon runs in its own namespace; it reaches us over our own veth pair.
            OpenFlowEndpoint = new IPEndPoint(lab.ControllerAddress, 0),
            Connection = new OpenFlowOptions { HandshakeTimeout = TimeSpan.FromSeconds(30), RequestTimeout = TimeSpan.FromSeconds(30) },
            Discovery = new DiscoveryOptions { LldpInterval = TimeSpan.FromSeconds(1) },
            // Our querier keeps the hosts' reference-group memberships alive past the 260 s membership interval (long runs).
            Learner = new Learning.FabricLearnerOptions
            {
                Snooping = Snooping.SnoopingOptions.FromQueryTimers(TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(2),
                    new Snooping.QuerierOptions { IPv4Source = Core.Addressing.IpAddress.Parse("10.77.0.254"), Vlans = [new Core.Addressing.VlanId(0)] }),
            },
        });
        using var http = new HttpClient { BaseAddress = service.Controller.ApiUrl, Timeout = TimeSpan.FromSeconds(30) };
        string br = lab.AddBridge("br", 0x21, service.Listener.LocalEndpoint.Port);
        var ns = new Dictionary<int, string>();
        for (int i = 1; i <= 3; i++) ns[i] = lab.AddHost(br, i, ofport: i);
        await Eventually.UntilAsync(() => Task.FromResult(lab.Ofctl($"dump-flows {br}")), f => f.Contains("cookie=0x534e", StringComparison.Ordinal),
            // A bridge ovs-vswitchd has not created yet makes ovs-ofctl fail: that is "not yet".
            "punt flows", 90_000, () => lab.LogTail("vswitchd.log", 8), notYet: e => e is InvalidOperationException);
        // Every host joins the REFERENCE group (kernel IGMP); nobody ever joins the rendezvous address.
        foreach (var (i, n) in ns) Shell.Check("ip", $"netns exec {n} ip addr add {Reference}/32 dev {lab.Tag}i{i} autojoin");
        await Eventually.UntilAsync(() => Task.FromResult(service.References.TryGet(0, Core.Addressing.IpAddress.Parse(Reference), out var g) && g.SwitchCount == 1 && service.Hosts.Count >= 3),
            ok => ok, "three joins and three hosts learned", 30_000, () => lab.LogTail("vswitchd.log", 8));

        var captures = new Dictionary<int, Process> { [2] = StartCapture(lab, ns[2], 2), [3] = StartCapture(lab, ns[3], 3) };
        Process? sender = null;
        try
        {
            foreach (var (i, p) in captures)
                if (await p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20)) != "ready")
                    Assert.Fail($"capture on h{i} did not start: {await p.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(5))}");
            // The control samples OVS's lag finer: a lag shorter than the sender's gap shows no breach.
            sender = StartSender(lab, ns[1], gapSeconds: expectBreach ? 0.00005 : 0.0002);
            Assert.Equal("sending", await sender.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20)));

            // Trial i: POST (member m_i) → 201 at created; hold 3 ms; DELETE?wait=stopped sent at releasing, back at stopped.
            var log = new List<(int Member, long Posted, long Created, long Releasing, long Stopped)>();
            int busy = 0;
            // The control re-uses the address as soon as the controller frees it: its DELETE is still in flight while the next
            // POST retries its 409s. Awaited in turn, the REST round trips at the suite's load gave OVS's revalidators time to
            // catch up between release and re-use (no breach in 3 × 400 trials, with the sender at 2,900/s); overlapped, the
            // gap is the controller's alone, as it would be for two clients.
            (int Index, Task<long> Stopped)? pending = null;
            async Task FinishPendingAsync()
            {
                if (pending is not { } p) return;
                long stoppedAt = await p.Stopped;
                var x = log[p.Index];
                log[p.Index] = (x.Member, x.Posted, x.Created, x.Releasing, stoppedAt);
                pending = null;
            }
            for (int i = 0; i < trials; i++)
            {
                int member = i % 2 == 0 ? 2 : 3;
                long posted = Stopwatch.GetTimestamp();
                string id;
                while (true)
                {
                    using var created = await http.PostAsJsonAsync("api/v1/groups", new { vlan = 0, reference = Reference, members = new[] { $"10.77.0.{member}" }, ttlMs = 60_000 });
                    if (created.StatusCode == HttpStatusCode.Conflict && busy++ < 100_000) continue; // the address is still held down
                    var text = await created.Content.ReadAsStringAsync();
                    Assert.True(created.StatusCode == HttpStatusCode.Created, text);
                    id = JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
                    break;
                }
                long createdAt = Stopwatch.GetTimestamp();
                await FinishPendingAsync();
                await Task.Delay(3);
                long releasing = Stopwatch.GetTimestamp();
                var stopped = DeleteAsync(id);
                if (expectBreach) pending = (log.Count, stopped);
                log.Add((member, posted, createdAt, releasing, expectBreach ? long.MaxValue : await stopped));
            }
            await FinishPendingAsync();

            async Task<long> DeleteAsync(string id)
            {
                using var deleted = await http.DeleteAsync($"api/v1/groups/{id}?wait=stopped");
                Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
                return Stopwatch.GetTimestamp();
            }
            output.WriteLine($"{trials} trials in {(Stopwatch.GetTimestamp() - log[0].Posted) / 1e9:0.0} s");
            foreach (var p in captures.Values.Append(sender))
                if (p.HasExited) Assert.Fail($"a helper exited early ({p.ExitCode}): {await p.StandardOutput.ReadToEndAsync()} {await p.StandardError.ReadToEndAsync()}");
            await File.WriteAllTextAsync(Path.Combine(lab.Dir, "stop"), "stop");
            var got = new Dictionary<int, List<long>>();
            foreach (var (i, p) in captures)
            {
                var lines = (await p.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30))).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                got[i] = [.. lines.Select(l => long.Parse(l, CultureInfo.InvariantCulture))];
            }
            string sent = (await sender.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30))).Trim();

            // Judge every captured datagram by its send time (CLOCK_MONOTONIC in both python and .NET on Linux).
            int delivered = 0, toOldGroup = 0, afterStop = 0;
            double maxLagMs = 0;
            var breaches = new List<string>();
            foreach (var (host, times) in got)
                foreach (long s in times)
                {
                    int k = log.FindLastIndex(x => x.Posted <= s);
                    if (k < 0) continue;
                    var x = log[k];
                    if (s >= x.Created && s < x.Releasing)
                    {
                        if (host == x.Member) delivered++;
                        else { toOldGroup++; breaches.Add($"h{host} got a datagram sent {(s - x.Created) / 1e6:0.000} ms after trial {k}'s group (member h{x.Member}) was confirmed"); }
                    }
                    else if (s >= x.Releasing && s < x.Stopped && host == x.Member)
                        maxLagMs = Math.Max(maxLagMs, (s - x.Releasing) / 1e6);
                    else if (s >= x.Stopped)
                    { afterStop++; breaches.Add($"h{host} got a datagram sent {(s - x.Stopped) / 1e6:0.000} ms after trial {k}'s DELETE?wait=stopped returned"); }
                }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"HOLDDOWN {DateTime.UtcNow:yyyy-MM-dd HH:mm} {Environment.ProcessorCount} cores, load {File.ReadAllText("/proc/loadavg").Trim()}: {trials} trials on OVS, hold-down {lifecycle.ReleaseHoldDown.TotalMilliseconds} ms, sender {sent}; delivered to members {delivered}, to the previous group's port {toOldGroup}, after DELETE returned {afterStop}; latest member delivery {maxLagMs:0.000} ms after the DELETE was sent; 409 retries {busy}"));
            foreach (var b in breaches.Take(20)) output.WriteLine(b);
            Assert.True(delivered > trials / 2, $"only {delivered} datagrams reached members in {trials} trials: the sender or captures did not work");
            if (!expectBreach) Assert.Empty(breaches);
            return breaches.Count;
        }
        finally
        {
            foreach (var p in captures.Values.Append(sender))
                if (p is { HasExited: false }) { p.Kill(); p.WaitForExit(5000); }
        }
    }

    /// <summary>AF_PACKET capture of inbound UDP to the rendezvous address (no IGMP join) until the lab's stop file appears: prints each datagram's send time.</summary>
    private static Process StartCapture(OvsLab lab, string ns, int index)
    {
        string script = $"""
            import socket,select,sys,struct,os,time
            s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW,socket.htons(0x0800))
            s.bind(('{lab.Tag}i{index}',0))
            dst=socket.inet_aton('{Block}')
            print('ready',flush=True)
            out=[]
            end=time.time()+600
            while time.time()<end and not os.path.exists('{lab.Dir}/stop'):
                r,_,_=select.select([s],[],[],0.2)
                if not r: continue
                d,a=s.recvfrom(4096)
                if a[2]==socket.PACKET_OUTGOING or len(d)<42 or d[23]!=17 or d[30:34]!=dst: continue
                ihl=(d[14]&15)*4
                if struct.unpack('!H',d[14+ihl+2:14+ihl+4])[0]!={UdpPort}: continue
                out.append(d[14+ihl+8:].decode())
            print('\n'.join(out),flush=True)
            """;
        var path = Path.Combine(lab.Dir, $"cap{index}.py");
        File.WriteAllText(path, script);
        return Shell.Start("ip", $"netns exec {ns} python3 {path}");
    }

    /// <summary>Sends to the rendezvous address every <paramref name="gapSeconds"/> or so (payload = CLOCK_MONOTONIC ns at send) until the lab's stop file appears.</summary>
    private static Process StartSender(OvsLab lab, string ns, double gapSeconds)
    {
        string script = $"""
            import socket,select,sys,time,os
            s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
            s.setsockopt(socket.IPPROTO_IP,socket.IP_MULTICAST_IF,socket.inet_aton('10.77.0.1'))
            s.setsockopt(socket.IPPROTO_IP,socket.IP_MULTICAST_TTL,1)
            print('sending',flush=True)
            n=0
            e=0
            t0=time.monotonic()
            while time.monotonic()-t0<600:
                try:
                    s.sendto(str(time.monotonic_ns()).encode(),('{Block}',{UdpPort})); n+=1
                except OSError:
                    e+=1
                time.sleep({gapSeconds.ToString(CultureInfo.InvariantCulture)})
                if n%100==0 and os.path.exists('{lab.Dir}/stop'): break
            print(str(n)+' datagrams ('+str(e)+' send errors), '+str(int(n/(time.monotonic()-t0)))+'/s',flush=True)
            """;
        var path = Path.Combine(lab.Dir, "sender.py");
        File.WriteAllText(path, script);
        // At the suite's load a sender at nice 0 slept 1–2 ms instead of 0.2 (400–1,100 datagrams/s; CI runs 2026-12-02): too few
        // in each few-millisecond datapath lag for the control to see a breach in 400 trials. At nice -15 its wake-ups stay prompt.
        return Shell.Start("ip", $"netns exec {ns} nice -n -15 python3 {path}");
    }
}
