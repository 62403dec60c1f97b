using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Core.Lifecycle;

/// <summary>
/// A request for a rendezvous group: a subset of <paramref name="Reference"/>'s members on
/// <paramref name="Vlan"/>. <paramref name="Group"/> asks for a specific address of the block (a newer
/// push for an address in use supersedes the older group); null lets the block choose.
/// </summary>
public sealed record CreateGroupRequest(VlanId Vlan, IpAddress Reference, IReadOnlyList<IpAddress> Members, TimeSpan? Ttl = null, IpAddress? Group = null);
