using System.Diagnostics;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Transfer.Groups;
using SubsetMulticast.Transfer.Receiving;
using SubsetMulticast.Transfer.Sending;
using SubsetMulticast.Transfer.Storage;
using SubsetMulticast.Transfer.Transport;

namespace SubsetMulticast.Proof;

/// <summary>
/// Ours: the rendezvous transfer (src/SubsetMulticast.Transfer, issue 8) on the real fabric under the real
/// controller. Every receiver runs a <see cref="ChunkServer"/> on a <see cref="LinuxUdpTransport"/> opened in its
/// namespace (rendezvous datagrams from an AF_PACKET tap — never joined); the sender's <see cref="TransferClient"/>
/// pushes the chunk to the 3 targets: REST create (confirmed), unicast rendezvous, paced datagrams, aggregate acks,
/// bounded repair, release.
/// </summary>
internal sealed class OursPutBench : IAsyncDisposable
{
    private readonly Testbed _bed;
    private readonly int[] _targets;
    private readonly Action<string> _log;
    private readonly List<(LinuxUdpTransport Transport, ChunkServer Server)> _servers = [];
    private readonly TransferClient _client;
    private readonly IpAddress[] _to;

    public OursPutBench(Testbed bed, int[] targets, HttpClient http, Action<string> log)
    {
        _bed = bed;
        _targets = targets;
        _log = log;
        var block = AddressBlock.Parse("239.255.0.0/16"); // tsm serve's default transactional block
        for (int h = 1; h <= bed.Receivers; h++)
        {
            string inner = bed.Inner(h);
            var transport = Shell.InNamespace(bed.Ns(h), () => new LinuxUdpTransport(new LinuxUdpTransportOptions { Port = TransferPorts.Server, Interface = inner, TapBlocks = [block] }));
            var server = new ChunkServer(transport, new DiscardingChunkStore(), new ChunkServerOptions { BidRateBytesPerSecond = bed.RateMbit * 125_000L });
            server.Start();
            _servers.Add((transport, server));
        }
        string sender = bed.Inner(0);
        var own = Shell.InNamespace(bed.Ns(0), () => new LinuxUdpTransport(new LinuxUdpTransportOptions { Port = 0, Interface = sender }));
        _client = new TransferClient(own, new RestRendezvousGroups(http));
        _to = targets.Select(t => IpAddress.Parse(bed.Ip(t))).ToArray();
    }

    /// <summary>The rate the client paces at: the link rate (bytes/s), as a user sets it to their link.</summary>
    public long Rate => _bed.RateMbit * 125_000L;

    private long _serial;

    public async Task<bool> PutAsync(PutRow row, byte[] chunk, bool fec)
    {
        BitConverter.TryWriteBytes(chunk, Interlocked.Increment(ref _serial) ^ DateTime.UtcNow.Ticks); // a distinct chunk per trial
        long link0 = Testbed.Counter(_bed.Outer(0), "rx_bytes");
        long others0 = OtherBytes();
        var options = new PushOptions { RateBytesPerSecond = Rate, Fec = fec ? new FecOptions() : null, AllowUnicastFallback = false, Deadline = TimeSpan.FromSeconds(30) };
        var sw = Stopwatch.StartNew();
        PushResult r;
        try { r = await _client.PushAsync(chunk, _to, IpAddress.Parse(Testbed.Reference), options); }
        catch (Exception e) when (e is RendezvousUnavailableException or OperationCanceledException or InvalidOperationException)
        {
            row.Failed++; _log($"  ours put: {e.GetType().Name}: {e.Message}"); return false;
        }
        double ms = sw.Elapsed.TotalMilliseconds;
        await Task.Delay(20);
        if (!r.Success || !r.UsedMulticast)
        {
            row.Failed++;
            _log($"  ours put: {r.Stored}/{r.Required} stored, multicast {r.UsedMulticast}, {r.FallbackReason}; {string.Join(", ", r.Targets.Select(t => $"{t.Target} {t.Outcome}"))}");
            return false;
        }
        row.CompletionMs.Add(ms);
        row.HandshakeMs.Add(r.Setup.TotalMilliseconds);
        row.SenderLinkBytes.Add(Testbed.Counter(_bed.Outer(0), "rx_bytes") - link0);
        row.NonTargetBytes.Add(OtherBytes() - others0);
        row.Repairs.Add(r.RetransmittedDatagrams + r.UnicastRepairDatagrams);
        return true;
    }

    private long OtherBytes() => Enumerable.Range(1, _bed.Receivers).Where(h => !_targets.Contains(h)).Sum(h => Testbed.Counter(_bed.Outer(h), "tx_bytes"));

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        foreach (var (_, s) in _servers) await s.DisposeAsync(); // a server disposes its transport
    }
}

/// <summary>
/// A store that keeps the ids of verified chunks and drops their bytes: the servers check the hash before they
/// write, and what is measured is the network, not a disk (the TCP receivers discard too). Every trial's chunk is
/// distinct, so no put is answered "already held".
/// </summary>
internal sealed class DiscardingChunkStore : IChunkStore
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ChunkId, long> _ids = new();
    public bool Contains(ChunkId id) => _ids.ContainsKey(id);
    public long FreeBytes => long.MaxValue / 2;
    public Task WriteAsync(ChunkId id, ReadOnlyMemory<byte> content, CancellationToken cancellationToken) { _ids[id] = content.Length; return Task.CompletedTask; }
    public byte[]? Read(ChunkId id) => null;
}
