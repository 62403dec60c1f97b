using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Controller;
using SubsetMulticast.Controller.Observability;
using SubsetMulticast.Controller.OpenFlowFabric;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.ReferenceGroups;
using SubsetMulticast.Emulator;
using SubsetMulticast.Emulator.Learning;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.Learning;
using SubsetMulticast.Push;
using SubsetMulticast.Snooping;

namespace SubsetMulticast.Cli.Commands;

/// <summary>
/// <c>tsm serve</c>: the controller service on an emulated fabric, until Ctrl-C. Every host joins the
/// reference group (real IGMPv3 reports, learned by the controller from the switches' control frames) so that rendezvous groups can be requested at once over REST or
/// pushed over UDP. With <c>--openflow ADDR:PORT</c> it serves real switches instead: they connect over
/// OpenFlow 1.3, the topology is learned by LLDP, reference groups from punted IGMP/MLD, hosts from ARP/ND.
/// </summary>
internal static class ServeCommand
{
    private const ushort Vlan = 1;
    private const ushort KeyId = 1;

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var a = new Args(args, "--fabric", "--api", "--push-udp", "--mode", "--reference", "--block", "--push-key", "--quiet", "--log-format",
            "--openflow", "--vlan", "--lldp-interval", "--querier", "--querier-v6", "--query-interval", "--query-response");
        if (a.Has("--openflow")) return await RunOpenFlowAsync(a, stdout, stderr, cancellationToken);
        foreach (var openFlowOnly in new[] { "--querier", "--querier-v6", "--query-interval", "--query-response", "--lldp-interval", "--vlan" })
            if (a.Has(openFlowOnly))
                throw new UsageException($"{openFlowOnly} applies with --openflow only (the emulated fabric is VLAN {Vlan} and re-reports on its own).");
        foreach (var only in new[] { "--vlan", "--lldp-interval" })
            if (a.Has(only)) throw new UsageException($"{only} applies only with --openflow ADDR:PORT.");
        var fabricSpec = a.Get("--fabric") ?? "leaf-spine:2:4:8";
        FabricSpec spec;
        try
        {
            spec = FabricSpec.Parse(fabricSpec);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or IOException)
        {
            throw new UsageException($"--fabric: {e.Message}");
        }
        var api = a.Get("--api") ?? "http://127.0.0.1:8080";
        if (!Uri.TryCreate(api, UriKind.Absolute, out var apiUri) || apiUri.Scheme != Uri.UriSchemeHttp || apiUri.AbsolutePath != "/")
            throw new UsageException($"--api must be a URL like http://127.0.0.1:8080, not '{api}'.");
        var pushArg = a.Get("--push-udp") ?? "127.0.0.1:9470";
        IPEndPoint? pushAt = null;
        if (pushArg != "off" && (!IPEndPoint.TryParse(pushArg, out pushAt) || !pushArg.Contains(':', StringComparison.Ordinal)))
            throw new UsageException($"--push-udp must be ADDRESS:PORT (e.g. 127.0.0.1:9470) or 'off', not '{pushArg}'.");
        var mode = (a.Get("--mode") ?? "computed") switch
        {
            "computed" => ApplyMode.Computed,
            "pushed" => ApplyMode.Pushed,
            var m => throw new UsageException($"--mode must be computed or pushed, not '{m}'."),
        };
        var referenceArg = a.Get("--reference") ?? "239.1.0.1";
        if (!IpAddress.TryParse(referenceArg, out var reference) || !reference.IsMulticast || reference.IsV6)
            throw new UsageException($"--reference must be an IPv4 multicast group, not '{referenceArg}'.");
        var blockArg = a.Get("--block") ?? "239.255.0.0/16";
        LifecycleOptions lifecycle;
        try
        {
            lifecycle = new LifecycleOptions().AddVlan(Vlan, blockArg, "ff15::7:0/112");
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new UsageException($"--block: {e.Message}");
        }
        byte[] key = a.Get("--push-key") is { } hex ? ParseKey(hex) : System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        bool quiet = a.Has("--quiet");
        var logFormat = LogFormatOf(a);

        var fabric = new EmulatedFabric(spec);
        // The controller learns from the switches' control frames (feed first, then the hosts speak):
        // reference groups from the IGMP reports, hosts from ARP/ND, as `serve --openflow` does from punts.
        var learner = new FabricLearner();
        using var feed = new EmulatedFabricFeed(fabric, learner);
        fabric.Announce();
        foreach (var h in fabric.Hosts) fabric.Join(h, reference);
        var keys = new PushKeyRing().Add(Vlan, KeyId, key);
        var southbound = new EmulatorSouthbound(fabric, keys);
        var options = new ControllerOptions
        {
            ApiUrl = api,
            PushUdp = pushAt,
            Mode = mode,
            PushKeys = keys,
            PushKeyId = KeyId,
            Lifecycle = lifecycle,
            ConfigureLogging = l => l.AddTsmConsole(logFormat, quiet),
        };

