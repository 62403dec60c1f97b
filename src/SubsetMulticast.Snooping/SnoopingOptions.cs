namespace SubsetMulticast.Snooping;

/// <summary>
/// Timers and limits of one snooping session. Defaults are RFC 3376 §8 / RFC 3810 §9 (and Linux
/// br_multicast.c): GMI 260 s, LMQI 1 s, LMQC 2, other-querier-present 255 s.
/// </summary>
public sealed class SnoopingOptions
{
    /// <summary>Group membership interval (RFC 3376 §8.4): a member not heard from for this long is removed.</summary>
    public TimeSpan GroupMembershipInterval { get; init; } = TimeSpan.FromSeconds(260);

    /// <summary>Last member query interval (RFC 3376 §8.8).</summary>
    public TimeSpan LastMemberQueryInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Last member query count (RFC 3376 §8.9); LMQT = LMQC × LMQI.</summary>
    public int LastMemberQueryCount { get; init; } = 2;

    /// <summary>Other querier present interval (RFC 3376 §8.5); also how long a router port lives after its last query.</summary>
    public TimeSpan OtherQuerierPresentInterval { get; init; } = TimeSpan.FromSeconds(255);

    /// <summary>Query interval of our own querier (RFC 3376 §8.2).</summary>
    public TimeSpan QueryInterval { get; init; } = TimeSpan.FromSeconds(125);

    /// <summary>Max response time our own querier advertises (RFC 3376 §8.3).</summary>
    public TimeSpan QueryResponseInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Robustness variable (RFC 3376 §8.1); sets the older-version-host-present timeout with the query timers.</summary>
    public int Robustness { get; init; } = 2;

    /// <summary>
    /// RFC 3376 §7.3.2 / RFC 3810 §8.3.2: a (group, port) that hears IGMPv1/v2 or MLDv1 reports runs in that older
    /// version's compatibility mode until the older-version-host-present timer (robustness × query interval + query
    /// response interval) expires: IGMPv3/MLDv2 BLOCK records are ignored and TO_EX source lists are dropped
    /// (TO_EX(A) is TO_EX({})); with an IGMPv1 host also IGMPv2 leaves and IGMPv3 TO_IN records are ignored.
    /// The Linux bridge does not do this (it only refreshes the port group's timer on an older report); off: the same.
    /// </summary>
    public bool OlderVersionCompatibility { get; init; } = true;

    /// <summary>
    /// Ports (by name) on which a leave removes the member at once, without waiting LMQT. IGMPv3/MLDv2 hosts are
    /// tracked one by one there (as the Linux bridge's explicit host tracking does): the port goes when its last
    /// tracked host leaves, not when the first of several does. IGMPv2 leaves and MLDv1 dones remove the port at once.
    /// </summary>
    public IReadOnlySet<string> FastLeavePorts { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Hosts tracked per (group, port) on a fast-leave port (Linux: mcast_eht_hosts_limit, 512); more are not tracked.</summary>
    public int FastLeaveHostLimit { get; init; } = 512;

    /// <summary>A port may be a member of at most this many groups; further groups are refused and counted.</summary>
    public int MaxGroupsPerPort { get; init; } = 4096;

    /// <summary>At most this many (VLAN, group) entries in total; further groups are refused and counted.</summary>
    public int MaxGroups { get; init; } = 65536;

    /// <summary>At most this many sources per (group, port); further sources are ignored and counted.</summary>
    public int MaxSourcesPerMembership { get; init; } = 256;

    /// <summary>
    /// IGMPv3 reports and all MLD messages without Router Alert are dropped (RFC 3376 §9.1, RFC 3810 §5).
    /// IGMPv1/v2 are accepted without it (RFC 2236 hosts may omit it).
    /// </summary>
    public bool RequireRouterAlert { get; init; } = true;

    /// <summary>Learn host locations from source MACs, ARP and ND.</summary>
    public bool LearnHosts { get; init; } = true;

    /// <summary>Our own querier; null: none (only observe others).</summary>
    public QuerierOptions? Querier { get; init; }

    /// <summary>
    /// Options whose group membership and other-querier-present intervals follow from the query timers, as
    /// RFC 3376 §8.4 and §8.5 derive them (robustness × query interval + query response interval, and that
    /// minus half the response interval), for when our querier sets the pace.
    /// </summary>
    public static SnoopingOptions FromQueryTimers(TimeSpan queryInterval, TimeSpan queryResponseInterval, QuerierOptions? querier = null, int robustness = 2) => new()
    {
        QueryInterval = queryInterval,
        QueryResponseInterval = queryResponseInterval,
        Robustness = robustness,
        GroupMembershipInterval = robustness * queryInterval + queryResponseInterval,
        OtherQuerierPresentInterval = robustness * queryInterval + queryResponseInterval / 2,
        Querier = querier,
    };

    internal long GmiTicks => GroupMembershipInterval.Ticks;
    internal long LmqtTicks => LastMemberQueryInterval.Ticks * LastMemberQueryCount;
    internal long OqpiTicks => OtherQuerierPresentInterval.Ticks;
    internal long OlderHostPresentTicks => Robustness * QueryInterval.Ticks + QueryResponseInterval.Ticks;

    internal void Validate()
    {
        if (GroupMembershipInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(GroupMembershipInterval));
        if (LastMemberQueryInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(LastMemberQueryInterval));
        if (LastMemberQueryCount < 1) throw new ArgumentOutOfRangeException(nameof(LastMemberQueryCount));
        if (OtherQuerierPresentInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(OtherQuerierPresentInterval));
        if (MaxGroupsPerPort < 0 || MaxGroups < 0 || MaxSourcesPerMembership < 0) throw new ArgumentOutOfRangeException(nameof(MaxGroups));
        if (Robustness < 1) throw new ArgumentOutOfRangeException(nameof(Robustness));
        if (QueryInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(QueryInterval));
        if (QueryResponseInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(QueryResponseInterval));
        if (FastLeaveHostLimit < 0) throw new ArgumentOutOfRangeException(nameof(FastLeaveHostLimit));
    }
}

/// <summary>Our own querier: the addresses it queries from. It queries only while it wins the election (lowest address).</summary>
public sealed class QuerierOptions
{
    /// <summary>IPv4 source of our IGMP queries; null: no IGMP querier.</summary>
    public Core.Addressing.IpAddress? IPv4Source { get; init; }

    /// <summary>IPv6 link-local source of our MLD queries; null: no MLD querier.</summary>
    public Core.Addressing.IpAddress? IPv6Source { get; init; }

    /// <summary>Source MAC of our query frames.</summary>
    public Core.Addressing.MacAddress SourceMac { get; init; } = new(0x02_00_00_00_00_01UL);

    /// <summary>VLANs to query on (0 = untagged).</summary>
    public IReadOnlyList<Core.Addressing.VlanId> Vlans { get; init; } = [new Core.Addressing.VlanId(0)];
}
