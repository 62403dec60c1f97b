using System.CommandLine;
using SubsetMulticast.Cli.CommandLine;
using SubsetMulticast.Snooping;
using SubsetMulticast.Capture;
using SubsetMulticast.Snooping.Reporting;

namespace SubsetMulticast.Cli.Commands;

/// <summary>
/// <c>tsm snoop --pcap FILE [--json]</c> replays a capture and prints the final state;
/// <c>tsm snoop --iface IF [--iface IF2 …]</c> snoops live until Ctrl+C (or --duration) and then prints it.
/// </summary>
internal static class SnoopCommand
{
    public static Command Create()
    {
        var defaults = new SnoopingOptions();
        var pcap = new Option<FileInfo?>("--pcap") { Description = "Replay this capture (pcap or pcapng; a multi-interface pcapng is one bridge, interface names are port names).", HelpName = "FILE" };
        var iface = OptionKinds.Many<string>("--iface", "Snoop this interface live (libpcap); repeat for more.", "IF", t => (t, null));
        var json = OptionKinds.Flag("--json", "JSON (one object per state, JSON Lines) instead of text.");
        var at = OptionKinds.Many<CaptureMoment>("--at", """
            The state at that moment of the capture instead of at its end; repeat it (or give a comma-separated list) for
            one state per moment, in time order. TIME: 1767225603.5 (unix seconds), 2026-01-01T12:00:03.5Z (ISO 8601, no
            offset: UTC), +2.5 (seconds after the first frame), 12:00:03 or 12:00:03.5 (UTC time of day on the first day).
            """, "TIME", t => CaptureMoment.TryParse(t, out var m, out string error) ? (m, null) : (default, error), commas: true);
        var duration = OptionKinds.Seconds("--duration", "Stop live snooping after this many seconds (default: Ctrl-C).");
        var filter = OptionKinds.Text("--filter", "A BPF filter for live capture.", "BPF");
        var querierV4 = OptionKinds.Address("--querier-v4", "Run our IGMP querier from this address (live only).", ip => ip.IsV4, "wants an IPv4 address");
        var querierV6 = OptionKinds.Address("--querier-v6", "Run our MLD querier from this address (live only).", ip => ip.IsV6, "wants an IPv6 address");
        var gmi = OptionKinds.Seconds("--gmi", $"Group membership interval (default {defaults.GroupMembershipInterval.TotalSeconds:0}).");
        var lmqi = OptionKinds.Seconds("--lmqi", $"Last member query interval (default {defaults.LastMemberQueryInterval.TotalSeconds:0}).");
        var lmqc = OptionKinds.Count("--lmqc", $"Last member query count (default {defaults.LastMemberQueryCount}).", 1);
        var otherQuerier = OptionKinds.Seconds("--other-querier", $"Other querier present interval (default {defaults.OtherQuerierPresentInterval.TotalSeconds:0}).");
        var queryInterval = OptionKinds.Seconds("--query-interval", $"Query interval (default {defaults.QueryInterval.TotalSeconds:0}).");
        var queryResponse = OptionKinds.Seconds("--query-response", $"Query response interval (default {defaults.QueryResponseInterval.TotalSeconds:0}).");
        var robustness = OptionKinds.Count("--robustness", $"Robustness variable (default {defaults.Robustness}).", 1);
        var noCompat = OptionKinds.Flag("--no-compat", "No IGMPv1/v2 / MLDv1 compatibility mode (RFC 3376 §7.3.2; the Linux bridge has none).");
        var fastLeave = OptionKinds.Many<string>("--fast-leave", "A fast-leave port (repeatable; IGMPv3/MLDv2 hosts behind it are tracked one by one).", "PORT", t => (t, null));
        var maxGroups = OptionKinds.Count("--max-groups", "Groups in all; new ones beyond are refused (counted, logged).", 0);
        var maxPerPort = OptionKinds.Count("--max-groups-per-port", "Groups per port; new ones beyond are refused.", 0);
        var maxSources = OptionKinds.Count("--max-sources", "Sources per membership.", 0);
        var command = new Command("snoop", "Replay a capture through the IGMP/MLD snooper (or snoop live) and print the state.")
        {
            pcap, iface, json, at, duration, filter, querierV4, querierV6, gmi, lmqi, lmqc, otherQuerier, queryInterval, queryResponse,
            robustness, noCompat, fastLeave, maxGroups, maxPerPort, maxSources,
        };
        command.AddCheck(r =>
        {
            bool live = r.GetValue(iface) is { Count: > 0 };
            if ((r.GetValue(pcap) is null) == !live) r.AddError("give either --pcap FILE or --iface IF.");
            else if (!live && (r.GetValue(querierV4) is not null || r.GetValue(querierV6) is not null)) r.AddError("--querier-v4/--querier-v6 need live interfaces (--iface).");
            else if (!live && (r.GetValue(filter) is not null || r.GetValue(duration) is not null)) r.AddError("--filter and --duration apply to --iface only.");
            else if (live && r.GetValue(at) is { Count: > 0 }) r.AddError("--at applies to --pcap only.");
        });
        command.SetAction((r, ct) =>
        {
            var q4 = r.GetValue(querierV4);
            var q6 = r.GetValue(querierV6);
            var options = new SnoopingOptions
            {
                GroupMembershipInterval = r.GetValue(gmi) ?? defaults.GroupMembershipInterval,
                LastMemberQueryInterval = r.GetValue(lmqi) ?? defaults.LastMemberQueryInterval,
                LastMemberQueryCount = r.GetValue(lmqc) ?? defaults.LastMemberQueryCount,
                OtherQuerierPresentInterval = r.GetValue(otherQuerier) ?? defaults.OtherQuerierPresentInterval,
                QueryInterval = r.GetValue(queryInterval) ?? defaults.QueryInterval,
                QueryResponseInterval = r.GetValue(queryResponse) ?? defaults.QueryResponseInterval,
                Robustness = r.GetValue(robustness) ?? defaults.Robustness,
                OlderVersionCompatibility = !r.GetValue(noCompat) && defaults.OlderVersionCompatibility,
                FastLeavePorts = new HashSet<string>(r.GetValue(fastLeave) ?? [], StringComparer.Ordinal),
                MaxGroups = r.GetValue(maxGroups) ?? defaults.MaxGroups,
                MaxGroupsPerPort = r.GetValue(maxPerPort) ?? defaults.MaxGroupsPerPort,
                MaxSourcesPerMembership = r.GetValue(maxSources) ?? defaults.MaxSourcesPerMembership,
                Querier = q4 is null && q6 is null ? null : new QuerierOptions { IPv4Source = q4, IPv6Source = q6 },
            };
            return RunAsync(options, r.GetValue(pcap)?.FullName, r.GetValue(iface) ?? [], r.GetValue(at) ?? [], r.GetValue(json),
                r.GetValue(duration), r.GetValue(filter), r.InvocationConfiguration.Output, r.InvocationConfiguration.Error, ct);
        });
        return command;
    }

