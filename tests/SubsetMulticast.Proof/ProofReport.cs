using System.Globalization;
using System.Text;

namespace SubsetMulticast.Proof;

/// <summary>The results file: tables, the goals with verdicts, the configuration of every baseline, raw samples.</summary>
internal static class ProofReport
{
    private static string F(double v, string fmt = "0.00") => double.IsFinite(v) ? v.ToString(fmt, CultureInfo.InvariantCulture) : "—";
    private static string Ms(IEnumerable<double> xs, double p) => F(Stats.P(xs, p));

    public static string Markdown(ProofResult r)
    {
        var o = r.Options;
        var sb = new StringBuilder();
        void L(string s = "") => sb.Append(s).Append('\n');
        string kernel = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : Environment.OSVersion.VersionString;
        string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?";

        L("# Proof side by side: setup, teardown and puts against IGMP, TCP fan-out and UFTP (issue 9)");
        L();
        L($"- date: {r.Started:yyyy-MM-dd HH:mm} UTC; whole run {r.Elapsed.TotalMinutes:0.0} min");
        L($"- machine: {Environment.MachineName}, {Environment.ProcessorCount} cores, Debian 12 VM, kernel {kernel}, CONFIG_HZ={r.KernelHz} (from {r.KernelHzSource}); load average at the end: {load}");
        L($"- command: `{o.Command.Trim()}` (as root; installs openvswitch-switch, uftp, nftables, iproute2, ethtool, tcpdump when missing)");
        if (Environment.GetEnvironmentVariable("PROOF_NOTE") is { Length: > 0 } note) L($"- note: {note}");
        L($"- testbed: one Open vSwitch (3.1, userspace datapath `netdev`, private run dir) with a spine and two leaves; sender h0 and {o.Receivers} receivers in network namespaces, h0–h{(o.Receivers + 1) / 2} on leaf A, the rest on leaf B; every host link shaped with `tc tbf rate {o.RateMbit}mbit burst 64kb latency 50ms` in both directions (inter-switch links unshaped), so the sender's link is the bottleneck. The Linux-bridge rows move the same veths (same tbf) onto one kernel bridge.");
        L("- timing: every host has an AF_PACKET socket with SO_TIMESTAMPNS on its interface (it never joins anything); arrival = the kernel's receive timestamp (CLOCK_REALTIME, shared by all namespaces); the decision is a CLOCK_REALTIME read in the sender just before its first action. Targets: 3 of the receivers per trial, drawn with a fixed seed — the same sequence for every path.");
        L();

        L("## 1. Setup: \"sender decides on 3 targets\" → \"all 3 targets received the first datagram\"");
        L();
        L("| path | configuration | trials (+ warm-up) | p50 ms | p90 ms | p99 ms | max ms | control part p50 ms | trials with non-target deliveries | datagrams to non-targets | failed (measured trials) |");
        L("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var s in r.Setup)
            L($"| {s.Path} | {s.Config} | {s.SetupMs.Count} (+{s.Warmup}) | {Ms(s.SetupMs, 50)} | {Ms(s.SetupMs, 90)} | {Ms(s.SetupMs, 99)} | {F(s.SetupMs.DefaultIfEmpty(double.NaN).Max())} | {Ms(s.ControlMs, 50)} | {s.ExcessHosts.Count(x => x > 0)} of {s.ExcessHosts.Count} (mean {F(s.ExcessHosts.DefaultIfEmpty(0).Average(), "0.0")} hosts) | {s.ExcessDatagrams} | {s.Failed} |");
        L();
        L("Control part: ours = POST → 201 (the controller answers after every switch's barrier reply); IGMP = the sender's unicast \"join G\" to the 3 targets → all 3 acknowledged (their `IP_ADD_MEMBERSHIP` returned). The sender then sends a probe at once and every ~0.1 ms until all 3 taps saw one.");
        var ours = r.Setup.FirstOrDefault(s => s.Path.StartsWith("ours", StringComparison.Ordinal));
        if (ours is { ControllerMs.Count: > 0 }) L($"Ours, the controller's own `setupMicros` (parse → last barrier reply): p50 {Ms(ours.ControllerMs, 50)} ms, p99 {Ms(ours.ControllerMs, 99)} ms.");
        L();

        L("### The host kernel's part of the IGMP path: join → report on the wire");
        L();
        var joins = r.Setup.Where(s => s.JoinToReportMs.Count > 0).ToList();
        var all = joins.SelectMany(s => s.JoinToReportMs).ToList();
        double tick = r.KernelHz > 0 ? 1000.0 / r.KernelHz : double.NaN;
        L($"From `IP_ADD_MEMBERSHIP` (CLOCK_REALTIME just before the call) to the host's own IGMPv3 report naming the group, seen leaving on its interface by its AF_PACKET tap. CONFIG_HZ={r.KernelHz}: one tick = {F(tick, "0.0")} ms.");
        L();
        L("| fabric | reports | p50 ms | p90 ms | p99 ms | min ms | max ms | p50 in ticks |");
        L("|---|---|---|---|---|---|---|---|");
        foreach (var s in joins)
            L($"| {s.Path}, {s.Config} | {s.JoinToReportMs.Count} | {Ms(s.JoinToReportMs, 50)} | {Ms(s.JoinToReportMs, 90)} | {Ms(s.JoinToReportMs, 99)} | {F(s.JoinToReportMs.Min())} | {F(s.JoinToReportMs.Max())} | {F(Stats.P(s.JoinToReportMs, 50) / tick, "0.0")} |");
        if (all.Count > 0) L($"| all | {all.Count} | {Ms(all, 50)} | {Ms(all, 90)} | {Ms(all, 99)} | {F(all.Min())} | {F(all.Max())} | {F(Stats.P(all, 50) / tick, "0.0")} |");
        L();
        L("Linux (net/ipv4/igmp.c) sends the IGMPv3 state-change report for a new membership from a timer, `igmp_ifc_start_timer(in_dev, 1)` → `mod_timer(&mr_ifc_timer, jiffies + 0 + 2)`: two jiffies ahead, so the report leaves 1–2 ticks after the join plus however long the timer softirq waits for its tick (measured above in ticks); on a 1000 Hz kernel the same code waits about 2–3 ms instead of 8–12 ms. The IGMP rows above contain this delay; the rest is the switch learning from the report (OVS: an upcall and a revalidation of its datapath flows).");
        L();

        L("## 2. Teardown: decision → the last datagram any target received, while the sender keeps sending (a probe every ~0.1 ms)");
        L();
        L("| path | configuration | trials | stopped within cap | stop p50 ms | p90 ms | p99 ms | max ms | release call p50 ms | trials with datagrams after the call returned | most such datagrams in a trial | flood to non-targets after the leave, p50 ms |");
        L("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var t in r.Teardown)
        {
            int stopped = t.StopMs.Count(double.IsFinite);
            L($"| {t.Path} | {t.Config} | {t.StopMs.Count} | {stopped} of {t.StopMs.Count} (cap {F(t.CapMs, "0")} ms) | {Ms(t.StopMs, 50)} | {Ms(t.StopMs, 90)} | {Ms(t.StopMs, 99)} | {F(t.StopMs.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max())} | {Ms(t.ReturnMs, 50)} | {t.LateAfterReturn.Count(x => x > 0)} of {t.LateAfterReturn.Count} | {t.LateAfterReturn.DefaultIfEmpty(0).Max()} | {(t.FloodMs.Any(double.IsFinite) ? $"{Ms(t.FloodMs, 50)} ({t.FloodMs.Count(double.IsFinite)} trials)" : "none")} |");
        }
        L();
        L("Release call: ours = DELETE → 204 (after the barrier replies); IGMP = \"leave G\" to the 3 targets → all acknowledged (`IP_DROP_MEMBERSHIP` returned). Where the fabric floods unregistered groups (OVS's default), a left group may be flooded to every port once its entry is gone: delivery to the old targets then does not stop, and the last column says when flooding to non-targets began. The Linux bridge with a querier sends unregistered IPv4 multicast (outside 224.0.0.x) to router ports only (`mrouters_only` in br_multicast_ipv4_rcv), so its `mcast_flood` setting makes no difference here; its leave takes effect when the group-specific query round ends (last_member_count 2 × last_member_interval 1 s).");
        L();

        L($"## 3. Puts to 3 of {o.Receivers} (targets h{string.Join(", h", r.PutTargets)}), with the physical limit (4)");
        L();
        L($"Physical limit = chunk bytes ÷ link rate ({o.RateMbit} Mbit/s), one copy on the sender's link (payload only, no headers). Loss: an nftables `numgen random` drop of IPv4 in a netdev egress hook on the sender's interface (no netem on this kernel): every receiver loses the same packets; TCP and UFTP lose at the same rate.");
        L();
        L("| chunk | loss | method | configuration | FEC | trials | completion p50 ms | p99 ms | goodput p50 MB/s | setup / handshake p50 ms | sender-link bytes (× chunk) | bytes to non-targets (× chunk) | physical limit ms | p50 ÷ limit | failed |");
        L("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        string[] order = [ProofRun.OursMethod, "TCP", "UFTP closed", "UFTP to the whole"];
        foreach (var p in r.Puts.OrderBy(p => p.Bytes).ThenBy(p => p.LossPercent).ThenBy(p => Array.FindIndex(order, m => p.Method.StartsWith(m, StringComparison.Ordinal))).ThenBy(p => p.Fec))
        {
            double limit = p.Bytes * 8.0 / (o.RateMbit * 1e6) * 1000;
            string size = p.Bytes >= 1 << 20 ? $"{p.Bytes >> 20} MiB" : $"{p.Bytes >> 10} KiB";
            if (p.Pending is { } why) { L($"| {size} | {F(p.LossPercent, "0.#")} % | {p.Method} | {p.How} | {p.Fec} | 0 | **{why}** | | | | | | {F(limit)} | | |"); continue; }
            double p50 = Stats.P(p.CompletionMs, 50);
            double link = p.SenderLinkBytes.Count > 0 ? p.SenderLinkBytes.Average() : double.NaN;
            double other = p.NonTargetBytes.Count > 0 ? p.NonTargetBytes.Average() : double.NaN;
            L($"| {size} | {F(p.LossPercent, "0.#")} % | {p.Method} | {p.How} | {p.Fec} | {p.CompletionMs.Count} | {F(p50)} | {Ms(p.CompletionMs, 99)} | {F(p.Bytes / 1e6 / (p50 / 1000), "0.0")} | {(p.HandshakeMs.Count > 0 ? Ms(p.HandshakeMs, 50) : "n/a")} | {F(link, "0")} ({F(link / p.Bytes, "0.00")}) | {F(other, "0")} ({F(other / p.Bytes, "0.00")}) | {F(limit)} | {F(p50 / limit, "0.0")} | {p.Failed} |");
        }
        L();
        L("**Ours** — the rendezvous transfer (src/SubsetMulticast.Transfer, issue 8) in-process on the testbed: a `ChunkServer` on every receiver (a `LinuxUdpTransport` opened in its namespace; rendezvous datagrams from an AF_PACKET tap, never joined; chunks verified by SHA-256, then their ids kept and bytes dropped, as the TCP receivers drop theirs), and the sender's `TransferClient.PushAsync` to the 3 targets through `tsm serve --openflow`: REST create (confirmed), unicast rendezvous, the chunk once as paced datagrams (rate = the link rate), aggregate acks, bounded multicast then unicast repair, release; completion = `PushAsync` returning with all 3 stored. Setup column = its rendezvous-group setup (`PushResult.Setup`). A priority-0 `NORMAL` flow on each bridge carries the unicast control traffic beside the controller's rules.");
        L();
        L("Baselines as their users run them: **TCP fan-out** — 3 connections from the sender, one per target, opened once and kept (as a storage client keeps them), kernel defaults (cubic, default buffers, MTU 1500), the chunk written to all 3 at once, complete when all 3 receivers sent their 1-byte acknowledgement. **UFTP 4.10.2** — one `uftpd -d` per receiver (all running), `uftp -I <if> [-H <3 ids>] -R " + (o.RateMbit * 1000) + " -S @LOG -L <log> FILE`; every other setting is UFTP's default (block 1300 B, GRTT init 0.5 s, robustness 20, no encryption, private group 230.5.5.x); `-R` is set to the link rate because its default, 1000 kbps, would take 8.5 s per MiB. Completion = the `uftp` process's wall time (announce, register, data, NAK rounds, completion); handshake = its log's first line → \"Sending file\". The whole-group row is UFTP to a closed group of every receiver (`-H` with all their ids), i.e. multicast to the whole reference group; without `-H` (an open group) UFTP waits out its whole announce period for unknown clients, ~2.1 s for 64 KiB in our trial run, so naming the members is the faster way its users run it. The puts run on the OVS snooping fabric with flood-unregistered on (the default).");
        L();

        L("## Goals (issue 9)");
        L();
        L("| goal | measured | verdict |");
        L("|---|---|---|");
        foreach (var (goal, measured, verdict) in Goals(r)) L($"| {goal} | {measured} | {verdict} |");
        L();

        if (r.Notes.Count > 0)
        {
            L("## Notes");
            L();
            foreach (var n in r.Notes) { L("```"); L(n); L("```"); }
            L();
        }

        L("## Raw samples (ms unless marked; one value per trial, in trial order)");
        L();
        L("```");
        foreach (var s in r.Setup)
        {
            L($"setup | {s.Path} | {s.Config} | decision→all-3 | {Join(s.SetupMs)}");
            L($"setup | {s.Path} | {s.Config} | control part | {Join(s.ControlMs)}");
            if (s.ControllerMs.Count > 0) L($"setup | {s.Path} | {s.Config} | controller setupMicros/1000 | {Join(s.ControllerMs)}");
            if (s.JoinToReportMs.Count > 0) L($"setup | {s.Path} | {s.Config} | join→report | {Join(s.JoinToReportMs)}");
            L($"setup | {s.Path} | {s.Config} | non-target hosts reached | {string.Join(',', s.ExcessHosts)}");
        }
        foreach (var t in r.Teardown)
        {
            L($"teardown | {t.Path} | {t.Config} | stop (NaN = not within cap) | {Join(t.StopMs)}");
            L($"teardown | {t.Path} | {t.Config} | release call | {Join(t.ReturnMs)}");
            L($"teardown | {t.Path} | {t.Config} | datagrams after return (count) | {string.Join(',', t.LateAfterReturn)}");
            L($"teardown | {t.Path} | {t.Config} | flood onset (NaN = none) | {Join(t.FloodMs)}");
        }
        foreach (var p in r.Puts.Where(p => p.Pending is null))
        {
            L($"put | {p.Bytes} B | {F(p.LossPercent, "0.#")} % | {p.Method} FEC {p.Fec} | completion | {Join(p.CompletionMs)}");
            if (p.HandshakeMs.Count > 0) L($"put | {p.Bytes} B | {F(p.LossPercent, "0.#")} % | {p.Method} | handshake | {Join(p.HandshakeMs)}");
            L($"put | {p.Bytes} B | {F(p.LossPercent, "0.#")} % | {p.Method} | sender-link bytes | {string.Join(',', p.SenderLinkBytes)}");
            L($"put | {p.Bytes} B | {F(p.LossPercent, "0.#")} % | {p.Method} | non-target bytes | {string.Join(',', p.NonTargetBytes)}");
            if (p.Repairs.Count > 0) L($"put | {p.Bytes} B | {F(p.LossPercent, "0.#")} % | {p.Method} FEC {p.Fec} | datagrams repaired (count) | {string.Join(',', p.Repairs)}");
        }
        L("```");
        return sb.ToString();
    }

    private static string Join(IEnumerable<double> xs) => string.Join(',', xs.Select(x => double.IsFinite(x) ? x.ToString("0.000", CultureInfo.InvariantCulture) : "NaN"));

    private static IEnumerable<(string Goal, string Measured, string Verdict)> Goals(ProofResult r)
    {
        var oursRows = r.Setup.Where(s => s.Path.StartsWith("ours", StringComparison.Ordinal)).ToList();
        var ovsOff = r.Setup.FirstOrDefault(s => s.Path.Contains("OVS", StringComparison.Ordinal) && s.Config.Contains("off", StringComparison.Ordinal));
        var ovsOn = r.Setup.FirstOrDefault(s => s.Path.Contains("OVS", StringComparison.Ordinal) && !s.Config.Contains("off", StringComparison.Ordinal));
        foreach (var ours in oursRows)
        {
            string mode = ours.Path["ours: REST create, ".Length..];
            double o50 = Stats.P(ours.SetupMs, 50), o99 = Stats.P(ours.SetupMs, 99);
            foreach (var ovs in new[] { ovsOff, ovsOn })
            {
                if (ovs is null) continue;
                double ratio = Stats.P(ovs.SetupMs, 50) / o50;
                yield return ($"setup p50 ≥ 20× faster than the OVS IGMP path — ours {mode} vs {ovs.Config}", $"{F(Stats.P(ovs.SetupMs, 50))} ms ÷ {F(o50)} ms = {F(ratio, "0.0")}×", ratio >= 20 ? "met" : "**not met**");
            }
            yield return ($"setup p99 < 3 ms — ours {mode}", $"{F(o99)} ms ({ours.SetupMs.Count} trials)", o99 < 3 ? "met" : "**not met**");
        }
        foreach (var oursDown in r.Teardown.Where(t => t.Path.StartsWith("ours", StringComparison.Ordinal)))
        {
            string mode = oursDown.Config[(oursDown.Config.LastIndexOf(';') + 2)..];
            double d50 = Stats.P(oursDown.StopMs, 50);
            foreach (var kb in r.Teardown.Where(t => t.Path.Contains("Linux bridge", StringComparison.Ordinal) && t.StopMs.Count > 0))
            {
                double k50 = Stats.P(kb.StopMs, 50);
                if (double.IsFinite(k50))
                    yield return ($"teardown ≥ 100× faster than the kernel bridge's IGMP leave — ours ({mode}) vs {kb.Config}", $"{F(k50)} ms ÷ {F(d50, "0.000")} ms = {F(k50 / Math.Max(d50, 0.001), "0")}×{(d50 <= 0 ? " (ours: the last datagram a target got left before the decision; divided by 1 µs)" : "")}", k50 / Math.Max(d50, 0.001) >= 100 ? "met" : "**not met**");
                else
                    yield return ($"teardown ≥ 100× faster than the kernel bridge's IGMP leave — ours ({mode}) vs {kb.Config}", $"the bridge never stopped delivering to the old targets within {F(kb.CapMs, "0")} ms (a left group is flooded as unregistered, from {Ms(kb.FloodMs, 50)} ms on); ours stops at p50 {F(d50, "0.000")} ms", "met (the baseline never stops)");
            }
            int late = oursDown.LateAfterReturn.Count(x => x > 0);
            yield return ($"(issue 14) no datagram reaches a target after the release returned — ours ({mode})", $"{late} of {oursDown.LateAfterReturn.Count} trials had datagrams at a target after the call returned (at most {oursDown.LateAfterReturn.DefaultIfEmpty(0).Max()} in one trial)", late == 0 ? "met" : "**not met** (OVS's datapath cache lags its barrier)");
        }
        long oursExcess = oursRows.Sum(s => s.ExcessDatagrams);
        int oursTeardownFlood = r.Teardown.Where(t => t.Path.StartsWith("ours", StringComparison.Ordinal)).Sum(t => t.FloodMs.Count(double.IsFinite));
        yield return ("0 deliveries to non-targets for ours", $"setup: {oursExcess} datagrams to non-targets in {oursRows.Sum(s => s.SetupMs.Count)} trials over {oursRows.Count} modes; teardown: {oursTeardownFlood} trials with a non-target delivery", oursExcess == 0 && oursTeardownFlood == 0 ? "met" : "**not met**");
        var rate = r.Options.RateMbit;
        PutRow? Row(string method, int bytes, double loss, string fec) =>
            r.Puts.FirstOrDefault(p => p.Method.StartsWith(method, StringComparison.Ordinal) && p.Bytes == bytes && p.LossPercent == loss && (fec == "*" || p.Fec == fec) && p.Pending is null && p.CompletionMs.Count > 0);
        string Size(int b) => b >= 1 << 20 ? $"{b >> 20} MiB" : $"{b >> 10} KiB";
        const string pending = "not measured: **pending issue 8**";
        foreach (int size in r.Options.PutSizes)
        {
            var ours = Row(ProofRun.OursMethod, size, 0, "off");
            var tcp = Row("TCP", size, 0, "*");
            if (ours is null || tcp is null) { yield return ($"sender-link bytes ≈ 1/3 of TCP fan-out ({Size(size)})", pending, "pending"); continue; }
            double ratio = ours.SenderLinkBytes.Average() / tcp.SenderLinkBytes.Average();
            yield return ($"sender-link bytes ≈ 1/3 of TCP fan-out ({Size(size)}, 0 % loss)", $"{ours.SenderLinkBytes.Average():0} B ÷ {tcp.SenderLinkBytes.Average():0} B = {F(ratio, "0.00")}", ratio <= 0.4 ? "met" : "**not met**");
        }
        foreach (int size in r.Options.PutSizes.Where(b => b >= 1 << 20))
        {
            var ours = Row(ProofRun.OursMethod, size, 0, "off");
            var tcp = Row("TCP", size, 0, "*");
            double limit = size * 8.0 / (rate * 1e6) * 1000;
            if (ours is null || tcp is null) { yield return ($"{Size(size)} put at 0 % loss within 1.25× of the physical limit and ≥ 2.5× faster than TCP fan-out", pending, "pending"); continue; }
            double o50 = Stats.P(ours.CompletionMs, 50), t50 = Stats.P(tcp.CompletionMs, 50);
            yield return ($"{Size(size)} put at 0 % loss within 1.25× of the physical limit", $"p50 {F(o50)} ms ÷ {F(limit)} ms = {F(o50 / limit, "0.00")}×", o50 / limit <= 1.25 ? "met" : "**not met**");
            yield return ($"{Size(size)} put at 0 % loss ≥ 2.5× faster than TCP fan-out", $"TCP p50 {F(t50)} ms ÷ ours {F(o50)} ms = {F(t50 / o50, "0.00")}×", t50 / o50 >= 2.5 ? "met" : "**not met**");
        }
        var oursPuts = r.Puts.Where(p => p.Method == ProofRun.OursMethod && p.Pending is null).ToList();
        int failedPuts = oursPuts.Sum(p => p.Failed);
        if (oursPuts.Count > 0)
            yield return ("every put of ours completes (all 3 targets stored)", failedPuts == 0 ? $"{oursPuts.Sum(p => p.CompletionMs.Count)} of {oursPuts.Sum(p => p.CompletionMs.Count)}" :
                $"{failedPuts} puts failed: {string.Join("; ", oursPuts.Where(p => p.Failed > 0).Select(p => $"{Size(p.Bytes)} at {F(p.LossPercent, "0.#")} % loss, FEC {p.Fec}: {p.Failed} of {p.Failed + p.CompletionMs.Count}"))} (a target timed out after the bounded repair rounds; the row's figures are over the puts that completed)", failedPuts == 0 ? "met" : "**not met**");
        foreach (int size in r.Options.PutSizes)
        {
            var ours = Row(ProofRun.OursMethod, size, 1, "on");
            var tcp = Row("TCP", size, 1, "*");
            if (ours is null || tcp is null) { yield return ($"at 1 % loss with FEC ≥ 2× faster than TCP fan-out ({Size(size)})", pending, "pending"); continue; }
            double o50 = Stats.P(ours.CompletionMs, 50), t50 = Stats.P(tcp.CompletionMs, 50);
            yield return ($"at 1 % loss with FEC ≥ 2× faster than TCP fan-out ({Size(size)})", $"TCP p50 {F(t50)} ms ÷ ours {F(o50)} ms = {F(t50 / o50, "0.00")}×", t50 / o50 >= 2 ? "met" : "**not met**");
        }
    }
}
