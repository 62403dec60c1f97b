using System.Diagnostics;
using System.Text;
using System.Text.Json;
using SubsetMulticast.Capture;
using Xunit.Abstractions;

namespace SubsetMulticast.Snooping.Tests.Kernel;

/// <summary>
/// The Linux bridge is the reference: hosts in namespaces join and leave with real kernel sockets, dumpcap
/// captures every bridge port (inbound only) into one pcapng, and our replay of that capture must reach the
/// same (port, group) set as <c>bridge -j mdb show</c> at the same moments.
/// </summary>
public sealed class KernelBridgeConformanceTests(ITestOutputHelper output)
{
    // Bridge timers, shrunk so the test stays short (centiseconds for iproute2). Our snooper gets the same values.
    private const int MembershipCs = 500, QueryIntervalCs = 200, ResponseCs = 100, LastMemberCs = 100, LastMemberCount = 2;

    internal const string JoinHelper = """
        import socket, struct, sys, time, fcntl
        fam, group, ifname, hold = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
        src = sys.argv[5] if len(sys.argv) > 5 else None
        idx = socket.if_nametoindex(ifname)
        if fam == '4':
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            if src:
                addr = fcntl.ioctl(s.fileno(), 0x8915, struct.pack('256s', ifname.encode()))[20:24]  # SIOCGIFADDR
                s.setsockopt(socket.IPPROTO_IP, 39, socket.inet_aton(group) + addr + socket.inet_aton(src))  # IP_ADD_SOURCE_MEMBERSHIP
            else:
                s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, struct.pack('4s4si', socket.inet_aton(group), b'\0' * 4, idx))
        else:
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            if src:
                def ss6(a):
                    return struct.pack('HHI16sI', socket.AF_INET6, 0, 0, socket.inet_pton(socket.AF_INET6, a), 0).ljust(128, b'\0')
                s.setsockopt(socket.IPPROTO_IPV6, 46, struct.pack('I4x', idx) + ss6(group) + ss6(src))  # MCAST_JOIN_SOURCE_GROUP
            else:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, socket.inet_pton(socket.AF_INET6, group) + struct.pack('I', idx))
        print('joined', file=sys.stderr, flush=True)
        sys.stdin.readline()   # every hold starts at the test's one "go", however spread out the joins were
        time.sleep(hold)
        s.close()
        """;

