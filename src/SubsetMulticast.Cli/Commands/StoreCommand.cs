using SubsetMulticast.Transfer.Receiving;
using SubsetMulticast.Transfer.Storage;
using SubsetMulticast.Transfer.Transport;

namespace SubsetMulticast.Cli.Commands;

/// <summary>
/// <c>tsm store --dir DIR --negotiating G [--iface IF]</c>: a storage server. Joins the negotiating group (its only
/// join), bids, takes rendezvous datagrams from an AF_PACKET tap on the transactional block, verifies and writes
/// <c>DIR/&lt;sha256&gt;</c> atomically, serves gets. Prints one "ready" line, then "stored ID" per chunk; runs until
/// SIGTERM / Ctrl-C, then prints its counters.
/// </summary>
internal static class StoreCommand
{
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var a = new Args(args, "--dir", "--negotiating", "--iface", "--port", "--block", "--rate", "--max-transfers");
        var dir = a.Get("--dir") ?? throw new UsageException("--dir DIR is required.");
        var negotiating = TransferCommandOptions.Group(a, "--negotiating");
        var block = TransferCommandOptions.Block(a);
        long rate = a.Get("--rate") is { } r ? (long.TryParse(r, out var v) && v > 0 ? v : throw new UsageException($"--rate must be bytes per second, not '{r}'.")) : 125_000_000;
        var transport = new LinuxUdpTransport(new LinuxUdpTransportOptions { Port = TransferCommandOptions.Port(a), Interface = a.Get("--iface"), TapBlocks = [block] });
        var server = new ChunkServer(transport, new DirectoryChunkStore(dir), new ChunkServerOptions
        {
            NegotiatingGroups = [negotiating],
            BidRateBytesPerSecond = rate,
            MaxConcurrentTransfers = a.Int("--max-transfers", 16, 1, 4096),
        });
        var output = TextWriter.Synchronized(stdout);
        server.ChunkStored += id => output.WriteLine($"stored {id}");
        server.Start();
        await output.WriteLineAsync($"ready {transport.Address}:{transport.Port} iface {transport.InterfaceName} negotiating {negotiating} tap {block}");
        await output.FlushAsync(cancellationToken);
        try { await Task.Delay(Timeout.Infinite, cancellationToken); }
        catch (OperationCanceledException) { }
        var c = server.Counters;
        await server.DisposeAsync();
        await output.WriteLineAsync($"stopped: stored {c.Stored}, bids {c.Bids}, data {c.DataDatagrams}, fec-recovered {c.RecoveredByFec}, tapped {transport.Tap?.Taken}, drops {string.Join(" ", c.DropsByReason().Select(d => $"{d.Key}={d.Value}"))}");
        return 0;
    }
}
