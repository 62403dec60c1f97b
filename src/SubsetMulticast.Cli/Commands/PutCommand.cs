using SubsetMulticast.Transfer.Files;
using SubsetMulticast.Transfer.Sending;

namespace SubsetMulticast.Cli.Commands;

/// <summary>
/// <c>tsm put FILE --negotiating G --replicas 3 --controller URL [--json]</c>: splits FILE into chunks (1 MiB),
/// puts each on the negotiating group's servers by bids, prints the manifest. Exit 0 when every chunk reached its
/// replicas, 1 when one did not, 2 on a bad command line.
/// </summary>
internal static class PutCommand
{
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal)) throw new UsageException("put FILE: the file comes first.");
        var file = args[0];
        var a = new Args(args[1..], [.. TransferCommandOptions.Client, "--negotiating", "--replicas", "--chunk-bytes"]);
        if (!File.Exists(file)) throw new UsageException($"no file '{file}'.");
        var negotiating = TransferCommandOptions.Group(a, "--negotiating");
        var groups = TransferCommandOptions.Controller(a, out var http);
        using var _ = http;
        await using var client = new TransferClient(TransferCommandOptions.ClientTransport(a), groups);
        var manifest = await ChunkedFiles.PutAsync(client, file, negotiating,
            new PutOptions { Replicas = a.Int("--replicas", 3, 1, 64), Push = TransferCommandOptions.Push(a) },
            a.Int("--chunk-bytes", ChunkedFiles.DefaultChunkBytes, 1, 64 << 20), cancellationToken);
        if (a.Has("--json")) await stdout.WriteLineAsync(manifest.ToJson());
        else
        {
            await stdout.WriteLineAsync($"{manifest.File}: {manifest.Size} bytes in {manifest.Chunks.Count} chunks, {manifest.TotalMs:0.0} ms, {(manifest.Success ? "stored" : "NOT stored")} on {manifest.Replicas} servers each");
            foreach (var c in manifest.Chunks)
                await stdout.WriteLineAsync($"  {c.Index,4} {c.Id} {c.Size,8} B {(c.UsedMulticast ? $"via {c.Group}" : $"unicast ({c.FallbackReason})")} {c.TotalMs:0.0} ms, repair rounds {c.RepairRounds}: "
                    + string.Join(", ", c.Targets.Select(t => $"{t.Address}={t.Outcome}")));
        }
        return manifest.Success ? 0 : 1;
    }
}
