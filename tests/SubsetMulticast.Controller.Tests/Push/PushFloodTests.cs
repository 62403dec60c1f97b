using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Controller.Push;
using SubsetMulticast.Controller.Tests.Support;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Push;

namespace SubsetMulticast.Controller.Tests.Push;

/// <summary>
/// The push endpoint under a flood of datagrams that fail verification — random bytes, and a valid signed instruction
/// (never sent itself) mutated: bits flipped, bytes replaced, cut short, extended, signed under an unknown key id, or
/// signed with sequence 0. None may be answered (no reflection), the log stays bounded, nothing changes.
/// </summary>
public sealed class PushFloodTests
{
    private const int Total = 100_000, Batch = 100;

    [Fact]
    public async Task HundredThousandUnverifiedDatagrams_NoAnswer_BoundedLog_NothingChanged()
    {
        var logs = new CapturedLogs();
        await using var c = await RunningController.StartAsync(logs: logs);
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var keys = new PushKeyRing().Add(1, 1, RunningController.Key);
        var unknownKey = new PushKeyRing().Add(1, 7, RunningController.Key);
        var members = new[] { IpAddress.Parse("10.0.1.1"), IpAddress.Parse("10.0.2.1") };
        var rng = new Random(13);
        var template = new byte[PushInstruction.LengthFor(false, members.Length)];
        var kinds = new int[7];

        for (int sent = 0; sent < Total; sent += Batch)
        {
            for (int i = 0; i < Batch; i++)
            {
                // A fresh valid instruction each time (fresh sequence), so mutations start from something that would verify.
                PushInstructionWriter.Write(template, PushOpcode.PushMembership, 1, 1, 77, (ulong)(sent + i + 1), 5000,
                    IpAddress.Parse(TestFabric.Reference), IpAddress.Parse("239.255.0.9"), members, keys);
                int kind = rng.Next(kinds.Length);
                kinds[kind]++;
                byte[] d = kind switch
                {
                    0 => RandomBytes(rng, rng.Next(0, 200)),
                    1 => Flip(rng, template, rng.Next(1, 4)),
                    2 => Replace(rng, template),
                    3 => template[..rng.Next(0, template.Length)],
                    4 => [.. template, .. RandomBytes(rng, rng.Next(1, 40))],
                    5 => Signed(unknownKey, 7, (ulong)(sent + i + 1), members),
                    _ => Signed(keys, 1, 0, members), // a good MAC on sequence 0: never fresh
                };
                await udp.SendAsync(d, c.Host.PushEndPoint!);
            }
            // Each batch is taken in before the next is sent: an overrun socket buffer would drop datagrams, not test the endpoint.
            for (int w = 0; w < 2000 && c.Host.PushStats!.Received < sent + Batch; w++) await Task.Delay(5);
            Assert.Equal(sent + Batch, c.Host.PushStats!.Received);
            if ((sent + Batch) % 10_000 == 0) c.Time.Advance(TimeSpan.FromSeconds(10)); // ten rate-limit windows in all
        }

        // A verified instruction that is refused (release of no group) is answered; had any earlier datagram been, its ack would come first.
        var sentinel = Signed(keys, 1, Total + 10, [], PushOpcode.Release);
        await udp.SendAsync(sentinel, c.Host.PushEndPoint!);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var reply = await udp.ReceiveAsync(timeout.Token);
        Assert.True(PushAck.TryRead(reply.Buffer, out var ack));
        Assert.Equal((PushVerdict.Accepted, PushOutcome.Refused, (ulong)(Total + 10)), (ack.Verdict, ack.Outcome, ack.Sequence));
        Assert.Equal(0, udp.Available);

        var stats = c.Host.PushStats!;
        Assert.Equal(Total + 1, stats.Received);
        Assert.Equal(1, stats.Count(PushVerdict.Accepted));
        Assert.Equal(0, stats.Applied);
        Assert.All(kinds, k => Assert.True(k > Total / 10, $"every kind of datagram was sent often: {string.Join(',', kinds)}"));
        Assert.True(stats.Count(PushVerdict.BadMac) > 0 && stats.Count(PushVerdict.UnknownKey) > 0 && stats.Count(PushVerdict.Replayed) > 0
            && stats.Count(PushVerdict.Truncated) + stats.Count(PushVerdict.Malformed) > 0);

        // At most 10 rejection lines per 10 s window, plus one "n more" line per window after the first.
        var warnings = logs.Lines.Where(l => l.Level >= LogLevel.Warning).ToList();
        Assert.Equal(100, warnings.Count(l => l.EventId == 303));
        Assert.True(warnings.Count <= 110, $"{warnings.Count} warnings");

        Assert.Empty(await c.GroupsAsync());
        Assert.Equal(0, c.Southbound.Transactions);
        Assert.Empty(c.Southbound.Rules);
    }

    private static byte[] RandomBytes(Random rng, int n)
    {
        var b = new byte[n];
        rng.NextBytes(b);
        return b;
    }

    private static byte[] Flip(Random rng, byte[] template, int bits)
    {
        var d = (byte[])template.Clone();
        for (int i = 0; i < bits; i++) d[rng.Next(d.Length)] ^= (byte)(1 << rng.Next(8));
        if (d.AsSpan().SequenceEqual(template)) d[0] ^= 1; // two flips of one bit undo each other
        return d;
    }

    private static byte[] Replace(Random rng, byte[] template)
    {
        var d = (byte[])template.Clone();
        int at = rng.Next(d.Length);
        d[at] = (byte)(d[at] + 1 + rng.Next(255));
        return d;
    }

    private static byte[] Signed(PushKeyRing keys, ushort keyId, ulong sequence, IpAddress[] members, PushOpcode opcode = PushOpcode.PushMembership)
    {
        var d = new byte[PushInstruction.LengthFor(false, members.Length)];
        PushInstructionWriter.Write(d, opcode, 1, keyId, 77, sequence, 5000, IpAddress.Parse(TestFabric.Reference), IpAddress.Parse("239.255.0.9"), members, keys);
        return d;
    }
}
