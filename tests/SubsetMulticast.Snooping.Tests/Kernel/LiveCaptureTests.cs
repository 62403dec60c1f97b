using System.Diagnostics;
using System.Runtime.InteropServices;
using SubsetMulticast.Capture;
using Xunit.Abstractions;

namespace SubsetMulticast.Snooping.Tests.Kernel;

/// <summary>
/// Live snooping through SharpPcap (libpcap under whichever soname the system has) on the ports of a Linux bridge in
/// a namespace, with our querier injecting queries (pcap_sendpacket): the live state must reach the kernel's (port,
/// group) set.
/// </summary>
public sealed partial class LiveCaptureTests(ITestOutputHelper output)
{
    private const int CloneNewNet = 0x40000000;

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);

    [Fact]
    public async Task LiveSnooper_OnBridgePorts_ReachesKernelMdb_AndInjectsQueries()
    {
        Netns.RequireTools();
        if (!new[] { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu" }.Any(d => Directory.Exists(d) && Directory.EnumerateFiles(d, "libpcap.so*").Any()))
            Assert.Fail("libpcap is missing: install the Debian package 'libpcap0.8'.");
        string id = Random.Shared.Next(0x1000, 0xFFFF).ToString("x4", System.Globalization.CultureInfo.InvariantCulture);
        string bns = $"tsm-live-{id}-br", br = $"lb{id}";
        string Port(int n) => $"l{id}p{n}";
        string Host(int n) => $"tsm-live-{id}-h{n}";
        var dir = Directory.CreateTempSubdirectory("tsm-live-");
        string helper = Path.Combine(dir.FullName, "join.py");
        File.WriteAllText(helper, KernelBridgeConformanceTestsHelper.JoinHelper);
        using var env = new Netns();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Task? live = null;
        try
        {
            env.AddNamespace(bns);
            Netns.InNs(bns, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0");
            Netns.InNs(bns, "ip", "link", "add", br, "type", "bridge", "mcast_snooping", "1", "mcast_querier", "1",
                "mcast_igmp_version", "3", "mcast_mld_version", "2", "mcast_query_interval", "200",
                "mcast_query_response_interval", "100", "mcast_startup_query_interval", "100");
            Netns.InNs(bns, "ip", "link", "set", br, "up");
            for (int n = 1; n <= 2; n++)
            {
                env.AddNamespace(Host(n));
                Netns.InNs(Host(n), "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0");
                Netns.Run("ip", ["link", "add", Port(n), "netns", bns, "type", "veth", "peer", "name", "eth0", "netns", Host(n)]);
                Netns.InNs(bns, "ip", "link", "set", Port(n), "master", br, "up");
                Netns.InNs(Host(n), "ip", "addr", "add", $"10.78.0.{n}/24", "dev", "eth0");
            }

            // Open the capture handles from a thread that has entered the bridge's namespace (network
            // namespaces are per thread); the sockets stay there, so the readers may run anywhere.
            Snooper? snooper = null;
            Exception? openError = null;
            var options = new SnoopingOptions
            {
                QueryInterval = TimeSpan.FromSeconds(2),
                QueryResponseInterval = TimeSpan.FromSeconds(1),
                Querier = new QuerierOptions { IPv4Source = Frames.Ip("10.78.0.254"), IPv6Source = Frames.Ip("fe80::fe") },
            };
            var opener = new Thread(() =>
            {
                try
                {
                    using var fd = File.OpenHandle($"/var/run/netns/{bns}");
                    if (SetNs((int)fd.DangerousGetHandle(), CloneNewNet) != 0) throw new InvalidOperationException($"setns: errno {Marshal.GetLastPInvokeError()}");
                    live = SnoopSessions.RunLiveAsync(null, [Port(1), Port(2)], options, s => snooper = s, null, cts.Token);
                }
                catch (Exception e) { openError = e; }
            });
            opener.Start();
            Assert.True(opener.Join(TimeSpan.FromSeconds(20)), "opening the live captures hung");
            Assert.Null(openError);
            Assert.NotNull(snooper);

            for (int n = 1; n <= 2; n++) Netns.InNs(Host(n), "ip", "link", "set", "eth0", "up");
            env.Start(Host(1), null, "python3", helper, "4", "239.4.4.4", "eth0", "60");
            env.Start(Host(2), null, "python3", helper, "6", "ff0e::4:4", "eth0", "60");
            env.Start(Host(2), null, "python3", helper, "4", "232.4.4.4", "eth0", "60", "10.78.0.99");

            // Bounded wait until our live state has the kernel's set (and the kernel has our test groups).
            var sw = Stopwatch.StartNew();
            HashSet<(string, string)> kernel = [], ours = [];
            var ports = new HashSet<string> { Port(1), Port(2) };
            while (sw.Elapsed < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(500);
                Assert.False(live!.IsFaulted, live.Exception?.ToString());
                kernel = KernelBridgeConformanceTestsHelper.Mdb(bns, br).Where(e => ports.Contains(e.Port)).ToHashSet();
                ours = snooper!.Snapshot().Groups.Select(g => (g.Port, g.Group.ToString())).ToHashSet();
                if (kernel.Contains((Port(1), "239.4.4.4")) && kernel.Contains((Port(2), "ff0e::4:4")) && kernel.Contains((Port(2), "232.4.4.4"))
                    && kernel.SetEquals(ours)) break;
            }
            output.WriteLine($"kernel: {string.Join(' ', kernel)}\nours:   {string.Join(' ', ours)}");
            Assert.Equal(kernel.OrderBy(x => x).ToArray(), ours.OrderBy(x => x).ToArray());
            Assert.Contains((Port(1), "239.4.4.4"), ours);
            Assert.True(snooper!.QueriesSent > 0, "our querier injected nothing");
            var hosts = snooper!.Snapshot().Hosts;
            Assert.Contains(hosts, h => h.Port == Port(1) && h.Addresses.Contains(Frames.Ip("10.78.0.1")));
        }
        finally
        {
            cts.Cancel();
            if (live is not null)
            {
                bool stopped = await Task.WhenAny(live, Task.Delay(TimeSpan.FromSeconds(10))) == live;
                output.WriteLine($"live capture stopped: {stopped}; {live.Exception?.GetBaseException().Message}");
            }
            env.Dispose();
            try { dir.Delete(recursive: true); } catch (IOException) { }
        }
    }
}
