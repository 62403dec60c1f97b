using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Transfer.Receiving;

/// <summary>Settings of a <see cref="ChunkServer"/>.</summary>
public sealed class ChunkServerOptions
{
    /// <summary>The rate this server bids (bytes/s): what it can take in. Default 1 Gbit/s.</summary>
    public long BidRateBytesPerSecond { get; init; } = 125_000_000;
    /// <summary>Transfers received at once; a proposal beyond this gets "not now".</summary>
    public int MaxConcurrentTransfers { get; init; } = 16;
    /// <summary>Largest chunk accepted.</summary>
    public long MaxChunkBytes { get; init; } = 64L << 20;
    /// <summary>A transfer with no datagram for this long is abandoned (its buffer freed, nothing written).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>A finished transfer's outcome is kept this long, so a repeated poll gets it again and a replay is recognised.</summary>
    public TimeSpan Linger { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How long a bid holds a slot for the proposal's client.</summary>
    public TimeSpan BidHold { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>Rate of datagrams served to a get (bytes/s).</summary>
    public long GetRateBytesPerSecond { get; init; } = 125_000_000;
    /// <summary>Datagram payload of gets served.</summary>
    public int GetDatagramPayload { get; init; } = 1400;
    /// <summary>After a hash mismatch the chunk is received again this many times before the outcome is "hash mismatch".</summary>
    public int HashMismatchRetries { get; init; } = 2;
    /// <summary>The negotiating groups this server answers proposals on (joined by the transport).</summary>
    public IReadOnlyList<IpAddress> NegotiatingGroups { get; init; } = [];
}
