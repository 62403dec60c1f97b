using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Snooping;

/// <summary>A port of the snooping session (a capture interface or a live interface), by index.</summary>
public readonly record struct PortId(int Value);

/// <summary>What changed. Raised synchronously from <see cref="Snooper.Process(PortId, ReadOnlySpan{byte}, long)"/> and timer runs.</summary>
public enum SnoopingChangeKind
{
    /// <summary>A port became a member of a group.</summary>
    MemberAdded,
    /// <summary>A port stopped being a member (leave, timeout, fast leave, port removed).</summary>
    MemberRemoved,
    /// <summary>A member's filter mode or source list changed.</summary>
    MemberFilterChanged,
    RouterPortAdded,
    RouterPortRemoved,
    /// <summary>The elected querier of a VLAN and family changed (Group holds its address; unspecified when it timed out).</summary>
    QuerierChanged,
    HostLearned,
    HostMoved,
    HostAddressAdded,
    /// <summary>A new group was refused because a per-port or global limit was reached. Snooping stays on.</summary>
    GroupRefused,
    /// <summary>A source was not recorded because the per-membership source limit was reached.</summary>
    SourceRefused,
}

/// <summary>
/// One change. Fields that do not apply to <see cref="Kind"/> are default. <see cref="Port"/> is the
/// port's name (no allocation: names are interned at <see cref="Snooper.AddPort"/>).
/// </summary>
public readonly record struct SnoopingChange(
    SnoopingChangeKind Kind, VlanId Vlan, IpAddress Group, string? Port, MacAddress Mac, IpAddress Address, long Timestamp, string? Detail = null);

/// <summary>
/// One (VLAN, group, port) membership. In INCLUDE mode <see cref="Sources"/> are forwarded; in EXCLUDE mode they are blocked.
/// <see cref="Compatibility"/> is the group compatibility mode (RFC 3376 §7.3.2, RFC 3810 §8.3.2): the oldest protocol
/// version heard on the port within the older-version-host-present timeout, "IGMPv1" … "IGMPv3", "MLDv1" or "MLDv2";
/// while it is older than IGMPv3/MLDv2, source lists and BLOCK records are ignored.
/// </summary>
public sealed record GroupMembership(VlanId Vlan, IpAddress Group, string Port, FilterMode Mode, IReadOnlyList<IpAddress> Sources, string Compatibility);

public sealed record RouterPort(VlanId Vlan, string Port);

public sealed record HostLocation(MacAddress Mac, VlanId Vlan, string Port, IReadOnlyList<IpAddress> Addresses, DateTimeOffset LastSeen);

public sealed record QuerierInfo(VlanId Vlan, IpAddress Address, string Port);

/// <summary>A copy of the snooper's state at one moment, sorted for stable output.</summary>
public sealed record SnoopingSnapshot(
    DateTimeOffset Time,
    IReadOnlyList<GroupMembership> Groups,
    IReadOnlyList<RouterPort> RouterPorts,
    IReadOnlyList<QuerierInfo> Queriers,
    IReadOnlyList<HostLocation> Hosts,
    IReadOnlyDictionary<DropReason, long> Dropped,
    IReadOnlyDictionary<string, long> Refused,
    long FramesSeen,
    long MessagesApplied);

/// <summary>Counts of frames by outcome.</summary>
public enum FrameOutcome
{
    /// <summary>An IGMP/MLD message was applied (possibly changing nothing), or ARP/ND taught a host.</summary>
    Applied,
    /// <summary>Not a snooping message (data, unknown types, link-local groups); only the source MAC was learned.</summary>
    Ignored,
    /// <summary>Malformed: counted under a <see cref="DropReason"/>; no state changed.</summary>
    Dropped,
}