    [Fact]
    public async Task TsmSnoopCli_OnBridgePortCapture_MatchesKernelMdb_AfterJoinsAndAfterLeavesAndTimeout()
    {
        Netns.RequireTools();
        string id = Random.Shared.Next(0x1000, 0xFFFF).ToString("x4", System.Globalization.CultureInfo.InvariantCulture);
        string bns = $"tsm-snoop-{id}-br", br = $"br{id}", sw7 = $"tsm-snoop-{id}-sw7";
        string Port(int n) => $"s{id}p{n}";
        string Host(int n) => $"tsm-snoop-{id}-h{n}";
        var dir = Directory.CreateTempSubdirectory("tsm-snoop-");
        string pcap = Path.Combine(dir.FullName, "ports.pcapng"), helper = Path.Combine(dir.FullName, "join.py");
        await File.WriteAllTextAsync(helper, JoinHelper);
        const int hosts = 6, ports = 7;
        // Host versions: h1 IGMPv2, h2 IGMPv3, h3 IGMPv3 + MLDv2 on a fast-leave port, h4 MLDv1, h5 MLDv2,
        // h6 IGMPv1 (no leave → timeout). h7 and h8 (IGMPv3 + MLDv2) share port 7 through a plain switch, and
        // port 7 has fast leave: the kernel tracks hosts there (explicit host tracking), so one host leaving
        // must not cut the other off.
        int[] igmp = [0, 2, 0, 0, 0, 0, 1, 0, 0];
        int[] mld = [0, 0, 0, 0, 1, 0, 0, 0, 0];
        using var env = new Netns();
        try
        {
            env.AddNamespace(bns);
            await NoDad(bns);
            await Netns.InNsAsync(bns, "ip", "link", "add", br, "type", "bridge", "mcast_snooping", "1", "mcast_querier", "1",
                "mcast_igmp_version", "3", "mcast_mld_version", "2",
                "mcast_membership_interval", $"{MembershipCs}", "mcast_query_interval", $"{QueryIntervalCs}",
                "mcast_query_response_interval", $"{ResponseCs}", "mcast_last_member_interval", $"{LastMemberCs}",
                "mcast_last_member_count", $"{LastMemberCount}",
                // Set explicitly: the bridge derives it from the default query interval (31 s) at creation.
                "mcast_startup_query_interval", "100", "mcast_startup_query_count", "2");
            await Netns.InNsAsync(bns, "ip", "link", "set", br, "up");
            for (int n = 1; n <= hosts + 2; n++)
            {
                env.AddNamespace(Host(n));
                await NoDad(Host(n));
                await Netns.InNsAsync(Host(n), "sysctl", "-qw", $"net.ipv4.conf.all.force_igmp_version={igmp[n]}", $"net.ipv6.conf.all.force_mld_version={mld[n]}");
            }
            for (int n = 1; n <= hosts; n++)
            {
                await Netns.RunAsync("ip", ["link", "add", Port(n), "netns", bns, "type", "veth", "peer", "name", "eth0", "netns", Host(n)]);
                await Netns.InNsAsync(Host(n), "ip", "addr", "add", $"10.77.0.{n}/24", "dev", "eth0");
            }
            // Port 7: a switch without snooping (it floods reports and queries) with hosts 7 and 8 behind it.
            env.AddNamespace(sw7);
            // A plain switch has no host stack of its own here: with IPv6 on, its interfaces would join their
            // solicited-node groups before the capture starts, and the kernel would know members we never saw.
            await Netns.InNsAsync(sw7, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
            await Netns.RunAsync("ip", ["link", "add", Port(7), "netns", bns, "type", "veth", "peer", "name", "up0", "netns", sw7]);
            await Netns.InNsAsync(sw7, "ip", "link", "add", "sw", "type", "bridge", "mcast_snooping", "0");
            await Netns.InNsAsync(sw7, "ip", "link", "set", "up0", "master", "sw", "up");
            foreach (int n in new[] { 7, 8 })
            {
                await Netns.RunAsync("ip", ["link", "add", $"d{n}", "netns", sw7, "type", "veth", "peer", "name", "eth0", "netns", Host(n)]);
                await Netns.InNsAsync(sw7, "ip", "link", "set", $"d{n}", "master", "sw", "up");
                await Netns.InNsAsync(Host(n), "ip", "addr", "add", $"10.77.0.{n}/24", "dev", "eth0");
            }
            await Netns.InNsAsync(sw7, "ip", "link", "set", "sw", "up");
            for (int n = 1; n <= ports; n++) await Netns.InNsAsync(bns, "ip", "link", "set", Port(n), "master", br, "up");
            await Netns.InNsAsync(bns, "bridge", "link", "set", "dev", Port(3), "fastleave", "on");
            await Netns.InNsAsync(bns, "bridge", "link", "set", "dev", Port(7), "fastleave", "on");

            // Capture every port, inbound only, before any host is up, so every report is in the file.
            var dumpErr = new StringBuilder();
            var dumpArgs = new List<string> { "dumpcap", "-q" };
            for (int n = 1; n <= ports; n++) dumpArgs.AddRange(["-i", Port(n), "-f", "inbound"]);
            dumpArgs.AddRange(["-w", pcap]);
            var dumpcap = env.Start(bns, dumpErr, [.. dumpArgs]);
            await WaitUntil(() => { lock (dumpErr) return dumpErr.ToString().Contains("File:", StringComparison.Ordinal); }, 15, () => $"dumpcap did not start: {dumpErr}");
            await Task.Delay(300);

            for (int n = 1; n <= hosts + 2; n++)
            {
                await Netns.InNsAsync(Host(n), "ip", "link", "set", "lo", "up");
                await Netns.InNsAsync(Host(n), "ip", "link", "set", "eth0", "up");
            }
            var joined = new List<(Process Process, StringBuilder Err, double Hold)>();
            void Join(int n, string group, double hold, string? source = null)
            {
                string fam = group.Contains(':', StringComparison.Ordinal) ? "6" : "4";
                string[] cmd = source is null
                    ? ["python3", helper, fam, group, "eth0", $"{hold}"]
                    : ["python3", helper, fam, group, "eth0", $"{hold}", source];
                var err = new StringBuilder();
                joined.Add((env.Start(Host(n), err, stdin: true, cmd), err, hold));
            }
            Join(1, "239.1.1.1", 60);                          // IGMPv2, stays
            Join(2, "239.1.1.1", 4);                           // IGMPv3, leaves (TO_IN {}) without fast leave → LMQT
            Join(2, "232.1.1.1", 60, "10.77.0.99");            // IGMPv3 INCLUDE {S}, stays
            Join(3, "239.1.1.1", 60);                          // IGMPv3, stays
            Join(3, "239.2.2.2", 4);                           // IGMPv3 on a fast-leave port → gone at once
            Join(3, "ff0e::3:3", 4);                           // MLDv2 on a fast-leave port → gone at once
            Join(4, "ff0e::1:1", 4);                           // MLDv1, done without fast leave → LMQT
            Join(5, "ff0e::1:1", 60);                          // MLDv2, stays
            Join(5, "ff3e::8000:1", 60, "fd00::99");           // MLDv2 INCLUDE {S}, stays
            Join(5, "ff0e::5:5", 4);                           // MLDv2, leaves without fast leave
            Join(6, "239.3.3.3", 2.5);                         // IGMPv1: closes silently → membership timeout
            Join(7, "239.7.7.7", 4);                           // two IGMPv3 hosts behind fast-leave port 7: one leaves,
            Join(8, "239.7.7.7", 60);                          //   the port stays (host 8 still wants it)
            Join(7, "ff0e::7:7", 4);                           // the same with MLDv2
            Join(8, "ff0e::7:7", 60);
            Join(7, "239.7.0.1", 4);                           // host 7 alone on a group of port 7: its leave is the last → at once

            // The moments follow the helpers, not a fixed clock: every helper holds its membership from one
            // "go" sent once all have joined, so a slow start on a loaded machine (16 processes on 2 cores)
            // cannot move a leave or an expiry across a snapshot.
            await WaitUntil(() => joined.All(j => { lock (j.Err) return j.Err.ToString().Contains("joined", StringComparison.Ordinal); }), 30,
                () => "the join helpers did not all join: " + string.Join(" | ", joined.Select(j => j.Err.ToString())));
            foreach (var (process, _, _) in joined)
            {
                await process.StandardInput.WriteLineAsync();
                await process.StandardInput.FlushAsync();
            }
            var allJoined = Stopwatch.StartNew();
            // Moment 1: everyone joined and reported (leaves come 4 s after the go; the IGMPv1 member, answering
            // the bridge's 2-s queries until it closes 2.5 s after the go, lasts GMI 5 s after its last report: it expires
            // between go + 5.5 s and go + 7.5 s, clear of moment 2 (go + ≈ 4.6 s) and moment 3 (go + 9 s); at 1.5 s its
            // expiry could fall on moment 2, where the kernel's timer, running a few ms late, still held it).
            await DelayUntil(allJoined, 1.0);
            var read1 = await Mdb(bns, br);
            // Moment 2: the 4-s leavers have closed their sockets: fast leaves are done, the others wait out LMQT (2 s).
            var leavers = joined.Where(j => j.Hold == 4).Select(j => j.Process).ToList();
            await WaitUntil(() => leavers.All(p => p.HasExited), 20, () => "the leaving helpers did not exit");
            var allLeft = Stopwatch.StartNew();
            await DelayUntil(allLeft, 0.5);
            var readMid = await Mdb(bns, br);
            // Moment 3: LMQT (2 s) after the last leave and GMI (5 s) after the IGMPv1 host went quiet, with margin.
            await DelayUntil(allLeft, 3.5);
            await DelayUntil(allJoined, 9.0);
            var read2 = await Mdb(bns, br);
            Assert.True(await Netns.InterruptAsync(dumpcap, 15), "dumpcap did not stop on SIGINT");

            // The real CLI process replays the capture and prints its state at both ends of every kernel read
            // (JSON Lines). Both forms a user would type: unix seconds (exact to 100 ns) and ISO 8601.
            string Unix(DateTimeOffset t) => ((t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / (decimal)TimeSpan.TicksPerSecond)
                .ToString("0.0000000", System.Globalization.CultureInfo.InvariantCulture);
            string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
            var moments = new[] { (read1, "after joins"), (readMid, "after fast leaves, within LMQT"), (read2, "after leaves and timeout") };
            var (code, stdout, stderr) = await TsmProcess.RunAsync("snoop", "--pcap", pcap, "--json",
                "--gmi", $"{MembershipCs / 100.0}", "--lmqi", $"{LastMemberCs / 100.0}", "--lmqc", $"{LastMemberCount}",
                "--query-interval", $"{QueryIntervalCs / 100.0}", "--query-response", $"{ResponseCs / 100.0}",
                "--fast-leave", Port(3), "--fast-leave", Port(7),
                "--at", $"{Unix(read1.From)},{Iso(read1.To)}",
                "--at", $"{Unix(readMid.From)},{Iso(readMid.To)}",
                "--at", $"{Unix(read2.From)}", "--at", Iso(read2.To));
            Assert.True(code == 0, $"tsm snoop exited {code}: {stderr}");
            var states = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.Equal(2 * moments.Length, states.Length);

            var portNames = Enumerable.Range(1, ports).Select(Port).ToHashSet();
            for (int i = 0; i < moments.Length; i++)
            {
                var (read, label) = moments[i];
                var (from, atFrom, fromDropped) = Ours(states[2 * i]);
                var (to, atTo, toDropped) = Ours(states[2 * i + 1]);
                Assert.Equal(read.From, atFrom);
                Assert.Equal(read.To, atTo);
                var kernel = read.Set.Where(e => portNames.Contains(e.Port)).ToHashSet();
                // The kernel answered at some instant inside the bracket: what we hold at both ends it must hold, and
                // it may hold only what we hold at one end. A membership whose timer falls inside the bracket is the
                // only thing allowed to differ; everything else must agree exactly.
                var must = from.Intersect(to).ToHashSet();
                var may = from.Union(to).ToHashSet();
                output.WriteLine($"{label} in [{read.From:O}, {read.To:O}]:\n kernel: {Show(kernel)}\n ours from: {Show(from)}\n ours to:   {Show(to)}");
                Assert.True(must.IsSubsetOf(kernel) && kernel.IsSubsetOf(may),
                    $"{label}: kernel {Show(kernel)} vs ours {Show(from)}..{Show(to)}; missing in kernel: {Show(must.Except(kernel))}; unknown to us: {Show(kernel.Except(may))}");
                // A bracket of seconds could hide a whole leave or expiry; a read that slow proves nothing.
                Assert.True(read.To - read.From < TimeSpan.FromSeconds(1), $"{label}: reading the kernel's table took {read.To - read.From}");
                Assert.Equal("{}", fromDropped);   // every frame real kernels sent is well-formed
                Assert.Equal("{}", toDropped);
            }
            var (mdb1, mdbMid, mdb2, at2) = (read1.Set, readMid.Set, read2.Set, read2.To);

            // Between the moments too: one host of two leaving fast-leave port 7 never removed the port, not even
            // until the other answered the bridge's group query (the kernel kept it: explicit host tracking).
            var replay = new Snooper(new SnoopingOptions
            {
                GroupMembershipInterval = TimeSpan.FromMilliseconds(MembershipCs * 10),
                LastMemberQueryInterval = TimeSpan.FromMilliseconds(LastMemberCs * 10),
                LastMemberQueryCount = LastMemberCount,
                FastLeavePorts = new HashSet<string> { Port(3), Port(7) },
            }, TimeProvider.System);
            var removed = new List<string>();
            replay.Changed += c => { if (c.Kind == SnoopingChangeKind.MemberRemoved) removed.Add($"{c.Port}:{c.Group}"); };
            SnoopSessions.Replay(replay, pcap, [CaptureMoment.At(at2)], null);
            Assert.DoesNotContain($"{Port(7)}:239.7.7.7", removed);
            Assert.DoesNotContain($"{Port(7)}:ff0e::7:7", removed);
            Assert.Contains($"{Port(7)}:239.7.0.1", removed);

            // The scenario really exercised what it claims (otherwise equality could be vacuous).
            foreach (var joinedAll in new[] { (Port(2), "239.1.1.1"), (Port(3), "239.2.2.2"), (Port(6), "239.3.3.3"), (Port(4), "ff0e::1:1"),
                         (Port(5), "ff3e::8000:1"), (Port(2), "232.1.1.1"), (Port(7), "239.7.7.7"), (Port(7), "ff0e::7:7"), (Port(7), "239.7.0.1") })
                Assert.Contains(joinedAll, mdb1);
            Assert.DoesNotContain((Port(3), "239.2.2.2"), mdbMid);
            Assert.DoesNotContain((Port(7), "239.7.0.1"), mdbMid);
            Assert.Contains((Port(2), "239.1.1.1"), mdbMid);
            foreach (var gone in new[] { (Port(2), "239.1.1.1"), (Port(3), "239.2.2.2"), (Port(3), "ff0e::3:3"), (Port(6), "239.3.3.3"),
                         (Port(4), "ff0e::1:1"), (Port(5), "ff0e::5:5"), (Port(7), "239.7.0.1") })
                Assert.DoesNotContain(gone, mdb2);
            foreach (var stays in new[] { (Port(1), "239.1.1.1"), (Port(3), "239.1.1.1"), (Port(5), "ff0e::1:1"), (Port(2), "232.1.1.1"),
                         (Port(7), "239.7.7.7"), (Port(7), "ff0e::7:7") })
            {
                Assert.Contains(stays, mdbMid);
                Assert.Contains(stays, mdb2);
            }
        }
        finally
        {
            env.Dispose();
            try { dir.Delete(recursive: true); } catch (IOException) { }
        }
    }

    private static Task<string> NoDad(string ns) =>
        Netns.InNsAsync(ns, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0");

    // The bridge's timers tick in jiffies (4 ms at 250 Hz): the bracket ends this much after the read.
    private static readonly TimeSpan TimerSlack = TimeSpan.FromMilliseconds(20);

    // ...and fire late, never early: on a loaded 2-core VM the timer softirq ran more than 20 ms late (CI, 2026-12-02: an
    // IGMPv1 member the kernel still held after our GMI expiry), so the bracket starts this much before the read — the
    // kernel may still hold a membership that expired in ours up to this long ago. Fast leaves and LMQT expiries are
    // 0.5 s and more before the reads, so a kernel that failed to drop one still fails the comparison.
    private static readonly TimeSpan TimerLateness = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// The kernel's (port, group) set, and the bracket it was read in: the kernel answered at some instant between
    /// <c>From</c> and <c>To</c>, which on a loaded machine can be a long way apart (a process start).
    /// </summary>
    internal static async Task<(DateTimeOffset From, DateTimeOffset To, HashSet<(string Port, string Group)> Set)> Mdb(string ns, string br)
    {
        var before = DateTimeOffset.UtcNow;
        string json = await Netns.InNsAsync(ns, "bridge", "-j", "mdb", "show", "dev", br);
        var after = DateTimeOffset.UtcNow;
        return (before - TimerLateness, after + TimerSlack, ParseMdb(json));
    }

    private static (HashSet<(string Port, string Group)> Groups, DateTimeOffset At, string Dropped) Ours(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        var groups = root.GetProperty("groups").EnumerateArray()
            .Select(g => (g.GetProperty("port").GetString()!, g.GetProperty("group").GetString()!)).ToHashSet();
        return (groups, DateTimeOffset.Parse(root.GetProperty("time").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
            root.GetProperty("dropped").ToString());
    }

    internal static HashSet<(string Port, string Group)> ParseMdb(string json)
    {
        var set = new HashSet<(string, string)>();
        using var doc = JsonDocument.Parse(json);
        foreach (var top in doc.RootElement.EnumerateArray())
        {
            if (!top.TryGetProperty("mdb", out var entries)) continue;
            foreach (var e in entries.EnumerateArray())
            {
                // (S,G) entries carry "src"; their (*,G) entry is listed too, and (port, group) is what we compare.
                string group = SubsetMulticast.Core.Addressing.IpAddress.Parse(e.GetProperty("grp").GetString()!).ToString();
                set.Add((e.GetProperty("port").GetString()!, group));
            }
        }
        return set;
    }

    private static string Show(IEnumerable<(string Port, string Group)> set) =>
        "{" + string.Join(" ", set.OrderBy(x => x.Port, StringComparer.Ordinal).ThenBy(x => x.Group, StringComparer.Ordinal).Select(x => $"{x.Port}:{x.Group}")) + "}";

    private static async Task DelayUntil(Stopwatch since, double seconds)
    {
        var left = TimeSpan.FromSeconds(seconds) - since.Elapsed;
        if (left > TimeSpan.Zero) await Task.Delay(left);
    }

    private static async Task WaitUntil(Func<bool> condition, int seconds, Func<string> message)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(seconds)) Assert.Fail(message());
            await Task.Delay(50);
        }
    }
}

internal static class KernelBridgeConformanceTestsHelper
{
    public const string JoinHelper = KernelBridgeConformanceTests.JoinHelper;
    public static HashSet<(string Port, string Group)> Mdb(string ns, string br) =>
        KernelBridgeConformanceTests.ParseMdb(Netns.InNs(ns, "bridge", "-j", "mdb", "show", "dev", br));
}
