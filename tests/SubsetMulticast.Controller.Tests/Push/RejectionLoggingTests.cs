using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using SubsetMulticast.Controller.Observability;
using SubsetMulticast.Controller.Tests.Support;
using SubsetMulticast.Push;

namespace SubsetMulticast.Controller.Tests.Push;

/// <summary>Rejections a peer can cause at will are logged at a bounded rate; every one is still counted.</summary>
public sealed class RejectionLoggingTests
{
    [Fact]
    public async Task TwoThousandGarbageDatagrams_AtMostTenWarnings_AllCounted()
    {
        var logs = new CapturedLogs();
        await using var c = await RunningController.StartAsync(logs: logs);
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        // In batches of 100, each read before the next is sent: a socket buffer overrun would lose datagrams, not test the log.
        // (No ack comes back for a datagram shorter than an ack; the endpoint's own count is the signal, waited on with a bound.)
        for (int batch = 0; batch < 20; batch++)
        {
            for (int i = 0; i < 100; i++) await udp.SendAsync(new byte[] { 0xBA, 0xD0, (byte)i, (byte)batch }, c.Host.PushEndPoint!);
            for (int i = 0; i < 400 && c.Host.PushStats!.Received < (batch + 1) * 100; i++) await Task.Delay(10);
        }

        Assert.Equal(2000, c.Host.PushStats!.Received);
        Assert.Equal(2000, c.Host.PushStats.Count(PushVerdict.Truncated));
        var warnings = logs.Lines.Where(l => l.Level == LogLevel.Warning).ToList();
        Assert.Equal(10, warnings.Count(l => l.EventId == 303));   // the fake clock does not move: one window
        Assert.True(warnings.Count <= 11, string.Join("\n", warnings.Select(w => w.Message)));
    }

    [Fact]
    public void LogRateLimit_BurstPerWindow_ThenReportsWhatItSuppressed()
    {
        var time = new FakeTimeProvider();
        var limit = new LogRateLimit(time, burst: 3, window: TimeSpan.FromSeconds(10));
        for (int i = 0; i < 3; i++)
        {
            Assert.True(limit.TryAcquire(out long s));
            Assert.Equal(0, s);
        }
        for (int i = 0; i < 5; i++) Assert.False(limit.TryAcquire(out _));
        time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.False(limit.TryAcquire(out _));
        time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.True(limit.TryAcquire(out long suppressed));
        Assert.Equal(6, suppressed);
        Assert.True(limit.TryAcquire(out suppressed));
        Assert.Equal(0, suppressed);
    }
}
