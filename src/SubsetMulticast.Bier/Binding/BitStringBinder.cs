using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Bier.Binding;

public sealed class BitStringBinderOptions
{
    /// <summary>Sightings of the same BitString (within <see cref="IdleTimeout"/> of each other) that bind it.</summary>
    public int BindAfter { get; set; } = 3;
    /// <summary>A bound or counted BitString not seen for this long is forgotten and its address freed.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>What the BFR should do with the packet it just counted.</summary>
public readonly record struct BindingDecision(bool Bound, bool NewlyBound, IpAddress Group, int Sightings);

/// <summary>
/// TSM over BIER at one BFIR: a BitString seen <see cref="BitStringBinderOptions.BindAfter"/> times gets a
/// transactional group address from the block, so later packets can travel as plain multicast on switch
/// state instead of carrying the BitString (fewer header bytes, more switch entries); a binding not used for
/// <see cref="BitStringBinderOptions.IdleTimeout"/> ages out and its address goes back. Keys are (sub-domain,
/// SI, BitString); each observation copies its BitString into a lookup key (it runs once per packet at the
/// BFIR, not on the per-hop path). Not thread-safe: one forwarding thread per BFR.
/// </summary>
public sealed class BitStringBinder(BitStringBinderOptions options, TimeProvider time, Func<(bool Ok, IpAddress Address)> allocate, Action<IpAddress> release)
{
    private readonly Dictionary<Key, Entry> _entries = [];
    private readonly List<Key> _expired = [];

    public int Count => _entries.Count;
    public int BoundCount => _entries.Values.Count(e => e.Bound);

    public BindingDecision Observe(int subDomain, int si, ReadOnlySpan<ulong> bits)
    {
        var now = time.GetTimestamp();
        var probe = new Key(subDomain, si, bits.ToArray());
        if (!_entries.TryGetValue(probe, out var e)) _entries[probe] = e = new Entry();
        else if (time.GetElapsedTime(e.LastSeen, now) > options.IdleTimeout) { Unbind(e); e.Sightings = 0; }
        e.LastSeen = now;
        e.Sightings++;
        bool newly = false;
        if (!e.Bound && e.Sightings >= options.BindAfter)
        {
            var (ok, address) = allocate();
            if (ok) { e.Bound = true; e.Group = address; newly = true; }
        }
        return new BindingDecision(e.Bound, newly, e.Group, e.Sightings);
    }

    /// <summary>Forgets everything idle past the timeout; returns the addresses released.</summary>
    public IReadOnlyList<IpAddress> Expire()
    {
        var now = time.GetTimestamp();
        var freed = new List<IpAddress>();
        foreach (var (k, e) in _entries)
            if (time.GetElapsedTime(e.LastSeen, now) > options.IdleTimeout)
            {
                if (e.Bound) freed.Add(e.Group);
                Unbind(e);
                _expired.Add(k);
            }
        foreach (var k in _expired) _entries.Remove(k);
        _expired.Clear();
        return freed;
    }

    private void Unbind(Entry e)
    {
        if (!e.Bound) return;
        release(e.Group);
        e.Bound = false;
        e.Group = default;
    }

    private sealed class Entry
    {
        public long LastSeen;
        public int Sightings;
        public bool Bound;
        public IpAddress Group;
    }

    private readonly struct Key(int subDomain, int si, ulong[] bits) : IEquatable<Key>
    {
        private readonly int _subDomain = subDomain, _si = si;
        private readonly ulong[] _bits = bits;
        public bool Equals(Key other) => _subDomain == other._subDomain && _si == other._si && _bits.AsSpan().SequenceEqual(other._bits);
        public override bool Equals(object? obj) => obj is Key k && Equals(k);
        public override int GetHashCode()
        {
            var h = new HashCode();
            h.Add(_subDomain);
            h.Add(_si);
            foreach (var w in _bits) h.Add(w);
            return h.ToHashCode();
        }
    }
}
