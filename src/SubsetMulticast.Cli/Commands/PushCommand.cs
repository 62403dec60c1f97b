using System.Text.Json;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Transfer.Files;
using SubsetMulticast.Transfer.Sending;

namespace SubsetMulticast.Cli.Commands;

/// <summary>
/// <c>tsm push FILE --to ADDR,ADDR,… --reference G --controller URL [--json]</c>: MPI-style — the file to named members
/// of a reference group through one rendezvous group (opened once, used for every chunk, released after).
/// Exit 0 when every listed member stored every chunk, 1 otherwise.
/// </summary>
internal static class PushCommand
{
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal)) throw new UsageException("push FILE: the file comes first.");
        var file = args[0];
        var a = new Args(args[1..], [.. TransferCommandOptions.Client, "--to", "--reference", "--chunk-bytes", "--min-acks"]);
        if (!File.Exists(file)) throw new UsageException($"no file '{file}'.");
        var reference = TransferCommandOptions.Group(a, "--reference");
        var to = (a.Get("--to") ?? throw new UsageException("--to ADDR,ADDR,… is required.")).Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => IpAddress.TryParse(s, out var ip) && !ip.IsMulticast ? ip : throw new UsageException($"--to: '{s}' is not a unicast address.")).ToList();
        if (to.Count is 0 or > 64) throw new UsageException("--to needs 1 to 64 addresses.");
        int chunkBytes = a.Int("--chunk-bytes", ChunkedFiles.DefaultChunkBytes, 1, 64 << 20);
        var options = TransferCommandOptions.Push(a) with { MinAcks = a.Has("--min-acks") ? a.Int("--min-acks", to.Count, 1, to.Count) : null };
        var groups = TransferCommandOptions.Controller(a, out var http);
        using var _ = http;
        await using var client = new TransferClient(TransferCommandOptions.ClientTransport(a), groups);
        var content = await File.ReadAllBytesAsync(file, cancellationToken);
        var results = new List<PushResult>();
        RendezvousGroupHandle? handle = null;
        try
        {
            if (groups is not null) handle = await client.OpenAsync(to, reference, options, cancellationToken);
        }
        catch (SubsetMulticast.Transfer.Groups.RendezvousUnavailableException)
        {
            // Each push below falls back to unicast and says why.
        }
        try
        {
            for (int offset = 0; offset < content.Length || results.Count == 0; offset += chunkBytes)
            {
                var chunk = content.AsMemory(offset, Math.Min(chunkBytes, content.Length - offset));
                results.Add(handle is not null ? await handle.PushAsync(chunk, options, cancellationToken)
                                               : await client.PushAsync(chunk, to, reference, options, cancellationToken));
                if (content.Length == 0) break;
            }
        }
        finally
        {
            if (handle is not null) await handle.DisposeAsync();
        }
        var chunks = results.Select((r, i) => ManifestChunk.From(i, r)).ToList();
        bool ok = chunks.All(c => c.Success);
        if (a.Has("--json")) await stdout.WriteLineAsync(JsonSerializer.Serialize(new { file = Path.GetFileName(file), size = content.Length, success = ok, chunks }, Manifest.Json));
        else
            foreach (var c in chunks)
                await stdout.WriteLineAsync($"{c.Index,4} {c.Id} {(c.UsedMulticast ? $"via {c.Group}" : $"unicast ({c.FallbackReason})")} {c.TotalMs:0.0} ms: " + string.Join(", ", c.Targets.Select(t => $"{t.Address}={t.Outcome}")));
        return ok ? 0 : 1;
    }
}
