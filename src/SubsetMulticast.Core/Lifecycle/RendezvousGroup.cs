using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Planning;
using SubsetMulticast.Core.Southbound;

namespace SubsetMulticast.Core.Lifecycle;

public sealed record IgnoredMember(IpAddress Member, IgnoreReason Reason);

/// <summary>One switch's rule within a group.</summary>
public sealed record SwitchPorts(string SwitchId, IReadOnlyList<uint> Ports);

/// <summary>A live transactional (rendezvous) group.</summary>
public sealed record RendezvousGroup(
    string Id,
    VlanId Vlan,
    IpAddress Reference,
    IpAddress Address,
    IReadOnlyList<IpAddress> Members,
    IReadOnlyList<IpAddress> Effective,
    IReadOnlyList<IgnoredMember> Ignored,
    IReadOnlyList<SwitchPorts> Switches,
    TimeSpan Ttl,
    DateTimeOffset Created,
    DateTimeOffset Expires,
    long Version)
{
    public MacAddress Mac => MulticastMac.For(Address);

    public GroupRule RuleFor(SwitchPorts s) => new(Vlan, Address, s.Ports);
}

/// <summary>Where group records live. The embedded default is <see cref="InMemoryGroupStore"/>.</summary>
public interface IGroupStore
{
    bool TryGet(string id, out RendezvousGroup group);
    IReadOnlyList<RendezvousGroup> All();
    void Put(RendezvousGroup group);
    bool Remove(string id);
}

public sealed class InMemoryGroupStore : IGroupStore
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, RendezvousGroup> _groups = new(StringComparer.Ordinal);
    public bool TryGet(string id, out RendezvousGroup group) => _groups.TryGetValue(id, out group!);
    public IReadOnlyList<RendezvousGroup> All() => [.. _groups.Values.OrderBy(g => g.Created).ThenBy(g => g.Id, StringComparer.Ordinal)];
    public void Put(RendezvousGroup group) => _groups[group.Id] = group;
    public bool Remove(string id) => _groups.TryRemove(id, out _);
}
