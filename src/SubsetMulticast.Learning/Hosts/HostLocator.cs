using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;

namespace SubsetMulticast.Learning.Hosts;

/// <summary>
/// Decides where a host is and publishes it to Core's <see cref="HostTable"/>. Punted ARP, IGMP and ND are
/// also forwarded normally, so every switch on the way sees a host's frames — on its inter-switch ports.
/// Only an edge port (not an end of a known link) can be a host's location; of those, a port that has never
/// been a link end wins over one that was (a link that timed out or a switch that reconnected briefly leaves
/// its ports link-less), then the latest sighting. When a link appears on a port a host was published on,
/// the host moves to its next best sighting, or its addresses are withdrawn until it is seen on an edge.
/// Called only on changes (snooper events, link changes), never per frame.
/// </summary>
internal sealed class HostLocator(HostTable table, int maxHosts)
{
    private const int MaxSightings = 8;

    private readonly Lock _gate = new();
    private readonly Dictionary<(VlanId, MacAddress), Host> _hosts = new();
    private readonly Dictionary<(VlanId, IpAddress), MacAddress> _owners = new();
    private HashSet<PortRef> _linkPorts = [];
    private readonly HashSet<PortRef> _everLinked = [];
    private long _refused;

    public long Refused { get { lock (_gate) return _refused; } }

    /// <summary>A snooper saw <paramref name="mac"/> on <paramref name="port"/> at <paramref name="seen"/>.</summary>
    public void Seen(VlanId vlan, MacAddress mac, PortRef port, long seen)
    {
        lock (_gate)
        {
            var h = GetOrAdd(vlan, mac);
            if (h is null) return;
            if (Note(h, port, seen)) Publish(vlan, mac, h);
        }
    }

    /// <summary>A snooper saw <paramref name="mac"/> claim <paramref name="ip"/> (ARP sender, ND, IGMP/MLD source).</summary>
    public void Claimed(VlanId vlan, MacAddress mac, IpAddress ip, PortRef port, long seen)
    {
        lock (_gate)
        {
            var h = GetOrAdd(vlan, mac);
            if (h is null) return;
            Note(h, port, seen);
            if (_owners.TryGetValue((vlan, ip), out var previous) && previous != mac && _hosts.TryGetValue((vlan, previous), out var old))
                old.Addresses.Remove(ip);
            _owners[(vlan, ip)] = mac;
            if (!h.Addresses.Contains(ip))
            {
                if (h.Addresses.Count >= MaxSightings) { _owners.Remove((vlan, h.Addresses[0])); table.Forget(vlan, h.Addresses[0]); h.Addresses.RemoveAt(0); }
                h.Addresses.Add(ip);
            }
            Publish(vlan, mac, h);
            if (h.Published is null) table.Forget(vlan, ip);
        }
    }

    /// <summary>The set of inter-switch ports changed: hosts published on a new link port move or are withdrawn; hosts on a freed port may be published.</summary>
    public void SetLinkPorts(HashSet<PortRef> linkPorts)
    {
        lock (_gate)
        {
            var before = _linkPorts;
            _linkPorts = linkPorts;
            _everLinked.UnionWith(linkPorts);
            foreach (var ((vlan, mac), h) in _hosts)
            {
                // A sighting on an inter-switch port says only that the frame passed there; dropping it keeps
                // room for the edge sightings (a fabric without snooping shows every host on every uplink).
                int dropped = h.Sightings.RemoveAll(x => linkPorts.Contains(x.Port) && x.Port != h.Published);
                bool touched = dropped > 0;
                foreach (var (p, _) in h.Sightings)
                    if (before.Contains(p) != linkPorts.Contains(p)) { touched = true; break; }
                if (touched) Publish(vlan, mac, h);
            }
        }
    }

    public bool TryGetLocation(VlanId vlan, MacAddress mac, out PortRef port)
    {
        lock (_gate)
        {
            if (_hosts.TryGetValue((vlan, mac), out var h) && h.Published is { } p) { port = p; return true; }
            port = default;
            return false;
        }
    }

    /// <summary>
    /// Records a sighting; false when it was ignored. Sightings on known inter-switch ports are not kept. When a
    /// host has <see cref="MaxSightings"/> already, one on a port that was ever a link end gives way first;
    /// else a sighting on such a port is not recorded; else the newest unpublished one gives way. Never the
    /// oldest: a host's own edge switch sees its frames first, so before the links are known its sighting is
    /// the oldest, and after they are known it is the one that matters.
    /// </summary>
    private bool Note(Host h, PortRef port, long seen)
    {
        var list = h.Sightings;
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i].Port != port) continue;
            list[i] = (port, Math.Max(seen, list[i].Seen));
            return true;
        }
        if (_linkPorts.Contains(port)) return false;
        if (list.Count >= MaxSightings)
        {
            int victim = -1;
            for (int i = 0; i < list.Count; i++)
                if (_everLinked.Contains(list[i].Port) && list[i].Port != h.Published && (victim < 0 || list[i].Seen < list[victim].Seen)) victim = i;
            if (victim < 0)
            {
                if (_everLinked.Contains(port)) return false;
                // Keep the earliest sightings (the edge switch's is among them) and make room with the newest.
                for (int i = 0; i < list.Count; i++)
                    if (list[i].Port != h.Published && (victim < 0 || list[i].Seen > list[victim].Seen)) victim = i;
                if (victim < 0) victim = 0;
            }
            list.RemoveAt(victim);
        }
        list.Add((port, seen));
        return true;
    }

    private Host? GetOrAdd(VlanId vlan, MacAddress mac)
    {
        if (_hosts.TryGetValue((vlan, mac), out var h)) return h;
        if (_hosts.Count >= maxHosts) { _refused++; return null; }
        h = new Host();
        _hosts.Add((vlan, mac), h);
        return h;
    }

    private void Publish(VlanId vlan, MacAddress mac, Host h)
    {
        PortRef? best = null;
        bool bestFresh = false;
        long bestSeen = long.MinValue;
        foreach (var (p, seen) in h.Sightings)
        {
            if (_linkPorts.Contains(p)) continue;
            bool fresh = !_everLinked.Contains(p);
            if (best is null || (fresh && !bestFresh) || (fresh == bestFresh && seen > bestSeen))
            {
                best = p;
                bestFresh = fresh;
                bestSeen = seen;
            }
        }
        var was = h.Published;
        h.Published = best;
        if (best is { } at)
        {
            if (was != at) table.LearnMac(vlan, mac, at);
            foreach (var ip in h.Addresses) table.LearnIp(vlan, ip, mac);
        }
        else if (was is not null)
        {
            foreach (var ip in h.Addresses) table.Forget(vlan, ip);
        }
    }

    private sealed class Host
    {
        public readonly List<(PortRef Port, long Seen)> Sightings = new(2);
        public readonly List<IpAddress> Addresses = new(1);
        public PortRef? Published;
    }
}
