using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Snooping.Membership;

/// <summary>
/// Multicast-router ports learned from queries whose source is not 0.0.0.0/:: (RFC 4541 §2.1.1 (1)), and
/// the querier elected per (VLAN, family): the lowest source address wins (RFC 3376 §6.6.2, RFC 3810 §7.6.2).
/// Both age out after the other-querier-present interval.
/// </summary>
internal sealed class RouterTable(SnoopingOptions options, ISnoopingSink sink)
{
    internal readonly record struct RouterKey(VlanId Vlan, int Port);
    internal readonly record struct QuerierKey(VlanId Vlan, bool V6);
    internal record struct Querier(IpAddress Address, int Port, long Expiry);

    private readonly Dictionary<RouterKey, long> _routers = new();
    private readonly Dictionary<QuerierKey, Querier> _queriers = new();
    private long _nextSweep = long.MaxValue;

    public Dictionary<RouterKey, long> Routers => _routers;
    public Dictionary<QuerierKey, Querier> Queriers => _queriers;

    /// <summary>A query from <paramref name="source"/> arrived on <paramref name="port"/>.</summary>
    public void OnQuery(VlanId vlan, int port, IpAddress source, long now)
    {
        if (source.IsUnspecified) return; // A proxy/snooping switch querying from 0.0.0.0 is not a router.
        long expiry = now + options.OqpiTicks;
        var rk = new RouterKey(vlan, port);
        ref var slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_routers, rk, out bool existed);
        slot = expiry;
        if (!existed) sink.Changed(SnoopingChangeKind.RouterPortAdded, vlan, default, port);

        var qk = new QuerierKey(vlan, source.IsV6);
        ref var q = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_queriers, qk, out bool had);
        if (!had || q.Expiry <= now || source.CompareTo(q.Address) <= 0)
        {
            bool changed = !had || q.Address != source || q.Port != port;
            q = new Querier(source, port, expiry);
            if (changed) sink.Changed(SnoopingChangeKind.QuerierChanged, vlan, source, port);
        }
        _nextSweep = Math.Min(_nextSweep, expiry);
    }

    /// <summary>The elected querier other than us, if one is present at <paramref name="now"/>.</summary>
    public bool TryGetQuerier(VlanId vlan, bool v6, long now, out Querier querier)
    {
        if (_queriers.TryGetValue(new QuerierKey(vlan, v6), out querier) && querier.Expiry > now) return true;
        querier = default;
        return false;
    }

    public void Expire(long now)
    {
        if (now < _nextSweep) return;
        long next = long.MaxValue;
        foreach (var (k, expiry) in _routers)
        {
            if (expiry <= now)
            {
                _routers.Remove(k);
                sink.Changed(SnoopingChangeKind.RouterPortRemoved, k.Vlan, default, k.Port);
            }
            else next = Math.Min(next, expiry);
        }
        foreach (var (k, q) in _queriers)
        {
            if (q.Expiry <= now)
            {
                _queriers.Remove(k);
                sink.Changed(SnoopingChangeKind.QuerierChanged, k.Vlan, default, -1);
            }
            else next = Math.Min(next, q.Expiry);
        }
        _nextSweep = next;
    }

    public void RemovePort(int port)
    {
        foreach (var (k, _) in _routers)
        {
            if (k.Port != port) continue;
            _routers.Remove(k);
            sink.Changed(SnoopingChangeKind.RouterPortRemoved, k.Vlan, default, k.Port);
        }
    }
}
