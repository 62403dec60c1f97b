using System.CommandLine;
using SubsetMulticast.Cli.CommandLine;
using SubsetMulticast.Transfer.Files;
using SubsetMulticast.Transfer.Sending;
using SubsetMulticast.Transfer.Storage;

namespace SubsetMulticast.Cli.Commands;

/// <summary>
/// <c>tsm get CHUNKID|MANIFEST --negotiating G [-o FILE]</c>: fetches a chunk (or every chunk of a manifest) from the
/// first server that has it, verifies the hash, writes the bytes to FILE or standard output. Exit 1 when not found.
/// </summary>
internal static class GetCommand
{
    public static Command Create()
    {
        var what = new Argument<string>("CHUNKID|MANIFEST") { Description = "A chunk id (64 hex digits) or a manifest file printed by tsm put --json." };
        var negotiating = TransferCommandOptions.Group("--negotiating", "The negotiating group to ask.");
        negotiating.Required = true;
        var output = new Option<FileInfo?>("--output", "-o") { Description = "Write the bytes here (default: standard output).", HelpName = "FILE" };
        var shared = new TransferCommandOptions();
        var command = new Command("get", "Fetch a chunk or a manifest's file from the first server that holds it, verified by hash.") { what, negotiating, output, shared.Iface, shared.Port };
        command.SetAction(async (r, ct) =>
        {
            var target = r.GetValue(what)!;
            var group = r.GetValue(negotiating)!.Value;
            ushort port = (ushort)r.GetValue(shared.Port);
            await using var client = new TransferClient(shared.ClientTransport(r), null);
            byte[]? content;
            if (ChunkId.TryParse(target, out var id)) content = await client.GetAsync(id, group, port, cancellationToken: ct);
            else if (File.Exists(target))
            {
                var manifest = Manifest.FromJson(await File.ReadAllTextAsync(target, ct)) ?? throw new UsageException($"'{target}' is not a manifest.");
                content = await ChunkedFiles.GetAsync(client, manifest, group, port, ct);
            }
            else throw new UsageException($"'{target}' is neither a chunk id (64 hex digits) nor a manifest file.");
            if (content is null)
            {
                await r.InvocationConfiguration.Error.WriteLineAsync($"tsm get: no server delivered {target} with the right hash.");
                return 1;
            }
            if (r.GetValue(output) is { } file) await File.WriteAllBytesAsync(file.FullName, content, ct);
            else
            {
                await using var stdout = Console.OpenStandardOutput();
                await stdout.WriteAsync(content, ct);
            }
            return 0;
        });
        return command;
    }
}
