using System.Globalization;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Snooping;
using SubsetMulticast.Snooping.Capture;
using SubsetMulticast.Snooping.Reporting;

namespace SubsetMulticast.Cli.Commands;

/// <summary>
/// <c>tsm snoop --pcap FILE [--json]</c> replays a capture and prints the final state;
/// <c>tsm snoop --iface IF [--iface IF2 …]</c> snoops live until Ctrl+C (or --duration) and then prints it.
/// </summary>
internal static class SnoopCommand
{
    public const string Usage = """
        tsm snoop --pcap FILE [--json] [--at TIME ...]
        tsm snoop --iface IF [--iface IF2 ...] [--json] [--duration SECONDS] [--filter BPF] [--querier-v4 IP] [--querier-v6 IP]
          timers:  --gmi S (260) --lmqi S (1) --lmqc N (2) --other-querier S (255) --query-interval S (125)
                   --query-response S (10) --robustness N (2)
          compat:  --no-compat: no IGMPv1/v2 / MLDv1 compatibility mode (RFC 3376 §7.3.2; the Linux bridge has none).
                   By default a group on a port that heard an older report ignores IGMPv3/MLDv2 BLOCK and TO_EX
                   source lists (IGMPv1: also leaves and TO_IN) for robustness × query interval + query response.
          ports:   --fast-leave PORT (repeatable; IGMPv3/MLDv2 hosts behind it are tracked one by one)
          limits:  --max-groups N --max-groups-per-port N --max-sources N
          --at TIME: the state at that moment of the capture instead of at its end. Repeat it (or give a
                     comma-separated list) for one state per moment, in time order; with --json each is one
                     JSON object on its own line (JSON Lines), with its "time". TIME is one of
                       1767225603.5               unix seconds
                       2026-01-01T12:00:03.5Z     ISO 8601 (no offset: UTC)
                       +2.5                       seconds after the capture's first frame
                       12:00:03  or  12:00:03.5   UTC time of day on the capture's first day
                     e.g. "what did the bridge think at 12:00:03?":  tsm snoop --pcap ports.pcapng --at 12:00:03
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        string? pcap = null, filter = null;
        var ifaces = new List<string>();
        var fastLeave = new HashSet<string>(StringComparer.Ordinal);
        bool json = false;
        var moments = new List<CaptureMoment>();
        TimeSpan? duration = null;
        var defaults = new SnoopingOptions();
        TimeSpan gmi = defaults.GroupMembershipInterval, lmqi = defaults.LastMemberQueryInterval,
            oqpi = defaults.OtherQuerierPresentInterval, qi = defaults.QueryInterval, qri = defaults.QueryResponseInterval;
        int robustness = defaults.Robustness;
        bool compat = defaults.OlderVersionCompatibility;
        int lmqc = defaults.LastMemberQueryCount, maxGroups = defaults.MaxGroups, maxPerPort = defaults.MaxGroupsPerPort,
            maxSources = defaults.MaxSourcesPerMembership;
        IpAddress? q4 = null, q6 = null;

        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new UsageException($"{a} needs a value.\n{Usage}");
            switch (a)
            {
                case "--pcap": pcap = Next(); break;
                case "--iface": ifaces.Add(Next()); break;
                case "--json": json = true; break;
                case "--filter": filter = Next(); break;
                case "--fast-leave": fastLeave.Add(Next()); break;
                case "--at": foreach (var t in Next().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)) moments.Add(ParseMoment(t)); break;
                case "--duration": duration = Seconds(a, Next()); break;
                case "--gmi": gmi = Seconds(a, Next()); break;
                case "--lmqi": lmqi = Seconds(a, Next()); break;
                case "--other-querier": oqpi = Seconds(a, Next()); break;
                case "--query-interval": qi = Seconds(a, Next()); break;
                case "--query-response": qri = Seconds(a, Next()); break;
                case "--robustness": robustness = Count(a, Next(), 1); break;
                case "--no-compat": compat = false; break;
                case "--lmqc": lmqc = Count(a, Next(), 1); break;
                case "--max-groups": maxGroups = Count(a, Next(), 0); break;
                case "--max-groups-per-port": maxPerPort = Count(a, Next(), 0); break;
                case "--max-sources": maxSources = Count(a, Next(), 0); break;
                case "--querier-v4": q4 = Address(a, Next(), v6: false); break;
                case "--querier-v6": q6 = Address(a, Next(), v6: true); break;
                case "-h" or "--help": await stdout.WriteLineAsync(Usage); return 0;
                default: throw new UsageException($"unknown argument '{a}'.\n{Usage}");
            }
        }
        if ((pcap is null) == (ifaces.Count == 0)) throw new UsageException($"give either --pcap FILE or --iface IF.\n{Usage}");
        if (pcap is not null && (q4 is not null || q6 is not null)) throw new UsageException("--querier-v4/--querier-v6 need live interfaces (--iface).");
        if (pcap is not null && (filter is not null || duration is not null)) throw new UsageException("--filter and --duration apply to --iface only.");
        if (ifaces.Count > 0 && moments.Count > 0) throw new UsageException("--at applies to --pcap only.");

        var options = new SnoopingOptions
        {
            GroupMembershipInterval = gmi,
            LastMemberQueryInterval = lmqi,
            LastMemberQueryCount = lmqc,
            OtherQuerierPresentInterval = oqpi,
            QueryInterval = qi,
            QueryResponseInterval = qri,
            Robustness = robustness,
            OlderVersionCompatibility = compat,
            FastLeavePorts = fastLeave,
            MaxGroups = maxGroups,
            MaxGroupsPerPort = maxPerPort,
            MaxSourcesPerMembership = maxSources,
            Querier = q4 is null && q6 is null ? null : new QuerierOptions { IPv4Source = q4, IPv6Source = q6 },
        };

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

    private static TimeSpan Seconds(string name, string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0 && s < 1e7
            ? TimeSpan.FromSeconds(s) : throw new UsageException($"{name} wants a positive number of seconds, not '{text}'.");

    private static int Count(string name, string text, int min) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= min
            ? n : throw new UsageException($"{name} wants an integer ≥ {min}, not '{text}'.");

    private static IpAddress Address(string name, string text, bool v6) =>
        IpAddress.TryParse(text, out var ip) && ip.IsV6 == v6 ? ip : throw new UsageException($"{name} wants an IPv{(v6 ? 6 : 4)} address, not '{text}'.");

    private static CaptureMoment ParseMoment(string text) =>
        CaptureMoment.TryParse(text, out var m, out string error) ? m : throw new UsageException($"--at: {error}");
}
