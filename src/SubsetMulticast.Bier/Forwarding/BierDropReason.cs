using SubsetMulticast.Bier.Encapsulation;

namespace SubsetMulticast.Bier.Forwarding;

/// <summary>Why a BFR dropped a packet (or, for <see cref="UnknownBfrId"/>, cleared bits of it).</summary>
public enum BierDropReason
{
    Truncated,
    BadNibble,
    UnknownVersion,
    ReservedBsl,
    /// <summary>No BIFT for the BIFT-id.</summary>
    UnknownBift,
    /// <summary>The header's BSL is not the BSL of the BIFT its BIFT-id names (RFC 8296 §2.1.2).</summary>
    BslMismatch,
    /// <summary>TTL 0 on arrival, or TTL 1 with bits that must go on (RFC 8296 §2.1.1.2).</summary>
    TtlExpired,
    /// <summary>Bits with no BIFT entry: cleared and counted per packet; the packet is dropped if nothing else remains.</summary>
    UnknownBfrId,
    /// <summary>An all-zero BitString: nothing to deliver.</summary>
    EmptyBitString,
}

/// <summary>Per-reason drop counts of one BFR. Not thread-safe: one forwarding thread owns a BFR.</summary>
public sealed class BierDropCounters
{
    private readonly long[] _counts = new long[Enum.GetValues<BierDropReason>().Length];

    public long this[BierDropReason reason] => _counts[(int)reason];
    public long Total => _counts.Sum();
    internal void Count(BierDropReason reason) => _counts[(int)reason]++;

    public static BierDropReason From(BierHeaderStatus status) => status switch
    {
        BierHeaderStatus.BadNibble => BierDropReason.BadNibble,
        BierHeaderStatus.UnknownVersion => BierDropReason.UnknownVersion,
        BierHeaderStatus.ReservedBsl => BierDropReason.ReservedBsl,
        _ => BierDropReason.Truncated,
    };
}
