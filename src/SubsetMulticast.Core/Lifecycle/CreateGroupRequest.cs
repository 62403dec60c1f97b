using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Core.Lifecycle;

/// <summary>
/// A request for a rendezvous group: a subset of <paramref name="Reference"/>'s members on
/// <paramref name="Vlan"/>. <paramref name="Group"/> asks for a specific address of the block (a newer
/// push for an address in use supersedes the older group); null lets the block choose.
/// <paramref name="Setup"/> says when the caller is answered (<see cref="SetupMode"/>).
/// </summary>
public sealed record CreateGroupRequest(VlanId Vlan, IpAddress Reference, IReadOnlyList<IpAddress> Members, TimeSpan? Ttl = null, IpAddress? Group = null,
    SetupMode Setup = SetupMode.Confirmed)
{
    /// <summary>A persistent set's member group: no lease (it lives until its set is deleted).</summary>
    public bool Pinned { get; init; }

    /// <summary>Who asks (<see cref="RendezvousGroup.Owner"/>): recorded with the group.</summary>
    public string? Owner { get; init; }
}

/// <summary>When a create is answered. Every mode keeps the subset rule.</summary>
public enum SetupMode
{
    /// <summary>After every switch confirmed (barrier reply): the group forwards when the answer arrives.</summary>
    Confirmed,

    /// <summary>
    /// When the messages are written to every switch; confirmation follows, and a refusal then releases the
    /// group. A datagram sent before a switch applied its rule is forwarded as unregistered multicast (router
    /// ports only), so it may be lost — the transfer's repair covers it — but never reaches a port outside the
    /// reference group.
    /// </summary>
    Optimistic,

    /// <summary>
    /// The draft's alternate method (§7.2): the subset's group was installed ahead as part of a persistent set;
    /// setup is an O(k) lookup and no switch work. A subset no set covers falls back to confirmed.
    /// </summary>
    Persistent,
}
