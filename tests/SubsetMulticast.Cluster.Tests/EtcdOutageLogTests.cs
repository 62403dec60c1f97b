using Microsoft.Extensions.Time.Testing;
using SubsetMulticast.Cluster.Etcd;
using Say = SubsetMulticast.Cluster.Etcd.EtcdOutageLog.Say;

namespace SubsetMulticast.Cluster.Tests;

/// <summary>What the store and a cluster node say while etcd is away: the first failure, one line per interval with a count, one when it is back.</summary>
public class EtcdOutageLogTests
{
    [Fact]
    public void FirstFailureIsSaid_ThenOneLinePerInterval_WithTheFailuresSinceTheLast_ThenOneWhenBack()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-02T12:00:00Z"));
        var log = new EtcdOutageLog(time);
        Assert.False(log.Answered(out _, out _)); // no outage, nothing to say

        Assert.Equal(Say.First, log.Failed().Say);
        for (int i = 0; i < 49; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(200)); // a keep-alive retrying every 200 ms: 9.8 s of quiet
            Assert.Equal(Say.Quiet, log.Failed().Say);
        }
        time.Advance(TimeSpan.FromMilliseconds(200));
        var still = log.Failed();
        Assert.Equal(new EtcdOutageLog.Failure(Say.Still, 10, 50), still);
        time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(Say.Quiet, log.Failed().Say);
        time.Advance(TimeSpan.FromSeconds(7));
        Assert.Equal(new EtcdOutageLog.Failure(Say.Still, 20, 2), log.Failed());

        time.Advance(TimeSpan.FromSeconds(1.5));
        Assert.True(log.Answered(out double seconds, out int failures));
        Assert.Equal(21.5, seconds);
        Assert.Equal(53, failures);
        Assert.False(log.Answered(out _, out _)); // said once

        // The next outage starts afresh.
        Assert.Equal(Say.First, log.Failed().Say);
        time.Advance(EtcdOutageLog.Interval);
        Assert.Equal(new EtcdOutageLog.Failure(Say.Still, 10, 1), log.Failed());
    }
}