    private static async Task<int> RunAsync(SnoopingOptions options, string? pcap, List<string> ifaces, List<CaptureMoment> moments, bool json,
        TimeSpan? duration, string? filter, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        Snooper snooper;
        if (pcap is not null)
        {
            if (!File.Exists(pcap)) { await stderr.WriteLineAsync($"tsm snoop: {pcap}: no such file"); return 1; }
            snooper = new Snooper(options, TimeProvider.System) { Log = line => stderr.WriteLine(line) };
            var states = new List<SnoopingSnapshot>();
            try
            {
                SnoopSessions.Replay(snooper, pcap, moments, states.Add);
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                await stderr.WriteLineAsync($"tsm snoop: {pcap}: {e.Message}");
                return 1;
            }
            if (states.Count == 0) states.Add(snooper.Snapshot());
            for (int i = 0; i < states.Count; i++)
            {
                if (json) await stdout.WriteLineAsync(SnoopingJson.ToJson(states[i]));
                else
                {
                    if (i > 0) await stdout.WriteLineAsync();
                    SnoopingJson.WriteText(stdout, states[i]);
                }
            }
            await stdout.FlushAsync(CancellationToken.None);
            return 0;
        }
        else
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (duration is { } d) linked.CancelAfter(d);
            Snooper? live = null;
            try
            {
                await SnoopSessions.RunLiveAsync(null, ifaces, options, s =>
                {
                    live = s;
                    s.Log = line => stderr.WriteLine(line);
                    if (!json) s.Changed += c => stdout.WriteLine(Describe(c));
                }, filter, linked.Token);
            }
            catch (CaptureException e)
            {
                await stderr.WriteLineAsync($"tsm snoop: {e.Message}");
                return 1;
            }
            if (live is null) return 1;
            snooper = live;
        }

        var snapshot = snooper.Snapshot();
        if (json)
        {
            await stdout.WriteLineAsync(SnoopingJson.ToJson(snapshot));
        }
        else SnoopingJson.WriteText(stdout, snapshot);
        await stdout.FlushAsync(CancellationToken.None);
        return 0;
    }

    private static string Describe(SnoopingChange c) => c.Kind switch
    {
        SnoopingChangeKind.MemberAdded or SnoopingChangeKind.MemberRemoved or SnoopingChangeKind.MemberFilterChanged
            => $"{c.Kind} vlan {c.Vlan} {c.Group} {c.Port}",
        SnoopingChangeKind.HostLearned or SnoopingChangeKind.HostMoved or SnoopingChangeKind.HostAddressAdded
            => $"{c.Kind} {c.Mac} vlan {c.Vlan} {c.Port} {(c.Address.IsUnspecified ? "" : c.Address.ToString())}",
        _ => $"{c.Kind} vlan {c.Vlan} {c.Port} {c.Detail}",
    };
}
