using SubsetMulticast.Controller.Dashboard;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;

namespace SubsetMulticast.Controller.Security;

/// <summary>Why a reservation was refused.</summary>
public enum QuotaRefusal { None, Client, ReferenceGroup }

/// <summary>
/// Which client created each live group created over REST, and how many live (or being created) groups each client
/// and each reference group holds, so that nobody exhausts a block. A create reserves a slot first (checked and
/// taken under one lock, so concurrent creates cannot overshoot), then commits it to the group's id, or cancels.
/// Released, expired and superseded groups leave through the change feed, whoever released them.
/// </summary>
/// <remarks>The owner is also written into the group's record (<see cref="RendezvousGroup.Owner"/>), so it survives a
/// restart with a durable store and is seen by every node of a cluster: on first use the counts are rebuilt from the
/// records the store holds, and a group this node did not create is looked up in the store. Counts here are this
/// node's: in a cluster each node enforces the quotas over the groups it created and those it found at start.</remarks>
public sealed class GroupOwnership
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _perClient = new(StringComparer.Ordinal);
    private readonly Dictionary<(VlanId, IpAddress), int> _perReference = new();
    private readonly IGroupStore? _store;
    private bool _seeded;

    public GroupOwnership(GroupChangeFeed feed, GroupLifecycle? lifecycle = null)
    {
        ArgumentNullException.ThrowIfNull(feed);
        _store = lifecycle?.Store;
        feed.Published += change =>
        {
            if (change.Kind is GroupChangeKind.Released or GroupChangeKind.Expired) Forget(change.Group.Id);
            else if (change.Kind == GroupChangeKind.Created && change.Superseded is { } old) Forget(old);
        };
    }

    public readonly record struct Reservation(string Client, VlanId Vlan, IpAddress Reference);

    private readonly record struct Entry(string Client, VlanId Vlan, IpAddress Reference);

    /// <summary>The client that created <paramref name="id"/> over REST; null if none did (pushed, persistent, or unknown).</summary>
    public string? OwnerOf(string id)
    {
        lock (_gate)
        {
            Seed();
            if (_byId.TryGetValue(id, out var e)) return e.Client;
        }
        // Not created here: another node's, or recorded after this node started.
        return _store is not null && _store.TryGet(id, out var g) ? g.Owner : null;
    }

    /// <summary>Once: every group the store holds with an owner counts against that owner's quota (a restarted controller).</summary>
    private void Seed()
    {
        if (_seeded || _store is null) return;
        _seeded = true;
        foreach (var g in _store.All())
            if (g.Owner is { } owner && !_byId.ContainsKey(g.Id))
            {
                _byId[g.Id] = new Entry(owner, g.Vlan, g.Reference);
                _perClient[owner] = _perClient.GetValueOrDefault(owner) + 1;
                _perReference[(g.Vlan, g.Reference)] = _perReference.GetValueOrDefault((g.Vlan, g.Reference)) + 1;
            }
    }

    /// <summary>The ids of the live groups <paramref name="client"/> created.</summary>
    public IReadOnlyList<string> GroupsOf(string client)
    {
        lock (_gate) { Seed(); return [.. _byId.Where(kv => kv.Value.Client == client).Select(kv => kv.Key)]; }
    }

    /// <summary>The ids of the live groups created over REST on one reference group.</summary>
    public IReadOnlyList<string> GroupsOn(VlanId vlan, IpAddress reference)
    {
        lock (_gate) { Seed(); return [.. _byId.Where(kv => kv.Value.Vlan == vlan && kv.Value.Reference == reference).Select(kv => kv.Key)]; }
    }

    public int CountOf(string client)
    {
        lock (_gate) { Seed(); return _perClient.GetValueOrDefault(client); }
    }

    /// <summary>
    /// Takes a slot for a new group unless a quota (0: none) is full. A group that supersedes <paramref name="replacing"/>
    /// (the client's own, on the same reference group) needs no room: the old one leaves as the new one commits.
    /// </summary>
    public QuotaRefusal TryReserve(string client, VlanId vlan, IpAddress reference, int clientQuota, int referenceQuota, out Reservation reservation,
        string? replacing = null)
    {
        reservation = new Reservation(client, vlan, reference);
        lock (_gate)
        {
            Seed();
            bool own = replacing is not null && _byId.TryGetValue(replacing, out var old) && old.Client == client;
            bool sameReference = own && _byId[replacing!].Vlan == vlan && _byId[replacing!].Reference == reference;
            if (clientQuota > 0 && _perClient.GetValueOrDefault(client) - (own ? 1 : 0) >= clientQuota) return QuotaRefusal.Client;
            if (referenceQuota > 0 && _perReference.GetValueOrDefault((vlan, reference)) - (sameReference ? 1 : 0) >= referenceQuota) return QuotaRefusal.ReferenceGroup;
            _perClient[client] = _perClient.GetValueOrDefault(client) + 1;
            _perReference[(vlan, reference)] = _perReference.GetValueOrDefault((vlan, reference)) + 1;
            return QuotaRefusal.None;
        }
    }

    /// <summary>The reserved slot now holds group <paramref name="id"/>.</summary>
    public void Commit(Reservation reservation, string id)
    {
        lock (_gate)
        {
            // Already counted (seeded from the store after the create recorded it): the reservation's slot is not needed twice.
            if (_byId.ContainsKey(id)) Release(reservation.Client, reservation.Vlan, reservation.Reference);
            else _byId[id] = new Entry(reservation.Client, reservation.Vlan, reservation.Reference);
        }
    }

    /// <summary>The create failed: the slot is free again.</summary>
    public void Cancel(Reservation reservation)
    {
        lock (_gate) Release(reservation.Client, reservation.Vlan, reservation.Reference);
    }

    /// <summary>Drops <paramref name="id"/> and frees its slots (a group gone before its create was committed here).</summary>
    public void Forget(string id)
    {
        lock (_gate)
        {
            if (!_byId.Remove(id, out var e)) return;
            Release(e.Client, e.Vlan, e.Reference);
        }
    }

    private void Release(string client, VlanId vlan, IpAddress reference)
    {
        if (_perClient.TryGetValue(client, out int c)) { if (c <= 1) _perClient.Remove(client); else _perClient[client] = c - 1; }
        if (_perReference.TryGetValue((vlan, reference), out int r)) { if (r <= 1) _perReference.Remove((vlan, reference)); else _perReference[(vlan, reference)] = r - 1; }
    }
}
