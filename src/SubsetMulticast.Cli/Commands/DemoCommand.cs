using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Cli.CommandLine;
using SubsetMulticast.Controller;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Emulator;
using SubsetMulticast.Cli.Emulated;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.Learning;
using SubsetMulticast.Push;

namespace SubsetMulticast.Cli.Commands;

/// <summary>
/// The main job on the embedded default: the controller on an emulated fabric. A negotiating group joins
/// a reference group with real IGMPv3 reports, which the controller learns from the switches' control
/// frames (<see cref="EmulatedFabricFeed"/>, as punts on real switches), a client asks the controller's REST API for a rendezvous
/// group of a few targets, and one chunk goes out three ways — rendezvous multicast, unicast fan-out and
/// plain reference-group multicast — counted per host and per link.
/// </summary>
internal static class DemoCommand
{
    private const int DatagramPayload = 1400;

    public static Command Create()
    {
        const string DefaultFabric = "leaf-spine:2:4:8";
        const int DefaultNegotiating = 12, DefaultTargets = 3;
        var fabric = OptionKinds.Fabric("--fabric", "The emulated fabric:", DefaultFabric);
        var negotiating = OptionKinds.Int("--negotiating", "Servers in the negotiating (reference) group.", 1, 255, DefaultNegotiating);
        var targets = OptionKinds.Int("--targets", "Servers the chunk goes to.", 1, 255, DefaultTargets);
        var chunkBytes = OptionKinds.Int("--chunk-bytes", "Size of the chunk.", 1, 64 << 20, 128 * 1024);
        var mode = OptionKinds.Choice("--mode", "computed: the controller programs each switch; pushed: one signed instruction to every switch's agent.", "computed", "computed", "pushed");
        var json = OptionKinds.Flag("--json", "One JSON object instead of the table.");
        var command = new Command("demo", "Controller and an emulated fabric: one chunk to a few of a negotiating group's servers, three ways, side by side.")
        {
            fabric, negotiating, targets, chunkBytes, mode, json,
        };
        command.AddCheck(r =>
        {
            int t = r.ValueOr(targets, DefaultTargets), n = r.ValueOr(negotiating, DefaultNegotiating);
            if (t > n)
                r.AddError($"--targets {t} exceeds --negotiating {n}.");
            else if ((r.GetValue(fabric) ?? FabricSpec.Parse(DefaultFabric)) is var spec && n + 1 > spec.Hosts.Count)
                r.AddError($"--fabric has {spec.Hosts.Count} hosts; the demo needs {n} servers (--negotiating) and a client.");
        });
        command.SetAction((r, ct) => RunAsync(r.GetValue(fabric) ?? FabricSpec.Parse(DefaultFabric), r.GetValue(negotiating), r.GetValue(targets), r.GetValue(chunkBytes),
            r.GetValue(mode) == "pushed" ? ApplyMode.Pushed : ApplyMode.Computed, r.GetValue(json),
            r.InvocationConfiguration.Output, r.InvocationConfiguration.Error, ct));
        return command;
    }

