using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Core.Persistent;

/// <summary>
/// The draft's alternate method (§7.2): one pre-configured group for every k-of-n subset of a negotiating
/// group, on consecutive addresses from <see cref="First"/>. Subsets are numbered in colexicographic
/// order of member positions (the combinatorial number system: rank = Σ C(c_i, i+1) for sorted positions
/// c_0 &lt; c_1 &lt; …), so a subset's address is found in O(k) table look-ups and C(20,3) = 1140 subsets
/// fill 1140 addresses with no gaps.
/// </summary>
public sealed class PersistentGroupSet
{
    private readonly IpAddress[] _members;
    private readonly Dictionary<IpAddress, int> _position;
    private readonly long[,] _binomial;

    public PersistentGroupSet(IReadOnlyList<IpAddress> negotiatingGroup, int k, IpAddress first)
    {
        int n = negotiatingGroup.Count;
        if (k < 1 || k > n) throw new ArgumentOutOfRangeException(nameof(k), $"k must be 1..{n}.");
        if (n > 64) throw new ArgumentOutOfRangeException(nameof(negotiatingGroup), "At most 64 members.");
        _members = [.. negotiatingGroup];
        _position = new Dictionary<IpAddress, int>(n);
        for (int i = 0; i < n; i++)
            if (!_position.TryAdd(_members[i], i)) throw new ArgumentException($"{_members[i]} appears twice.", nameof(negotiatingGroup));
        _binomial = new long[n + 1, k + 1];
        for (int i = 0; i <= n; i++)
        {
            _binomial[i, 0] = 1;
            for (int j = 1; j <= Math.Min(i, k); j++) _binomial[i, j] = _binomial[i - 1, j - 1] + (j <= i - 1 ? _binomial[i - 1, j] : 0);
        }
        K = k;
        Count = _binomial[n, k];
        if (Count > 1 << 23) throw new ArgumentOutOfRangeException(nameof(k), $"C({n},{k}) = {Count} groups do not fit one address block.");
        First = first;
    }

    public int K { get; }
    public long Count { get; }
    public IpAddress First { get; }
    public IReadOnlyList<IpAddress> Members => _members;

    /// <summary>The rank of a subset given as member addresses (any order); false if one is not a member, repeats, or the size is not k.</summary>
    public bool TryRank(ReadOnlySpan<IpAddress> subset, out long rank)
    {
        rank = 0;
        if (subset.Length != K) return false;
        Span<int> positions = stackalloc int[K];
        for (int i = 0; i < K; i++)
        {
            if (!_position.TryGetValue(subset[i], out var p)) return false;
            // Insertion keeps positions sorted; k is small (a rendezvous group is ~3).
            int j = i;
            while (j > 0 && positions[j - 1] > p) { positions[j] = positions[j - 1]; j--; }
            if (j > 0 && positions[j - 1] == p) return false;
            positions[j] = p;
        }
        for (int i = 0; i < K; i++) rank += _binomial[positions[i], i + 1];
        return true;
    }

    public bool TryAddressOf(ReadOnlySpan<IpAddress> subset, out IpAddress address)
    {
        address = default;
        if (!TryRank(subset, out var rank)) return false;
        address = First.Add((ulong)rank);
        return true;
    }

    /// <summary>The subset numbered <paramref name="rank"/>, members in position order.</summary>
    public IpAddress[] SubsetAt(long rank)
    {
        if (rank < 0 || rank >= Count) throw new ArgumentOutOfRangeException(nameof(rank));
        var result = new IpAddress[K];
        int c = _members.Length;
        for (int i = K; i >= 1; i--)
        {
            // Largest c with C(c, i) <= rank.
            c--;
            while (_binomial[c, i] > rank) c--;
            result[i - 1] = _members[c];
            rank -= _binomial[c, i];
        }
        return result;
    }
}
