using Microsoft.Extensions.Logging;
using SubsetMulticast.Controller;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Emulator;
using SubsetMulticast.Emulator.Chaos;
using SubsetMulticast.Cli.Emulated;
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
/// client on another, and every payload datagram that reaches any NIC recorded per host. The client and the servers
/// run on <see cref="Clock"/>, a fake clock that moves only when nothing is left to do but wait: every call to the
/// client goes through <see cref="Drive{T}"/> (or the shortcuts below), so its rounds and timeouts never depend on
/// how loaded the machine is.
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
    public DrivenFakeClock Clock { get; } = new();
    private CountingRendezvousGroups _groups = null!;
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
        c.Network.Settled = c.Clock.Poke;
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
            var server = new ChunkServer(c.Network.Open(host, TransferPorts.Server), store, options, c.Clock.For(ServerClock));
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
        c._groups = new CountingRendezvousGroups(new RestRendezvousGroups(c._http), c.Clock.Poke);
        c.Client = new TransferClient(c.Network.Open(c.ClientHost, 0), c._groups, c.Clock.For("client"));
        return c;
    }

    private const string ServerClock = "server";

    /// <summary>
    /// Runs a call to the client (or to a group handle it opened) on the fake clock: the clock moves to the next timer
    /// due whenever no datagram is in flight, no request to the controller is out and no server task is running.
    /// </summary>
    public Task<T> Drive<T>(Func<Task<T>> call) => Clock.RunAsync(call, Busy, TimeSpan.FromSeconds(120));

    public Task<PushResult> PutAsync(ReadOnlyMemory<byte> chunk, PutOptions options) => Drive(() => Client.PutAsync(chunk, Negotiating, options));

    public Task<PushResult> PushAsync(ReadOnlyMemory<byte> chunk, IReadOnlyList<IpAddress> to, PushOptions options) =>
        Drive(() => Client.PushAsync(chunk, to, Negotiating, options));

    public Task<byte[]?> GetAsync(ChunkId id, TimeSpan? timeout = null) => Drive(() => Client.GetAsync(id, Negotiating, timeout: timeout));

    /// <summary>What is under way that the clock must not overtake, or null when all that is left is to wait.</summary>
    private string? Busy()
    {
        long inFlight = Network.InFlight;
        if (inFlight > 0) return $"{inFlight} datagrams in flight";
        if (_groups.Requests > 0) return "a request to the controller";
        // A server task waiting on its pacer holds a one-shot timer; one that holds none is running.
        int background = Servers.Sum(s => s.BackgroundTasks);
        if (background > Clock.Awaited(ServerClock)) return $"{background} server tasks, {Clock.Awaited(ServerClock)} of them waiting on the clock";
        return null;
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

/// <summary>The controller's REST API, with the requests under way counted (the fake clock must not move past one).</summary>
internal sealed class CountingRendezvousGroups(IRendezvousGroups inner, Action done) : IRendezvousGroups
{
    private int _requests;

    public int Requests => Volatile.Read(ref _requests);

    public async Task<RendezvousLease> OpenAsync(int vlan, IpAddress reference, IReadOnlyList<IpAddress> members, TimeSpan ttl, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        try { return await inner.OpenAsync(vlan, reference, members, ttl, cancellationToken).ConfigureAwait(false); }
        finally { Interlocked.Decrement(ref _requests); done(); }
    }

    public async Task ReleaseAsync(RendezvousLease lease, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        try { await inner.ReleaseAsync(lease, cancellationToken).ConfigureAwait(false); }
        finally { Interlocked.Decrement(ref _requests); done(); }
    }
}
