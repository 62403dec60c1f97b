using System.Security.Cryptography;

namespace SubsetMulticast.Transfer.Storage;

/// <summary>A chunk's content address: the SHA-256 of its bytes, written as 64 lowercase hex digits.</summary>
public readonly record struct ChunkId(string Hex)
{
    public static ChunkId Of(ReadOnlySpan<byte> content)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(content, hash);
        return From(hash);
    }

    public static ChunkId From(ReadOnlySpan<byte> hash32) => new(Convert.ToHexStringLower(hash32[..32]));

    public static bool TryParse(string? text, out ChunkId id)
    {
        id = default;
        if (text is null || text.Length != 64) return false;
        foreach (char c in text) if (!char.IsAsciiHexDigit(c)) return false;
        id = new ChunkId(text.ToLowerInvariant());
        return true;
    }

    public byte[] ToBytes() => Convert.FromHexString(Hex);

    /// <summary>True when <paramref name="content"/> hashes to <paramref name="hash32"/>.</summary>
    public static bool Matches(ReadOnlySpan<byte> content, ReadOnlySpan<byte> hash32)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(content, hash);
        return CryptographicOperations.FixedTimeEquals(hash, hash32[..32]);
    }

    public override string ToString() => Hex;
}

/// <summary>Where a storage server keeps chunks, by id. Writes are atomic: a chunk is either whole or absent.</summary>
public interface IChunkStore
{
    bool Contains(ChunkId id);
    long FreeBytes { get; }
    /// <summary>Writes a verified chunk. Throws <see cref="IOException"/> when the write failed (nothing is left behind).</summary>
    Task WriteAsync(ChunkId id, ReadOnlyMemory<byte> content, CancellationToken cancellationToken);
    /// <summary>The chunk's bytes, or null.</summary>
    byte[]? Read(ChunkId id);
}

/// <summary>
/// Chunks as files <c>DIR/&lt;sha256&gt;</c>. A write goes to a temporary file in the same directory, is fsynced,
/// renamed over the final name (atomic on POSIX) and the directory is fsynced, so a crash leaves either the
/// whole chunk or none.
/// </summary>
public sealed class DirectoryChunkStore : IChunkStore
{
    public DirectoryChunkStore(string directory)
    {
        Directory = System.IO.Directory.CreateDirectory(directory).FullName;
        // Temporaries of an earlier crash are never a chunk.
        foreach (var f in System.IO.Directory.EnumerateFiles(Directory, "*.tmp")) File.Delete(f);
    }

    public string Directory { get; }

    public bool Contains(ChunkId id) => File.Exists(Path.Combine(Directory, id.Hex));

    public long FreeBytes => new DriveInfo(Directory).AvailableFreeSpace;

    public async Task WriteAsync(ChunkId id, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        string final = Path.Combine(Directory, id.Hex);
        string temp = Path.Combine(Directory, $"{id.Hex}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var f = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await f.WriteAsync(content, cancellationToken).ConfigureAwait(false);
                f.Flush(flushToDisk: true);
            }
            File.Move(temp, final, overwrite: true);
            FsyncDirectory(Directory);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }

    public byte[]? Read(ChunkId id)
    {
        try { return File.ReadAllBytes(Path.Combine(Directory, id.Hex)); }
        catch (FileNotFoundException) { return null; }
    }

    private static void FsyncDirectory(string directory)
    {
        // The rename is durable only once the directory entry is: open the directory and fsync it.
        int fd = Native.open(directory, 0 /* O_RDONLY */);
        if (fd < 0) return;
        Native.fsync(fd);
        Native.close(fd);
    }

    private static class Native
    {
        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)] internal static extern int open([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path, int flags);
        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)] internal static extern int fsync(int fd);
        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)] internal static extern int close(int fd);
    }
}

/// <summary>Chunks in memory (emulator tests and benchmarks).</summary>
public sealed class MemoryChunkStore(long capacity = long.MaxValue) : IChunkStore
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ChunkId, byte[]> _chunks = new();
    private long _used;

    public bool Contains(ChunkId id) => _chunks.ContainsKey(id);
    public long FreeBytes => capacity - Interlocked.Read(ref _used);
    public IReadOnlyCollection<ChunkId> Ids => [.. _chunks.Keys];

    public Task WriteAsync(ChunkId id, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        if (_chunks.TryAdd(id, content.ToArray())) Interlocked.Add(ref _used, content.Length);
        return Task.CompletedTask;
    }

    public byte[]? Read(ChunkId id) => _chunks.TryGetValue(id, out var b) ? b : null;
}
