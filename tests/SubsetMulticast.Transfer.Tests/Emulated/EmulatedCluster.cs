using Microsoft.Extensions.Logging;
using SubsetMulticast.Controller;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Emulator;
using SubsetMulticast.Emulator.Chaos;
using SubsetMulticast.Emulator.Learning;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.Emulator.Transfer;
using SubsetMulticast.Learning;
using SubsetMulticast.Push;
using SubsetMulticast.Transfer.Groups;
using SubsetMulticast.Transfer.Receiving;
using SubsetMulticast.Transfer.Sending;
using SubsetMulticast.Transfer.Storage;
using SubsetMulticast.Transfer.Wire;

namespace SubsetMulticast.Transfer.Tests.Emulated;

/// <summary>
/// A storage cluster on an emulated fabric: the real controller (REST on loopback, learning the fabric from the
/// switches' control frames), storage servers on some hosts (joined to the negotiating group by IGMPv3), a
/// client on another, and every payload datagram that reaches any NIC recorded per host.
/// </summary>
internal sealed class EmulatedCluster : IAsyncDisposable
{
    public static readonly IpAddress Negotiating = IpAddress.Parse("239.1.0.1");
    public const string Block = "239.255.0.0/16";

    private EmulatedFabricFeed _feed = null!;
    private TsmControllerHost _controller = null!;
    private HttpClient _http = null!;
    private readonly Lock _seenGate = new();

    public EmulatedFabric Fabric { get; private set; } = null!;
    public EmulatedDatagramNetwork Network { get; private set; } = null!;
    public List<ChunkServer> Servers { get; } = [];
    public List<MemoryChunkStore> Stores { get; } = [];
    public TransferClient Client { get; private set; } = null!;
    public EmulatedHost ClientHost { get; private set; } = null!;
    public FabricLearner Learner { get; private set; } = null!;
    public Uri ApiUrl => _controller.ApiUrl;
    public HttpClient Http => _http;

    /// <summary>Payload (data or parity) datagrams that reached each host's NIC, by transaction.</summary>
    public Dictionary<ulong, HashSet<IpAddress>> PayloadSeenBy { get; } = [];

    public static async Task<EmulatedCluster> StartAsync(FabricSpec spec, int servers, LinkChaos? chaos = null, Func<int, ChunkServerOptions>? serverOptions = null,
        bool controller = true, CancellationToken cancellationToken = default)
    {
        var c = new EmulatedCluster();
        var fabric = c.Fabric = new EmulatedFabric(spec);
        c.Learner = new FabricLearner();
        c._feed = new EmulatedFabricFeed(fabric, c.Learner);
        fabric.Announce();
        var vlan = spec.Hosts[0].Vlan.Value;
        c.Network = new EmulatedDatagramNetwork(fabric, [AddressBlock.Parse(Block)], chaos);
        c.Network.Observer = c.Observe;
        int stride = Math.Max(1, (spec.Hosts.Count - 1) / servers);
        for (int i = 0; i < servers; i++)
        {
            var host = fabric.Hosts[i * stride];
            var store = new MemoryChunkStore();
            var options = serverOptions?.Invoke(i) ?? new ChunkServerOptions();
            options = new ChunkServerOptions
            {
                BidRateBytesPerSecond = options.BidRateBytesPerSecond, MaxConcurrentTransfers = options.MaxConcurrentTransfers,
                MaxChunkBytes = options.MaxChunkBytes, NegotiatingGroups = [Negotiating],
            };
            var server = new ChunkServer(c.Network.Open(host, TransferPorts.Server), store, options);
            server.Start();
            c.Servers.Add(server);
            c.Stores.Add(store);
        }
        c.ClientHost = fabric.Hosts[^1];
        var keys = new PushKeyRing().Add(1, 1, new byte[32]);
        var southbound = new EmulatorSouthbound(fabric, keys);
        c._controller = await TsmControllerHost.StartAsync(new ControllerOptions
        {
            ApiUrl = "http://127.0.0.1:0",
            PushUdp = null,
            PushKeys = keys,
            Lifecycle = new LifecycleOptions().AddVlan(vlan, Block, "ff15::7:0/112"),
            ConfigureLogging = l => l.ClearProviders(),
        }, c.Learner.Hosts, c.Learner.References, southbound, southbound, TimeProvider.System, cancellationToken);
        c._http = new HttpClient { BaseAddress = controller ? c._controller.ApiUrl : new Uri("http://127.0.0.1:1/"), Timeout = TimeSpan.FromSeconds(10) };
        c.Client = new TransferClient(c.Network.Open(c.ClientHost, 0), new RestRendezvousGroups(c._http));
        return c;
    }

    public int Vlan => Fabric.Hosts[0].Vlan.Value;

    public ChunkServer ServerAt(IpAddress address) => Servers.Single(s => s.Address == address);

    private void Observe(EmulatedHost host, IpAddress source, IpAddress destination, ushort port, ReadOnlySpan<byte> payload)
    {
        if (TransferHeader.TryRead(payload, out var type, out ulong tx) != ReadStatus.Ok || type is not (MessageType.Data or MessageType.Parity)) return;
        lock (_seenGate)
        {
            if (!PayloadSeenBy.TryGetValue(tx, out var set)) PayloadSeenBy[tx] = set = [];
            set.Add(host.Ipv4);
        }
    }

    public IReadOnlySet<IpAddress> HostsThatSawPayload()
    {
        lock (_seenGate) return PayloadSeenBy.Values.SelectMany(s => s).ToHashSet();
    }

    public void ClearSeen()
    {
        lock (_seenGate) PayloadSeenBy.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        foreach (var s in Servers) await s.DisposeAsync();
        await Network.DisposeAsync();
        _http.Dispose();
        await _controller.DisposeAsync();
        _feed.Dispose();
    }
}
