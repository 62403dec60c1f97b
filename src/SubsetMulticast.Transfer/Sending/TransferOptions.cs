using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Transfer.Wire;

namespace SubsetMulticast.Transfer.Sending;

/// <summary>Forward error correction: layered interleaved XOR parity (<see cref="Fec.LayeredXorParity"/>).</summary>
public sealed record FecOptions(int Rate = 8, int Layers = 2);

/// <summary>How one push (or the transfer part of a put) runs. Immutable; defaults suit a 1–10 Gbit/s LAN.</summary>
public sealed record PushOptions
{
    /// <summary>Sending rate in bytes/s; null = the slowest chosen bid, or <see cref="DefaultRateBytesPerSecond"/> for a push.</summary>
    public long? RateBytesPerSecond { get; init; }
    /// <summary>1 Gbit/s: a push with no bids never crawls at a tiny default (transfer.md §5).</summary>
    public const long DefaultRateBytesPerSecond = 125_000_000;
    /// <summary>Targets that must report stored (or already held) for success; null = all of them.</summary>
    public int? MinAcks { get; init; }
    /// <summary>Datagram payload; 1400 fits a 1500-byte MTU (no IP fragments), 8800 a 9000-byte one.</summary>
    public int DatagramPayload { get; init; } = 1400;
    public FecOptions? Fec { get; init; }
    /// <summary>AES-256-GCM with a fresh key per transfer, handed to the targets in the (unicast) rendezvous.</summary>
    public bool Encrypt { get; init; }
    /// <summary>When the controller is unreachable or refuses, send to each target by unicast instead of failing.</summary>
    public bool AllowUnicastFallback { get; init; } = true;
    /// <summary>Skip the controller: unicast fan-out (the baseline).</summary>
    public bool ForceUnicast { get; init; }
    /// <summary>
    /// Unicast rendezvous sends per target (the n-th waits n × <see cref="RoundTimeout"/> for its Ready) before it is
    /// given up as timed out; more survive a lossier path, fewer give up on a dead target sooner.
    /// </summary>
    public int RendezvousAttempts { get; init; } = 3;
    /// <summary>Multicast repair rounds before the unicast fallback for stragglers.</summary>
    public int MaxRepairRounds { get; init; } = 3;
    /// <summary>
    /// Consecutive unicast rounds, after the multicast rounds, in which no straggler got closer (reported fewer datagrams
    /// missing than ever before) before the stragglers are given up; a round with progress starts the count again. A
    /// silent target makes no progress.
    /// </summary>
    public int MaxUnicastRounds { get; init; } = 3;
    /// <summary>
    /// How long to wait for answers to a poll or a rendezvous before the next round (a round ends as soon as every
    /// target answered, so a generous value costs nothing when they are responsive; silence doubles it, up to 8×).
    /// </summary>
    public TimeSpan RoundTimeout { get; init; } = TimeSpan.FromMilliseconds(200);
    /// <summary>How long a target that reported "writing" may take to report stored.</summary>
    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>The whole push, at most.</summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>VLAN of the rendezvous group.</summary>
    public int Vlan { get; init; }
    /// <summary>Lease asked of the controller.</summary>
    public TimeSpan GroupTtl { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Port the servers listen on.</summary>
    public ushort ServerPort { get; init; } = TransferPorts.Server;
}

/// <summary>A put: the proposal's timers on top of <see cref="PushOptions"/>.</summary>
public sealed record PutOptions
{
    public int Replicas { get; init; } = 3;
    public PushOptions Push { get; init; } = new();
    /// <summary>Once this many servers answered beyond the replicas, stop waiting for bids.</summary>
    public int SpareBids { get; init; } = 2;
    /// <summary>
    /// Wait this long for bids after the first proposal (n × this after the n-th) before sending it again, at most
    /// <see cref="ProposalAttempts"/> times. The wait ends as soon as replicas + spare servers answered.
    /// </summary>
    public TimeSpan BidTimeout { get; init; } = TimeSpan.FromMilliseconds(100);
    public int ProposalAttempts { get; init; } = 4;
}

public static class TransferPorts
{
    /// <summary>Default UDP port of storage servers (negotiating group, unicast and rendezvous datagrams).</summary>
    public const ushort Server = 9480;
}

/// <summary>The outcome of one target.</summary>
public sealed record TargetResult(IpAddress Target, TargetOutcome Outcome, TimeSpan? At);

/// <summary>What a push or put did, per target; <see cref="Success"/> only when enough targets reported stored.</summary>
public sealed record PushResult
{
    public required string ChunkId { get; init; }
    public required long Size { get; init; }
    public required IReadOnlyList<TargetResult> Targets { get; init; }
    public required int Required { get; init; }
    public int Stored => Targets.Count(t => t.Outcome is TargetOutcome.Stored or TargetOutcome.AlreadyHeld);
    public bool Success => Stored >= Required;
    /// <summary>True when the chunk went to a rendezvous group; false for unicast fan-out.</summary>
    public bool UsedMulticast { get; init; }
    /// <summary>Why the push fell back to unicast (controller unreachable or refused), or null.</summary>
    public string? FallbackReason { get; init; }
    public string? Group { get; init; }
    public TimeSpan Negotiation { get; init; }
    public TimeSpan Setup { get; init; }
    public TimeSpan Transfer { get; init; }
    public TimeSpan Total { get; init; }
    public int DatagramsSent { get; init; }
    public int ParityDatagrams { get; init; }
    public int RepairRounds { get; init; }
    public int RetransmittedDatagrams { get; init; }
    public int UnicastRepairDatagrams { get; init; }
    /// <summary>Answers to the proposal (a put only): bids, already stored, not now.</summary>
    public int Bids { get; init; }
}
