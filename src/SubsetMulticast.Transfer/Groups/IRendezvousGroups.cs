using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Transfer.Groups;

/// <summary>A rendezvous group the controller installed: its address, and the members it ignored.</summary>
public sealed record RendezvousLease(string Id, IpAddress Group, IReadOnlyList<IpAddress> Members, IReadOnlyDictionary<IpAddress, string> Ignored,
    DateTimeOffset ExpiresAt, long SetupMicros);

/// <summary>The controller refused or could not be reached; the message says which and why.</summary>
public sealed class RendezvousUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Opens and releases rendezvous groups (the controller's REST API; <see cref="RestRendezvousGroups"/>).</summary>
public interface IRendezvousGroups
{
    /// <exception cref="RendezvousUnavailableException">the controller refused or is unreachable.</exception>
    Task<RendezvousLease> OpenAsync(int vlan, IpAddress reference, IReadOnlyList<IpAddress> members, TimeSpan ttl, CancellationToken cancellationToken);
    Task ReleaseAsync(RendezvousLease lease, CancellationToken cancellationToken);
}