        TsmControllerHost controller;
        try
        {
            controller = await TsmControllerHost.StartAsync(options, learner.Hosts, learner.References, southbound, southbound, TimeProvider.System, cancellationToken);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            await stderr.WriteLineAsync($"tsm serve: cannot listen: {e.Message}");
            return 1;
        }
        await using (controller)
        {
            var inv = CultureInfo.InvariantCulture;
            await stdout.WriteLineAsync(string.Create(inv, $"tsm serve: {fabricSpec} ({fabric.Switches.Count} switches, {fabric.Hosts.Count} hosts), {mode.ToString().ToLowerInvariant()} mode"));
            await stdout.WriteLineAsync($"  api       {controller.ApiUrl}api/v1/groups");
            await stdout.WriteLineAsync(controller.PushEndPoint is { } p
                ? $"  push-udp  {p}  (VLAN {Vlan}, key id {KeyId}, key {Convert.ToHexStringLower(key)})"
                : "  push-udp  off");
            int learned = learner.References.TryGet(Vlan, reference, out var referenceGroup) ? referenceGroup.SwitchCount : 0;
            await stdout.WriteLineAsync($"  reference {reference} on VLAN {Vlan}: {fabric.Hosts.Count} hosts joined, learned on {learned} switches; block {blockArg}");
            await stdout.WriteLineAsync("  Ctrl-C stops.");
            await stdout.FlushAsync(CancellationToken.None);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var upkeep = KeepMembershipsAsync(fabric, learner, reference, stop.Token);
            try
            {
                await controller.WaitForShutdownAsync(cancellationToken);
            }
            catch (OperationCanceledException) { }
            finally
            {
                await stop.CancelAsync();
                await upkeep;
            }
        }
        return 0;
    }

    /// <summary>
    /// Runs the learner's snooping timers each second, and has every host re-report its membership as a
    /// querier's general query would make it (the emulated fabric has no querier): without that the learned
    /// memberships would expire after the group membership interval (260 s). Ends when <paramref name="stop"/> fires.
    /// </summary>
    private static async Task KeepMembershipsAsync(EmulatedFabric fabric, FabricLearner learner, IpAddress reference, CancellationToken stop)
    {
        const int ReaffirmEverySeconds = 60; // well inside the 260 s membership interval, as a 125 s query interval is
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            for (long second = 1; await timer.WaitForNextTickAsync(stop); second++)
            {
                if (second % ReaffirmEverySeconds == 0)
                    foreach (var h in fabric.Hosts) fabric.Reaffirm(h, reference);
                learner.Tick();
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary><c>tsm serve --openflow ADDR:PORT [--api URL] [--vlan N] [--block CIDR] [--push-udp ADDR:PORT|off] [--lldp-interval S] [--quiet]</c>.</summary>
    private static async Task<int> RunOpenFlowAsync(Args a, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        foreach (var emulatedOnly in new[] { "--fabric", "--reference", "--mode", "--push-key" })
            if (a.Has(emulatedOnly))
                throw new UsageException($"{emulatedOnly} does not apply with --openflow: the fabric and its reference groups are learned from the switches, and rules are computed by the controller.");
        var ofArg = a.Get("--openflow")!;
        if (!IPEndPoint.TryParse(ofArg, out var ofAt) || !ofArg.Contains(':', StringComparison.Ordinal))
            throw new UsageException($"--openflow must be ADDRESS:PORT (e.g. 0.0.0.0:6653), not '{ofArg}'.");
        var api = a.Get("--api") ?? "http://127.0.0.1:8080";
        if (!Uri.TryCreate(api, UriKind.Absolute, out var apiUri) || apiUri.Scheme != Uri.UriSchemeHttp || apiUri.AbsolutePath != "/")
            throw new UsageException($"--api must be a URL like http://127.0.0.1:8080, not '{api}'.");
        var pushArg = a.Get("--push-udp") ?? "off";
        IPEndPoint? pushAt = null;
        if (pushArg != "off" && (!IPEndPoint.TryParse(pushArg, out pushAt) || !pushArg.Contains(':', StringComparison.Ordinal)))
            throw new UsageException($"--push-udp must be ADDRESS:PORT (e.g. 127.0.0.1:9470) or 'off', not '{pushArg}'.");
        // Untagged hosts are VLAN 0 (the southbound then matches no vlan_vid).
        int vlan = a.Int("--vlan", 0, 0, VlanId.MaxValue);
        int lldpSeconds = a.Int("--lldp-interval", 5, 1, 3600);
        var blockArg = a.Get("--block") ?? "239.255.0.0/16";
        LifecycleOptions lifecycle;
        try
        {
            lifecycle = new LifecycleOptions().AddVlan((ushort)vlan, blockArg, "ff15::7:0/112");
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new UsageException($"--block: {e.Message}");
        }
        bool quiet = a.Has("--quiet");
        var logFormat = LogFormatOf(a);
        var snooping = SnoopingFor(a, (ushort)vlan);
        var settings = new OpenFlowControllerSettings
        {
            OpenFlowEndpoint = ofAt,
            Learner = new FabricLearnerOptions { Snooping = snooping },
            Discovery = new SubsetMulticast.OpenFlow.Discovery.DiscoveryOptions
            {
                LldpInterval = TimeSpan.FromSeconds(lldpSeconds),
                LinkTimeout = TimeSpan.FromSeconds(lldpSeconds * 3 + 1),
            },
            Controller = new ControllerOptions
            {
                ApiUrl = api,
                PushUdp = pushAt,
                Mode = ApplyMode.Computed,
                Lifecycle = lifecycle,
                ConfigureLogging = l => l.AddTsmConsole(logFormat, quiet),
            },
        };

        OpenFlowControllerService service;
        try
        {
            service = await OpenFlowControllerService.StartAsync(settings, cancellationToken);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            await stderr.WriteLineAsync($"tsm serve: cannot listen: {e.Message}");
            return 1;
        }
        await using (service)
        {
            await stdout.WriteLineAsync($"tsm serve: OpenFlow 1.3 fabric, learned from the switches (LLDP every {lldpSeconds} s, IGMP/MLD/ARP/ND punted)");
            await stdout.WriteLineAsync($"  api       {service.Controller.ApiUrl}api/v1/groups");
            await stdout.WriteLineAsync($"  openflow  {service.Listener.LocalEndpoint}");
            await stdout.WriteLineAsync(service.Controller.PushEndPoint is { } p ? $"  push-udp  {p}  (no keys: instructions are refused)" : "  push-udp  off");
            await stdout.WriteLineAsync($"  groups on VLAN {vlan} from block {blockArg}; reference groups are whatever hosts join");
            await stdout.WriteLineAsync(snooping.Querier is { } q
                ? string.Create(CultureInfo.InvariantCulture, $"  querier   {q.IPv4Source}{(q.IPv6Source is { } q6 ? $" / {q6}" : "")} on edge ports every {snooping.QueryInterval.TotalSeconds:0} s while no lower-addressed querier is heard; membership interval {snooping.GroupMembershipInterval.TotalSeconds:0} s")
                : string.Create(CultureInfo.InvariantCulture, $"  querier   none of ours (--querier ADDR): memberships last {snooping.GroupMembershipInterval.TotalSeconds:0} s unless a router or switch queries"));
            await stdout.WriteLineAsync("  Ctrl-C stops.");
            await stdout.FlushAsync(CancellationToken.None);
            try
            {
                await service.Controller.WaitForShutdownAsync(cancellationToken);
            }
            catch (OperationCanceledException) { }
        }
        return 0;
    }

    /// <summary>
    /// The learner's snooping timers and our optional querier. Without a querier on the network, hosts report a
    /// join only a couple of times, and every membership expires after the membership interval
    /// (robustness × query interval + query response interval, RFC 3376 §8.4): <c>--querier ADDR</c> makes the
    /// controller query the hosts through the switches.
    /// </summary>
    private static SnoopingOptions SnoopingFor(Args a, ushort vlan)
    {
        int interval = a.Int("--query-interval", 125, 2, 3175);
        int response = a.Int("--query-response", 10, 1, 3174);
        if (response >= interval) throw new UsageException($"--query-response ({response} s) must be shorter than --query-interval ({interval} s).");
        QuerierOptions? querier = null;
        if (a.Get("--querier") is { } v4Text)
        {
            if (!IpAddress.TryParse(v4Text, out var v4) || !v4.IsV4 || v4.IsMulticast || v4.IsUnspecified)
                throw new UsageException($"--querier must be an IPv4 unicast address to query from (e.g. 10.0.0.254), not '{v4Text}'.");
            IpAddress? v6 = null;
            if (a.Get("--querier-v6") is { } v6Text)
            {
                if (!IpAddress.TryParse(v6Text, out var parsed) || parsed.IsV4 || (parsed.High >> 48) != 0xfe80)
                    throw new UsageException($"--querier-v6 must be an IPv6 link-local address (fe80::…, as MLD requires), not '{v6Text}'.");
                v6 = parsed;
            }
            querier = new QuerierOptions { IPv4Source = v4, IPv6Source = v6, Vlans = [new VlanId(vlan)] };
        }
        else if (a.Has("--querier-v6")) throw new UsageException("--querier-v6 goes with --querier.");
        return SnoopingOptions.FromQueryTimers(TimeSpan.FromSeconds(interval), TimeSpan.FromSeconds(response), querier);
    }

    /// <summary>--log-format text|json (text when absent).</summary>
    private static LogFormat LogFormatOf(Args a) => a.Get("--log-format") is not { } v ? LogFormat.Text
        : ConsoleLogs.Parse(v) ?? throw new UsageException($"--log-format must be text or json, not '{v}'.");

    private static byte[] ParseKey(string hex)
    {
        try
        {
            var key = Convert.FromHexString(hex);
            if (key.Length >= 16) return key;
        }
        catch (FormatException) { }
        throw new UsageException("--push-key must be at least 16 bytes as hex (32+ hex digits).");
    }
}
