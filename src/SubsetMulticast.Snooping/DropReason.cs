namespace SubsetMulticast.Snooping;

/// <summary>Why a frame was dropped without touching snooping state. Each reason has its own counter.</summary>
public enum DropReason
{
    /// <summary>A header or message ends before its own fields or counts say it should.</summary>
    Truncated,
    /// <summary>IPv4 header, IGMP or ICMPv6 checksum does not verify (RFC 4541 §2.1.1 (4)).</summary>
    BadChecksum,
    /// <summary>IGMP with IP TTL ≠ 1, or MLD with hop limit ≠ 1 (RFC 3376 §4, RFC 3810 §5).</summary>
    WrongTtl,
    /// <summary>IGMPv3 or MLD without the Router Alert option (RFC 3376 §9.1, RFC 3810 §5).</summary>
    MissingRouterAlert,
    /// <summary>Record or source counts that do not fit the message, or a record for a non-multicast group.</summary>
    BogusCount,
    /// <summary>A group field that is not a multicast address.</summary>
    BadGroup,
    /// <summary>MLD from a source that is neither link-local nor :: (RFC 3810 §5.1.14), or a malformed header field.</summary>
    BadSource,
    /// <summary>Anything else the decoder rejects.</summary>
    Malformed,
}
