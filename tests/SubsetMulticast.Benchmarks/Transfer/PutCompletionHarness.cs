using System.Diagnostics;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Controller;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Emulator;
using SubsetMulticast.Cli.Emulated;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.Emulator.Transfer;
using SubsetMulticast.Learning;
using SubsetMulticast.Push;
using SubsetMulticast.Transfer.Groups;
using SubsetMulticast.Transfer.Receiving;
using SubsetMulticast.Transfer.Sending;
using SubsetMulticast.Transfer.Storage;

namespace SubsetMulticast.Benchmarks.Transfer;

/// <summary>
/// End-to-end put completion time on the emulator (a harness, not BenchmarkDotNet: each put is a network
/// transaction with timers): leaf-spine:2:4:4, 12 storage servers in the negotiating group, the real controller
/// over REST on loopback, 3 replicas. For each chunk size: warm-up puts, then N measured puts; prints median,
/// p90, min and the phases (negotiation, controller setup, transfer). Run:
/// <c>dotnet SubsetMulticast.Benchmarks.dll transfer-put [N]</c>.
/// </summary>
public static class PutCompletionHarness
{
    public static async Task RunAsync(string[] args)
    {
        int n = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 30;
        var spec = FabricSpec.LeafSpine(2, 4, 4);
        var fabric = new EmulatedFabric(spec);
        var learner = new FabricLearner();
        using var feed = new EmulatedFabricFeed(fabric, learner);
        fabric.Announce();
        await using var network = new EmulatedDatagramNetwork(fabric, [AddressBlock.Parse("239.255.0.0/16")]);
        var negotiating = IpAddress.Parse("239.1.0.1");
        var servers = new List<ChunkServer>();
        for (int i = 0; i < 12; i++)
        {
            var s = new ChunkServer(network.Open(fabric.Hosts[i], TransferPorts.Server), new MemoryChunkStore(),
                new ChunkServerOptions { NegotiatingGroups = [negotiating], BidRateBytesPerSecond = 1_250_000_000 });
            s.Start();
            servers.Add(s);
        }
        var keys = new PushKeyRing().Add(1, 1, new byte[32]);
        var southbound = new EmulatorSouthbound(fabric, keys);
        await using var controller = await TsmControllerHost.StartAsync(new ControllerOptions
        {
            ApiUrl = "http://127.0.0.1:0", PushUdp = null, PushKeys = keys,
            Lifecycle = new LifecycleOptions().AddVlan(1, "239.255.0.0/16"),
            ConfigureLogging = l => l.ClearProviders(),
        }, learner.Hosts, learner.References, southbound, southbound, TimeProvider.System);
        using var http = new HttpClient { BaseAddress = controller.ApiUrl };
        await using var client = new TransferClient(network.Open(fabric.Hosts[^1], 0), new RestRendezvousGroups(http));
        Console.WriteLine($"# put completion on the emulator: {spec.Description}, 12 servers, 3 replicas, 10 Gbit/s bids, {n} puts per size");
        Console.WriteLine("| chunk | datagram | FEC | median ms | p90 ms | min ms | negotiation ms (median) | setup ms (median) | transfer ms (median) | repair rounds (total) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        var random = new Random(3);
        foreach (int size in new[] { 64 << 10, 1 << 20, 8 << 20 })
            foreach (var (payload, fec) in new[] { (8800, (FecOptions?)null), (8800, new FecOptions(8, 2)) })
            {
                var options = new PutOptions { Push = new PushOptions { Vlan = 1, DatagramPayload = payload, Fec = fec } };
                var results = new List<PushResult>();
                for (int i = 0; i < n + 3; i++)
                {
                    var chunk = new byte[size];
                    random.NextBytes(chunk);
                    var r = await client.PutAsync(chunk, negotiating, options);
                    if (!r.Success) throw new InvalidOperationException($"put failed: {string.Join(", ", r.Targets.Select(t => $"{t.Target}={t.Outcome}"))}");
                    if (i >= 3) results.Add(r);
                }
                static double Median(IEnumerable<double> xs) { var s = xs.Order().ToArray(); return s[s.Length / 2]; }
                var totals = results.Select(r => r.Total.TotalMilliseconds).Order().ToArray();
                Console.WriteLine($"| {size / 1024} KiB | {payload} B | {(fec is null ? "off" : $"k={fec.Rate}×{fec.Layers}")} | {Median(totals):0.00} | {totals[(int)(totals.Length * 0.9)]:0.00} | {totals[0]:0.00} | "
                    + $"{Median(results.Select(r => r.Negotiation.TotalMilliseconds)):0.00} | {Median(results.Select(r => r.Setup.TotalMilliseconds)):0.00} | {Median(results.Select(r => r.Transfer.TotalMilliseconds)):0.00} | {results.Sum(r => r.RepairRounds)} |");
            }
        foreach (var s in servers) await s.DisposeAsync();
    }
}
