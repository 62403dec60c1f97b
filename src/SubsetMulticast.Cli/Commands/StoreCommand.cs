using System.CommandLine;
using System.Globalization;
using SubsetMulticast.Cli.CommandLine;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Transfer.Receiving;
using SubsetMulticast.Transfer.Sending;
using SubsetMulticast.Transfer.Storage;
using SubsetMulticast.Transfer.Transport;

namespace SubsetMulticast.Cli.Commands;

/// <summary>
/// <c>tsm store --dir DIR --negotiating G [--iface IF]</c>: a storage server (SubsetMulticast.Transfer's ChunkServer).
/// Joins the negotiating group (its only join), bids, takes rendezvous datagrams from an AF_PACKET tap on the
/// transactional block, verifies and writes <c>DIR/&lt;sha256&gt;</c> atomically, serves gets. Prints one "ready" line,
/// then "stored ID" per chunk; runs until SIGTERM / Ctrl-C, then prints its counters.
/// </summary>
internal static class StoreCommand
{
    public static Command Create()
    {
        var dir = new Option<DirectoryInfo>("--dir") { Description = "Where chunks are kept (DIR/<sha256>).", HelpName = "DIR", Required = true };
        var negotiating = TransferCommandOptions.Group("--negotiating", "The negotiating group to join and answer proposals on.");
        negotiating.Required = true;
        var shared = new TransferCommandOptions();
        var block = TransferCommandOptions.Block();
        var rate = OptionKinds.Parsed<long?>("--bid-rate", "The rate this server bids, bytes/s (default 125000000).", "BYTES",
            t => long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out long v) && v >= 100_000 ? v : null, "wants bytes per second ≥ 100000");
        var maxTransfers = OptionKinds.Int("--max-transfers", "Transfers received at once.", 1, 4096, 16);
        var command = new Command("store", "Run a storage server: bid on put proposals, receive rendezvous transfers without joining, write DIR/<sha256>, serve gets.")
        {
            dir, negotiating, shared.Iface, shared.Port, block, rate, maxTransfers,
        };
        command.SetAction((r, ct) => RunAsync(r.GetValue(dir)!.FullName, new LinuxUdpTransportOptions
        {
            Port = (ushort)r.GetValue(shared.Port),
            Interface = r.GetValue(shared.Iface),
            TapBlocks = [r.GetValue(block) ?? AddressBlock.Parse("239.255.0.0/16")],
        }, new ChunkServerOptions
        {
            NegotiatingGroups = [r.GetValue(negotiating)!.Value],
            BidRateBytesPerSecond = r.GetValue(rate) ?? new ChunkServerOptions().BidRateBytesPerSecond,
            MaxConcurrentTransfers = r.GetValue(maxTransfers),
        }, r.InvocationConfiguration.Output, ct));
        return command;
    }

    private static async Task<int> RunAsync(string dir, LinuxUdpTransportOptions transportOptions, ChunkServerOptions options, TextWriter stdout, CancellationToken cancellationToken)
    {
        var transport = new LinuxUdpTransport(transportOptions);
        var server = new ChunkServer(transport, new DirectoryChunkStore(dir), options);
        var output = TextWriter.Synchronized(stdout);
        server.ChunkStored += id => { output.WriteLine($"stored {id}"); output.Flush(); };
        server.Start();
        await output.WriteLineAsync($"ready {transport.Address}:{transport.Port} iface {transport.InterfaceName} negotiating {string.Join(",", options.NegotiatingGroups)} tap {string.Join(",", transportOptions.TapBlocks)}");
        await output.FlushAsync(CancellationToken.None);
        try { await Task.Delay(Timeout.Infinite, cancellationToken); }
        catch (OperationCanceledException) { }
        var c = server.Counters;
        await server.DisposeAsync();
        await output.WriteLineAsync($"stopped: stored {c.Stored}, bids {c.Bids}, data {c.DataDatagrams}, fec-recovered {c.RecoveredByFec}, tapped {transport.Tap?.Taken}, drops {string.Join(" ", c.DropsByReason().Select(d => $"{d.Key}={d.Value}"))}");
        await output.FlushAsync(CancellationToken.None);
        return 0;
    }
}
