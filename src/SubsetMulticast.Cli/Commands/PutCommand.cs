using System.CommandLine;
using SubsetMulticast.Cli.CommandLine;
using SubsetMulticast.Transfer.Files;
using SubsetMulticast.Transfer.Sending;

namespace SubsetMulticast.Cli.Commands;

/// <summary>
/// <c>tsm put FILE --negotiating G --replicas 3 --controller URL [--json]</c>: splits FILE into chunks (1 MiB), puts
/// each on the negotiating group's servers by bids (SubsetMulticast.Transfer's ChunkedFiles), prints the manifest.
/// Exit 0 when every chunk reached its replicas, 1 when one did not, 2 on a bad command line.
/// </summary>
internal static class PutCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The file to put." };
        var negotiating = TransferCommandOptions.Group("--negotiating", "The negotiating group the proposal goes to.");
        negotiating.Required = true;
        var replicas = OptionKinds.Int("--replicas", "Servers that must store each chunk.", 1, 64, 3);
        var chunkBytes = OptionKinds.Int("--chunk-bytes", "Chunk size.", 1, 64 << 20, ChunkedFiles.DefaultChunkBytes);
        var shared = new TransferCommandOptions();
        var command = new Command("put", "Put a file's chunks on servers of a negotiating group, chosen by their bids; print the manifest.") { file, negotiating, replicas, chunkBytes };
        shared.AddTo(command);
        command.SetAction(async (r, ct) =>
        {
            var path = r.GetValue(file)!.FullName;
            if (!File.Exists(path)) throw new UsageException($"no file '{path}'.");
            var groups = shared.Groups(r, out var http);
            using var _ = http;
            await using var client = new TransferClient(shared.ClientTransport(r), groups);
            var manifest = await ChunkedFiles.PutAsync(client, path, r.GetValue(negotiating)!.Value,
                new PutOptions { Replicas = r.GetValue(replicas), Push = shared.Push(r) }, r.GetValue(chunkBytes), ct);
            var stdout = r.InvocationConfiguration.Output;
            if (r.GetValue(shared.Json)) await stdout.WriteLineAsync(manifest.ToJson());
            else
            {
                await stdout.WriteLineAsync($"{manifest.File}: {manifest.Size} bytes in {manifest.Chunks.Count} chunks, {manifest.TotalMs:0.0} ms, {(manifest.Success ? "stored" : "NOT stored")} on {manifest.Replicas} servers each");
                foreach (var c in manifest.Chunks)
                    await stdout.WriteLineAsync($"  {c.Index,4} {c.Id} {c.Size,8} B {(c.UsedMulticast ? $"via {c.Group}" : $"unicast ({c.FallbackReason})")} {c.TotalMs:0.0} ms, repair rounds {c.RepairRounds}: "
                        + string.Join(", ", c.Targets.Select(t => $"{t.Address}={t.Outcome}")));
            }
            return manifest.Success ? 0 : 1;
        });
        return command;
    }
}
