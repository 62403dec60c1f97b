using SubsetMulticast.Controller.Dashboard;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;

namespace SubsetMulticast.Dashboard.Tests;

/// <summary>The change feed and the figures computed from it, without a browser.</summary>
public sealed class GroupChangeFeedTests
{
    private static RendezvousGroup Group(string id) => new(id, 1, IpAddress.Parse("239.1.0.1"), IpAddress.Parse("239.255.0.1"),
        [], [], [], [], TimeSpan.FromSeconds(5), DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(5), 1);

    [Fact]
    public async Task EveryReader_GetsEveryChange_InOrder()
    {
        var feed = new GroupChangeFeed();
        using var a = feed.Subscribe();
        using var b = feed.Subscribe();
        for (int i = 0; i < 100; i++) feed.Publish(new GroupChange(GroupChangeKind.Created, Group($"g{i}"), i, DateTimeOffset.UnixEpoch));
        foreach (var reader in new[] { a, b })
            for (int i = 0; i < 100; i++)
                Assert.Equal($"g{i}", (await reader.Reader.ReadAsync()).Group.Id);
        Assert.Equal(2, feed.ReaderCount);
    }

    [Fact]
    public async Task ASlowReader_IsCutOffWithOverflow_AndNeverSlowsThePublisher()
    {
        var feed = new GroupChangeFeed();
        using var slow = feed.Subscribe();
        using var keeping = feed.Subscribe();
        for (int i = 0; i < GroupChangeFeed.ReaderCapacity + 1; i++)
        {
            feed.Publish(new GroupChange(GroupChangeKind.Created, Group($"g{i}"), null, DateTimeOffset.UnixEpoch));
            if (i % 2 == 0) while (keeping.Reader.TryRead(out _)) { } // this one keeps up
        }
        Assert.Equal(1, feed.ReaderCount);
        // The slow one reads what it had, then learns it was cut off (the dashboard starts again from a snapshot).
        int read = 0;
        while (slow.Reader.TryRead(out _)) read++;
        Assert.Equal(GroupChangeFeed.ReaderCapacity, read);
        await Assert.ThrowsAsync<FeedOverflowException>(async () => await slow.Reader.WaitToReadAsync());
    }

    [Fact]
    public void Figures_CountSetupsInTheWindow_WithNearestRankPercentiles_AndForgetOldOnes()
    {
        var time = new SteppedTime();
        var feed = new GroupChangeFeed();
        var figures = new SetupFigures(feed, time);
        Assert.Null(figures.Read(0).SetupP99Micros);
        for (int i = 1; i <= 200; i++) feed.Publish(new GroupChange(GroupChangeKind.Created, Group($"g{i}"), i * 10, DateTimeOffset.UnixEpoch));
        feed.Publish(new GroupChange(GroupChangeKind.Released, Group("g1"), null, DateTimeOffset.UnixEpoch)); // no setup time: not counted
        var f = figures.Read(199);
        Assert.Equal(199, f.GroupsLive);
        Assert.Equal(200, f.SetupsInWindow);
        Assert.Equal(20.0, f.SetupsPerSecond);
        Assert.Equal(1980, f.SetupP99Micros); // rank ceil(0.99 × 200) = 198 → 1,980 µs
        Assert.Equal(1000, f.SetupP50Micros);
        Assert.False(figures.TryGetSetupMicros("g1", out _));
        Assert.True(figures.TryGetSetupMicros("g2", out var m) && m == 20);

        time.Advance(SetupFigures.Window + TimeSpan.FromMilliseconds(1));
        feed.Publish(new GroupChange(GroupChangeKind.Refreshed, Group("g2"), 7, DateTimeOffset.UnixEpoch));
        f = figures.Read(199);
        Assert.Equal(1, f.SetupsInWindow);
        Assert.Equal(7, f.SetupP99Micros);
    }

    private sealed class SteppedTime : TimeProvider
    {
        private long _ticks = 1;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => _ticks;
        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
