using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Persistent;

namespace SubsetMulticast.Core.Tests.Persistent;

public class PersistentGroupSetTests
{
    private static IpAddress[] Members(int n) => [.. Enumerable.Range(1, n).Select(i => IpAddress.Parse($"10.0.0.{i}"))];

    [Theory]
    [InlineData(20, 3, 1140)]
    [InlineData(12, 3, 220)]
    [InlineData(12, 1, 12)]
    [InlineData(8, 8, 1)]
    public void EverySubset_HasOneAddress_AndTheAddressesAreConsecutive(int n, int k, int expected)
    {
        var first = IpAddress.Parse("239.254.0.0");
        var set = new PersistentGroupSet(Members(n), k, first);
        Assert.Equal(expected, set.Count);
        var seen = new bool[expected];
        foreach (var subset in Combinations(Members(n), k))
        {
            Assert.True(set.TryAddressOf(subset, out var address));
            long offset = (long)address.Subtract(first);
            Assert.InRange(offset, 0, expected - 1);
            Assert.False(seen[offset], $"two subsets on {address}");
            seen[offset] = true;
            // The inverse gives the subset back, in position order.
            Assert.Equal(subset, set.SubsetAt(offset));
        }
        Assert.All(seen, Assert.True);
    }

    [Fact]
    public void RankDoesNotDependOnOrder()
    {
        var m = Members(20);
        var set = new PersistentGroupSet(m, 3, IpAddress.Parse("239.254.0.0"));
        Assert.True(set.TryRank([m[17], m[2], m[9]], out var a));
        Assert.True(set.TryRank([m[2], m[9], m[17]], out var b));
        Assert.Equal(a, b);
        // Colex: {0,1,2} is first, {17,18,19} is last.
        Assert.True(set.TryRank([m[0], m[1], m[2]], out var lo));
        Assert.True(set.TryRank([m[19], m[18], m[17]], out var hi));
        Assert.Equal(0, lo);
        Assert.Equal(1139, hi);
    }

    [Fact]
    public void NotASubset_IsRefused()
    {
        var m = Members(20);
        var set = new PersistentGroupSet(m, 3, IpAddress.Parse("239.254.0.0"));
        Assert.False(set.TryRank([m[0], m[1]], out _));                              // wrong size
        Assert.False(set.TryRank([m[0], m[1], m[1]], out _));                        // repeated
        Assert.False(set.TryRank([m[0], m[1], IpAddress.Parse("10.9.9.9")], out _)); // outsider
        Assert.Throws<ArgumentOutOfRangeException>(() => set.SubsetAt(1140));
        Assert.Throws<ArgumentException>(() => new PersistentGroupSet([m[0], m[0]], 1, IpAddress.Parse("239.254.0.0")));
    }

    private static IEnumerable<IpAddress[]> Combinations(IpAddress[] items, int k)
    {
        var idx = Enumerable.Range(0, k).ToArray();
        while (true)
        {
            yield return [.. idx.Select(i => items[i])];
            int j = k - 1;
            while (j >= 0 && idx[j] == items.Length - k + j) j--;
            if (j < 0) yield break;
            idx[j]++;
            for (int t = j + 1; t < k; t++) idx[t] = idx[t - 1] + 1;
        }
    }
}