    private static async Task<int> RunAsync(FabricSpec spec, int negotiating, int targets, int chunkBytes, ApplyMode mode, bool json,
        TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var fabric = new EmulatedFabric(spec);
        // The controller learns the fabric as on real switches: every IGMP/MLD, ARP and ND frame a switch
        // receives reaches its learner (reference groups from the reports, hosts from ARP/ND). So the
        // feed comes first, then the hosts speak.
        var learner = new FabricLearner();
        using var feed = new EmulatedFabricFeed(fabric, learner);
        fabric.Announce();
        // Servers spread over the edge switches (every n-th host); the client is the last host.
        int stride = Math.Max(1, (spec.Hosts.Count - 1) / negotiating);
        var servers = Enumerable.Range(0, negotiating).Select(i => fabric.Hosts[i * stride]).ToList();
        var client = fabric.Hosts[^1];
        var reference = IpAddress.Parse("239.1.0.1");
        foreach (var s in servers) fabric.Join(s, reference);
        // The chosen targets: spread across the negotiating group, as bids would pick them.
        var chosen = Enumerable.Range(0, targets).Select(i => servers[i * negotiating / targets]).ToList();

        var keys = new PushKeyRing().Add(1, 1, System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var options = new ControllerOptions
        {
            ApiUrl = "http://127.0.0.1:0",
            PushUdp = null,
            Mode = mode,
            PushKeys = keys,
            Lifecycle = new LifecycleOptions().AddVlan(1, "239.255.0.0/16", "ff15::7:0/112"),
            ConfigureLogging = l => l.ClearProviders(),
        };
        await using var controller = await TsmControllerHost.StartAsync(options, tsm => tsm.AddEmulatedFabric(fabric, learner, keys), cancellationToken);
        using var http = new HttpClient { BaseAddress = controller.ApiUrl, Timeout = TimeSpan.FromSeconds(30) };

        // One throwaway group first, so setupMicros measures the controller, not the JIT's first pass.
        var warm = await http.PostAsJsonAsync("api/v1/groups", new { vlan = 1, reference = reference.ToString(), members = new[] { chosen[0].Ipv4.ToString() }, ttlMs = 1000 }, cancellationToken);
        if (warm.IsSuccessStatusCode && warm.Headers.Location is { } warmAt) await http.DeleteAsync(warmAt, cancellationToken);

        var response = await http.PostAsJsonAsync("api/v1/groups", new
        {
            vlan = 1,
            reference = reference.ToString(),
            members = chosen.Select(h => h.Ipv4.ToString()).ToArray(),
            ttlMs = 30_000,
        }, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            await stderr.WriteLineAsync($"tsm demo: the controller refused the group ({(int)response.StatusCode}): {body}");
            return 1;
        }
        var created = JsonNode.Parse(body)!;
        var group = IpAddress.Parse(created["group"]!.GetValue<string>());

        var chunk = new byte[chunkBytes];
        new Random(42).NextBytes(chunk);
        int datagrams = (chunkBytes + DatagramPayload - 1) / DatagramPayload;
        var rendezvous = SendChunk(fabric, client, chunk, [group]);
        var unicast = SendChunk(fabric, client, chunk, [.. chosen.Select(h => h.Ipv4)]);
        var plain = SendChunk(fabric, client, chunk, [reference]);

        var deleted = await http.DeleteAsync($"api/v1/groups/{created["id"]!.GetValue<string>()}", cancellationToken);
        var chosenSet = chosen.Select(h => h.Index).ToHashSet();
        int delivered = chosen.Count(h => rendezvous.FramesPerHost[h.Index] == datagrams);
        int excess = rendezvous.FramesPerHost.Select((n, i) => chosenSet.Contains(i) ? 0 : n).Sum();

        var summary = new JsonObject
        {
            ["fabric"] = spec.Description,
            ["switches"] = spec.Switches.Count,
            ["hosts"] = spec.Hosts.Count,
            ["mode"] = mode.ToString().ToLowerInvariant(),
            ["group"] = group.ToString(),
            ["mac"] = created["mac"]?.GetValue<string>(),
            ["setupMicros"] = created["setupMicros"]?.DeepClone(),
            ["switchesProgrammed"] = created["switches"]!.AsArray().Count,
            ["chunkBytes"] = chunkBytes,
            ["datagrams"] = datagrams,
            ["targets"] = targets,
            ["delivered"] = delivered,
            ["excessDeliveries"] = excess,
            ["maxCopiesPerLink"] = rendezvous.MaxCopiesPerLinkPerFrame,
            ["multicastSenderLinkBytes"] = rendezvous.SenderLinkBytes,
            ["unicastSenderLinkBytes"] = unicast.SenderLinkBytes,
            ["referenceSenderLinkBytes"] = plain.SenderLinkBytes,
            ["multicastTotalLinkBytes"] = rendezvous.TotalLinkBytes,
            ["unicastTotalLinkBytes"] = unicast.TotalLinkBytes,
            ["referenceTotalLinkBytes"] = plain.TotalLinkBytes,
            ["referenceExcessDeliveries"] = plain.FramesPerHost.Select((n, i) => chosenSet.Contains(i) ? 0 : n).Sum(),
            ["released"] = deleted.IsSuccessStatusCode,
        };
        if (json)
        {
            await stdout.WriteLineAsync(summary.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
        }
        else
        {
            await stdout.WriteLineAsync($"Fabric {spec.Description}: {spec.Switches.Count} switches, {spec.Hosts.Count} hosts. Negotiating group {reference} ({negotiating} servers joined by IGMPv3).");
            await stdout.WriteLineAsync($"Client {client.Name} puts a {chunkBytes}-byte chunk ({datagrams} datagrams) on {targets} targets via rendezvous group {group} ({mode.ToString().ToLowerInvariant()} mode, set up in {created["setupMicros"]} µs on {created["switches"]!.AsArray().Count} switches).");
            await stdout.WriteLineAsync();
            await stdout.WriteLineAsync($"{"host",-10} {"role",-8} {"rendezvous",10} {"unicast",10} {"reference",10}   (datagrams received)");
            foreach (var h in fabric.Hosts)
            {
                if (rendezvous.FramesPerHost[h.Index] + unicast.FramesPerHost[h.Index] + plain.FramesPerHost[h.Index] == 0 && !servers.Contains(h)) continue;
                string role = chosenSet.Contains(h.Index) ? "target" : servers.Contains(h) ? "server" : "other";
                await stdout.WriteLineAsync($"{h.Name,-10} {role,-8} {rendezvous.FramesPerHost[h.Index],10} {unicast.FramesPerHost[h.Index],10} {plain.FramesPerHost[h.Index],10}");
            }
            await stdout.WriteLineAsync();
            await stdout.WriteLineAsync($"{"",-28} {"rendezvous",12} {"unicast",12} {"reference",12}");
            await stdout.WriteLineAsync($"{"sender link bytes",-28} {rendezvous.SenderLinkBytes,12} {unicast.SenderLinkBytes,12} {plain.SenderLinkBytes,12}");
            await stdout.WriteLineAsync($"{"all links, bytes",-28} {rendezvous.TotalLinkBytes,12} {unicast.TotalLinkBytes,12} {plain.TotalLinkBytes,12}");
            await stdout.WriteLineAsync($"{"max copies per link/frame",-28} {rendezvous.MaxCopiesPerLinkPerFrame,12} {unicast.MaxCopiesPerLinkPerFrame,12} {plain.MaxCopiesPerLinkPerFrame,12}");
            await stdout.WriteLineAsync();
            await stdout.WriteLineAsync($"targets delivered {delivered}/{targets}, excess deliveries {excess}; unicast fan-out costs the sender's link {(double)unicast.SenderLinkBytes / rendezvous.SenderLinkBytes:0.0}x; the reference group would have reached {servers.Count - targets} extra servers.");
        }
        return delivered == targets && excess == 0 ? 0 : 1;
    }

    private static DeliveryReport SendChunk(EmulatedFabric fabric, EmulatedHost client, byte[] chunk, IReadOnlyList<IpAddress> destinations)
    {
        DeliveryReport? report = null;
        foreach (var d in destinations)
            for (int off = 0; off < chunk.Length; off += DatagramPayload)
                report = fabric.SendUdp(client, d, chunk.AsSpan(off, Math.Min(DatagramPayload, chunk.Length - off)), report);
        return report!;
    }
}
