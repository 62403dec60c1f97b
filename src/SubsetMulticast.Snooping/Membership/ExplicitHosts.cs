using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Snooping.Membership;

/// <summary>
/// The IGMPv3/MLDv2 hosts behind one fast-leave port for one group, each with its own filter mode and (INCLUDE)
/// sources, keyed by the report's IP source. This is what the Linux bridge's explicit host tracking keeps
/// (net/bridge/br_multicast_eht.c, enabled by fast leave): a leave removes the port at once only when no
/// other tracked host still wants the group. A host not heard from for GMI is forgotten.
/// </summary>
/// <remarks>Allocates only for a new host (its source array is reused after it leaves); refreshing is free.</remarks>
internal sealed class ExplicitHosts
{
    private struct Host
    {
        public IpAddress Address;
        public bool Exclude;
        public long Expiry;
        public IpAddress[]? Sources;
        public int SourceCount;
    }

    private Host[] _hosts = new Host[2];
    private int _count;

    public int Count => _count;

    /// <summary>
    /// Applies one record from <paramref name="host"/> (RFC 3376 §4.2.12 semantics per host, as br_multicast_eht.c
    /// applies them) and returns whether some host still wants traffic.
    /// </summary>
    public bool Apply(IpAddress host, RecordType type, ReadOnlySpan<IpAddress> sources, long now, long expiry, int hostLimit, int sourceLimit)
    {
        Forget(now);
        int i = IndexOf(host);
        switch (type)
        {
            case RecordType.ModeIsExclude:
            case RecordType.ChangeToExclude:
                if (i < 0 && (i = Add(host, hostLimit)) < 0) break;
                _hosts[i].Exclude = true;
                _hosts[i].SourceCount = 0;   // an excluding host wants the group whatever it blocks
                _hosts[i].Expiry = expiry;
                break;

            case RecordType.ChangeToInclude:
            case RecordType.ModeIsInclude:
            case RecordType.AllowNewSources:
                if (i >= 0 && _hosts[i].Exclude && type == RecordType.AllowNewSources) break;   // still excluding
                bool replace = type == RecordType.ChangeToInclude || i >= 0 && _hosts[i].Exclude;
                if (sources.IsEmpty && (replace || i < 0))
                {
                    if (i >= 0) RemoveAt(i);   // TO_IN({}) / IS_IN({}) from an excluding host: it left
                    break;
                }
                if (i < 0 && (i = Add(host, hostLimit)) < 0) break;
                ref var h = ref _hosts[i];
                h.Exclude = false;
                if (replace) h.SourceCount = 0;
                foreach (var s in sources) AddSource(ref h, s, sourceLimit);
                h.Expiry = expiry;
                if (h.SourceCount == 0) RemoveAt(i);
                break;

            case RecordType.BlockOldSources:
                if (i < 0) break;
                if (_hosts[i].Exclude) { _hosts[i].Expiry = expiry; break; }
                foreach (var s in sources) RemoveSource(ref _hosts[i], s);
                if (_hosts[i].SourceCount == 0) RemoveAt(i);
                break;
        }
        return _count > 0;
    }

    private void Forget(long now)
    {
        for (int i = _count - 1; i >= 0; i--)
            if (_hosts[i].Expiry <= now) RemoveAt(i);
    }

    private int IndexOf(IpAddress host)
    {
        for (int i = 0; i < _count; i++) if (_hosts[i].Address == host) return i;
        return -1;
    }

    /// <summary>Adds a host (INCLUDE, no sources); -1 when <paramref name="limit"/> hosts are tracked already.</summary>
    private int Add(IpAddress host, int limit)
    {
        if (_count >= limit) return -1;
        if (_count == _hosts.Length) Array.Resize(ref _hosts, _hosts.Length * 2);
        ref var h = ref _hosts[_count];
        h.Address = host;
        h.Exclude = false;
        h.SourceCount = 0;
        h.Expiry = 0;
        return _count++;
    }

    private void RemoveAt(int i)
    {
        // Swap with the last live host and park the removed one's source array in the free slot for reuse.
        var freed = _hosts[i].Sources;
        _hosts[i] = _hosts[--_count];
        _hosts[_count] = new Host { Sources = freed };
    }

    private static void AddSource(ref Host h, IpAddress s, int limit)
    {
        for (int j = 0; j < h.SourceCount; j++) if (h.Sources![j] == s) return;
        if (h.SourceCount >= limit) return;
        if (h.Sources is null || h.SourceCount == h.Sources.Length) Array.Resize(ref h.Sources, Math.Max(4, h.SourceCount * 2));
        h.Sources[h.SourceCount++] = s;
    }

    private static void RemoveSource(ref Host h, IpAddress s)
    {
        for (int j = 0; j < h.SourceCount; j++)
        {
            if (h.Sources![j] != s) continue;
            h.Sources[j] = h.Sources[--h.SourceCount];
            return;
        }
    }
}
