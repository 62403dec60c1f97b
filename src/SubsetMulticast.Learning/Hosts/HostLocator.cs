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
            h.Note(port, seen, MaxSightings);
            Publish(vlan, mac, h);
        }
    }

    /// <summary>A snooper saw <paramref name="mac"/> claim <paramref name="ip"/> (ARP sender, ND, IGMP/MLD source).</summary>
    public void Claimed(VlanId vlan, MacAddress mac, IpAddress ip, PortRef port, long seen)
    {
        lock (_gate)
        {
            var h = GetOrAdd(vlan, mac);
            if (h is null) return;
            h.Note(port, seen, MaxSightings);
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
                bool touched = false;
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

        public void Note(PortRef port, long seen, int max)
        {
            for (int i = 0; i < Sightings.Count; i++)
            {
                if (Sightings[i].Port != port) continue;
                Sightings[i] = (port, Math.Max(seen, Sightings[i].Seen));
                return;
            }
            if (Sightings.Count >= max)
            {
                int oldest = 0;
                for (int i = 1; i < Sightings.Count; i++) if (Sightings[i].Seen < Sightings[oldest].Seen) oldest = i;
                Sightings.RemoveAt(oldest);
            }
            Sightings.Add((port, seen));
        }
    }
}
