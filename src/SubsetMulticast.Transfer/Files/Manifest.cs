using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Transfer.Sending;
using SubsetMulticast.Transfer.Storage;
using SubsetMulticast.Transfer.Wire;

namespace SubsetMulticast.Transfer.Files;

public sealed record ManifestTarget(string Address, TargetOutcome Outcome, double? Ms);

public sealed record ManifestChunk(int Index, string Id, long Size, bool Success, bool UsedMulticast, string? Group, string? FallbackReason,
    IReadOnlyList<ManifestTarget> Targets, int Bids, int RepairRounds, int Retransmitted, int UnicastRepairDatagrams, int ParityDatagrams,
    double NegotiationMs, double SetupMs, double TransferMs, double TotalMs)
{
    public static ManifestChunk From(int index, PushResult r) => new(index, r.ChunkId, r.Size, r.Success, r.UsedMulticast, r.Group, r.FallbackReason,
        [.. r.Targets.Select(t => new ManifestTarget(t.Target.ToString(), t.Outcome, t.At?.TotalMilliseconds))],
        r.Bids, r.RepairRounds, r.RetransmittedDatagrams, r.UnicastRepairDatagrams, r.ParityDatagrams,
        r.Negotiation.TotalMilliseconds, r.Setup.TotalMilliseconds, r.Transfer.TotalMilliseconds, r.Total.TotalMilliseconds);
}

/// <summary>What a file put did: the chunk ids in order (enough to get the file back), and per chunk its targets and outcomes.</summary>
public sealed record Manifest(string File, long Size, string Sha256, int ChunkBytes, int Replicas, bool Success, double TotalMs, IReadOnlyList<ManifestChunk> Chunks)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        WriteIndented = false,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static Manifest? FromJson(string text) => JsonSerializer.Deserialize<Manifest>(text, Json);
}

/// <summary>Files as chunks: split, put each chunk (in order), and fetch them back by a manifest.</summary>
public static class ChunkedFiles
{
    public const int DefaultChunkBytes = 1 << 20;

    public static async Task<Manifest> PutAsync(TransferClient client, string path, IpAddress negotiating, PutOptions options, int chunkBytes = DefaultChunkBytes,
        CancellationToken cancellationToken = default)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        byte[] content = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        var chunks = new List<ManifestChunk>();
        for (int i = 0, offset = 0; offset < content.Length || (i == 0 && content.Length == 0); i++, offset += chunkBytes)
        {
            var chunk = content.AsMemory(offset, Math.Min(chunkBytes, content.Length - offset));
            var r = await client.PutAsync(chunk, negotiating, options, cancellationToken).ConfigureAwait(false);
            chunks.Add(ManifestChunk.From(i, r));
            if (content.Length == 0) break;
        }
        return new Manifest(Path.GetFileName(path), content.Length, Convert.ToHexStringLower(SHA256.HashData(content)), chunkBytes, options.Replicas,
            chunks.All(c => c.Success), System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, chunks);
    }

    /// <summary>Every chunk of the manifest, verified, concatenated and checked against the file's hash; null if any chunk could not be had.</summary>
    public static async Task<byte[]?> GetAsync(TransferClient client, Manifest manifest, IpAddress negotiating, ushort port = TransferPorts.Server, CancellationToken cancellationToken = default)
    {
        using var all = new MemoryStream();
        foreach (var c in manifest.Chunks.OrderBy(c => c.Index))
        {
            if (!ChunkId.TryParse(c.Id, out var id)) return null;
            var bytes = await client.GetAsync(id, negotiating, port, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (bytes is null) return null;
            all.Write(bytes);
        }
        var content = all.ToArray();
        return Convert.ToHexStringLower(SHA256.HashData(content)) == manifest.Sha256 ? content : null;
    }
}
