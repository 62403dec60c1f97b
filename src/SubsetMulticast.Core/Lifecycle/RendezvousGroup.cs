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

    /// <summary>A persistent set's member group: no lease; released only with its set.</summary>
    public bool Pinned { get; init; }

    /// <summary>
    /// The client that created the group, as the API or the push endpoint authenticated it (null: created by the library
    /// directly, or a persistent set's). Opaque to the core; kept in the record so that a restarted controller, or another
    /// node of a cluster, still knows whose group it is.
    /// </summary>
    public string? Owner { get; init; }

    public GroupRule RuleFor(SwitchPorts s) => new(Vlan, Address, s.Ports);
}

/// <summary>Where group records live. The embedded default is <see cref="InMemoryGroupStore"/>.</summary>
public interface IGroupStore
{
    bool TryGet(string id, out RendezvousGroup group);
    IReadOnlyList<RendezvousGroup> All();
    void Put(RendezvousGroup group);
    bool Remove(string id);

    /// <summary>
    /// Up to <paramref name="limit"/> groups with ids after <paramref name="after"/> (ordinal; null: from the
    /// start), in id order — a listing bounded in size however many groups are live.
    /// </summary>
    IReadOnlyList<RendezvousGroup> Page(string? after, int limit) =>
        [.. All().Where(g => after is null || string.CompareOrdinal(g.Id, after) > 0).OrderBy(g => g.Id, StringComparer.Ordinal).Take(limit)];

    /// <summary>How many groups are live.</summary>
    int Count => All().Count;
}

public sealed class InMemoryGroupStore : IGroupStore
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, RendezvousGroup> _groups = new(StringComparer.Ordinal);
    public bool TryGet(string id, out RendezvousGroup group) => _groups.TryGetValue(id, out group!);
    public IReadOnlyList<RendezvousGroup> All() => [.. _groups.Values.OrderBy(g => g.Created).ThenBy(g => g.Id, StringComparer.Ordinal)];
    public void Put(RendezvousGroup group) => _groups[group.Id] = group;
    public bool Remove(string id) => _groups.TryRemove(id, out _);
    public int Count => _groups.Count;

    /// <summary>One pass over the live groups keeping the <paramref name="limit"/> smallest ids after the cursor: O(n log limit), no copy of the whole store.</summary>
    public IReadOnlyList<RendezvousGroup> Page(string? after, int limit)
    {
        if (limit <= 0) return [];
        var keep = new PriorityQueue<RendezvousGroup, string>(limit + 1, Comparer<string>.Create((a, b) => string.CompareOrdinal(b, a)));
        foreach (var g in _groups.Values)
        {
            if (after is not null && string.CompareOrdinal(g.Id, after) <= 0) continue;
            if (keep.Count < limit) keep.Enqueue(g, g.Id);
            else if (string.CompareOrdinal(g.Id, keep.Peek().Id) < 0) keep.EnqueueDequeue(g, g.Id);
        }
        var page = new RendezvousGroup[keep.Count];
        for (int i = page.Length - 1; i >= 0; i--) page[i] = keep.Dequeue();
        return page;
    }
}
