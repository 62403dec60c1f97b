using SubsetMulticast.Transfer.Files;
using SubsetMulticast.Transfer.Sending;
using SubsetMulticast.Transfer.Storage;

namespace SubsetMulticast.Cli.Commands;

/// <summary>
/// <c>tsm get CHUNKID|MANIFEST --negotiating G [-o FILE]</c>: fetches a chunk (or every chunk of a manifest) from the
/// first server that has it, verifies the hash and writes the bytes to FILE or standard output. Exit 1 when not found.
/// </summary>
internal static class GetCommand
{
    public static async Task<int> RunAsync(string[] args, Stream stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal)) throw new UsageException("get CHUNKID|MANIFEST: the chunk id or manifest file comes first.");
        var what = args[0];
        var a = new Args([.. args[1..].Select(x => x == "-o" ? "--output" : x)], "--negotiating", "--iface", "--port", "--output");
        var negotiating = TransferCommandOptions.Group(a, "--negotiating");
        await using var client = new TransferClient(TransferCommandOptions.ClientTransport(a), null);
        byte[]? content;
        if (ChunkId.TryParse(what, out var id)) content = await client.GetAsync(id, negotiating, TransferCommandOptions.Port(a), cancellationToken: cancellationToken);
        else if (File.Exists(what))
        {
            var manifest = Manifest.FromJson(await File.ReadAllTextAsync(what, cancellationToken)) ?? throw new UsageException($"'{what}' is not a manifest.");
            content = await ChunkedFiles.GetAsync(client, manifest, negotiating, TransferCommandOptions.Port(a), cancellationToken);
        }
        else throw new UsageException($"'{what}' is neither a chunk id (64 hex digits) nor a manifest file.");
        if (content is null)
        {
            await stderr.WriteLineAsync($"tsm get: no server delivered {what} with the right hash.");
            return 1;
        }
        if (a.Get("--output") is { } path) await File.WriteAllBytesAsync(path, content, cancellationToken);
        else await stdout.WriteAsync(content, cancellationToken);
        return 0;
    }
}
