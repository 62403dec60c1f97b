using System.CommandLine;
using System.Text.Json;
using SubsetMulticast.Cli.CommandLine;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Transfer.Files;
using SubsetMulticast.Transfer.Groups;
using SubsetMulticast.Transfer.Sending;

namespace SubsetMulticast.Cli.Commands;

/// <summary>
/// <c>tsm push FILE --to ADDR,ADDR,… --reference G --controller URL [--json]</c>: MPI-style — the file to named members
/// of a reference group through one rendezvous group (opened once, used for every chunk, released after).
/// Exit 0 when every chunk reached --min-acks members (default all), 1 otherwise.
/// </summary>
internal static class PushCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The file to push." };
        var to = OptionKinds.Many<IpAddress>("--to", "The members (ranks) to push to.", "ADDR,ADDR,…",
            t => IpAddress.TryParse(t, out var ip) && !ip.IsMulticast ? (ip, null) : (default, $"'{t}' is not a unicast address"), commas: true);
        to.Required = true;
        var reference = TransferCommandOptions.Group("--reference", "The reference group the members joined.");
        reference.Required = true;
        var minAcks = OptionKinds.Count("--min-acks", "Members that must store each chunk (default: all).", 1);
        var chunkBytes = OptionKinds.Int("--chunk-bytes", "Chunk size.", 1, 64 << 20, ChunkedFiles.DefaultChunkBytes);
        var shared = new TransferCommandOptions();
        var command = new Command("push", "Push a file to named members of a reference group through one rendezvous group (MPI-style).") { file, to, reference, minAcks, chunkBytes };
        shared.AddTo(command);
        command.SetAction(async (r, ct) =>
        {
            var path = r.GetValue(file)!.FullName;
            if (!File.Exists(path)) throw new UsageException($"no file '{path}'.");
            var members = r.GetValue(to)!.Distinct().ToList();
            if (members.Count > 64) throw new UsageException("--to takes at most 64 members.");
            var options = shared.Push(r) with { MinAcks = r.GetValue(minAcks) is { } m ? Math.Min(m, members.Count) : null };
            var groups = shared.Groups(r, out var http);
            using var _ = http;
            await using var client = new TransferClient(shared.ClientTransport(r), groups);
            var content = await File.ReadAllBytesAsync(path, ct);
            int size = r.GetValue(chunkBytes);
            var results = new List<PushResult>();
            RendezvousGroupHandle? handle = null;
            try { if (groups is not null) handle = await client.OpenAsync(members, r.GetValue(reference)!.Value, options, ct); }
            catch (RendezvousUnavailableException) { /* each push below falls back to unicast and says why */ }
            try
            {
                for (int offset = 0; offset < content.Length || results.Count == 0; offset += size)
                {
                    var chunk = content.AsMemory(offset, Math.Min(size, content.Length - offset));
                    results.Add(handle is not null ? await handle.PushAsync(chunk, options, ct)
                                                   : await client.PushAsync(chunk, members, r.GetValue(reference)!.Value, options, ct));
                    if (content.Length == 0) break;
                }
            }
            finally
            {
                if (handle is not null) await handle.DisposeAsync();
            }
            var chunks = results.Select((x, i) => ManifestChunk.From(i, x)).ToList();
            bool ok = chunks.All(c => c.Success);
            var stdout = r.InvocationConfiguration.Output;
            if (r.GetValue(shared.Json)) await stdout.WriteLineAsync(JsonSerializer.Serialize(new { file = Path.GetFileName(path), size = content.Length, success = ok, chunks }, Manifest.Json));
            else
                foreach (var c in chunks)
                    await stdout.WriteLineAsync($"{c.Index,4} {c.Id} {(c.UsedMulticast ? $"via {c.Group}" : $"unicast ({c.FallbackReason})")} {c.TotalMs:0.0} ms: " + string.Join(", ", c.Targets.Select(t => $"{t.Address}={t.Outcome}")));
            return ok ? 0 : 1;
        });
        return command;
    }
}
