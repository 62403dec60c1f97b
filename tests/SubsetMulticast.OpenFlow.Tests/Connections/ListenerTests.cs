using System.Net;
using Microsoft.Extensions.Time.Testing;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.OpenFlow.Tests.Connections;

public class ListenerTests
{
    internal static OpenFlowListener StartListener(OpenFlowOptions? options = null, TimeProvider? time = null)
    {
        var l = new OpenFlowListener(new IPEndPoint(IPAddress.Loopback, 0), options ?? new OpenFlowOptions { RequestTimeout = TimeSpan.FromSeconds(10), HandshakeTimeout = TimeSpan.FromSeconds(20) }, time: time);
        l.Start();
        return l;
    }

    internal static async Task Until(Func<bool> condition, string what, int timeoutMs = 15000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        for (int i = 0; i < 10_000 && !condition(); i++)
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what}");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Connect_FakeSwitch_HandshakeYieldsFeaturesAndPorts()
    {
        await using var listener = StartListener();
        await using var sw = new FakeSwitch(0xAB, ports: 3);
        await sw.ConnectAsync(listener.LocalEndpoint);
        await Until(() => listener.TryGetSwitch("00000000000000ab", out _), "handshake");
        listener.TryGetSwitch("00000000000000ab", out var session);
        Assert.Equal(0xABUL, session.DatapathId);
        Assert.Equal([1u, 2u, 3u], session.Ports.Keys.Order());
        Assert.Equal("p2", session.Ports[2].Name);
        await session.BarrierAsync();
        var echo = await session.RequestAsync(new EchoRequest([7]));
        Assert.Equal(new byte[] { 7 }, ((EchoReply)echo).Data);
    }

    [Fact]
    public async Task Switch_SendsEchoRequest_ControllerRepliesWithSameXidAndData()
    {
        await using var listener = StartListener();
        await using var sw = new FakeSwitch(1);
        await sw.ConnectAsync(listener.LocalEndpoint);
        await Until(() => listener.TryGetSwitch(sw.SwitchId, out _), "handshake");
        await sw.SendAsync(new EchoRequest([1, 2]) { Xid = 0xBEEF });
        await Until(() => { lock (sw.Gate) return sw.Received.OfType<EchoReply>().Any(e => e.Xid == 0xBEEF && e.Data.SequenceEqual(new byte[] { 1, 2 })); }, "echo reply");
    }

    public static TheoryData<string, string> Hostile => new()
    {
        { "04000004 00000001", "less than 8" },                          // header length < 8
        { "04630008 00000001", "unexpected message type 99" },           // unknown type
        { "05020008 00000001", "not OpenFlow 1.3" },                     // wrong version
        // FLOW_MOD from a switch with a truncated OXM
        { "040e0048 00000006 5342000000000010 0000000000000000 00 00 0000 0000 03e8 ffffffff ffffffff ffffffff 0000 0000 0001 000c 80000a02 0800 8000 000000000000 000000000000", "malformed message" },
        // PORT_STATUS body too short
        { "040c0010 00000000 0000000000000000", "PORT_STATUS" },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task HostileMessage_ClosesOnlyThatSession_WithReason(string hex, string reason)
    {
        await using var listener = StartListener();
        await using var good = new FakeSwitch(1);
        await using var bad = new FakeSwitch(2);
        await good.ConnectAsync(listener.LocalEndpoint);
        await bad.ConnectAsync(listener.LocalEndpoint);
        await Until(() => listener.TryGetSwitch(good.SwitchId, out _) && listener.TryGetSwitch(bad.SwitchId, out _), "two handshakes");
        listener.TryGetSwitch(bad.SwitchId, out var badSession);
        listener.TryGetSwitch(good.SwitchId, out var goodSession);

        await bad.SendRawAsync(CodecTests_Hex(hex));
        var closed = await badSession.Closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Contains(reason, closed);
        await Until(() => { lock (bad.Gate) return bad.Received.OfType<ErrorMessage>().Any(e => e.ErrorType == OfpErrorNames.BadRequest); }, "BAD_REQUEST sent to the hostile switch");
        await Until(() => !listener.Switches.ContainsKey(bad.SwitchId), "removal");
        Assert.True(goodSession.IsReady);
        await goodSession.BarrierAsync();
    }

    [Fact]
    public async Task HugeMultipartReply_ClosesSession()
    {
        await using var listener = StartListener(new OpenFlowOptions { MaxMultipartBytes = 4096, RequestTimeout = TimeSpan.FromSeconds(20), HandshakeTimeout = TimeSpan.FromSeconds(20) });
        await using var sw = new FakeSwitch(5);
        await sw.ConnectAsync(listener.LocalEndpoint);
        await Until(() => listener.TryGetSwitch(sw.SwitchId, out _), "handshake");
        listener.TryGetSwitch(sw.SwitchId, out var session);
        // 3000 groups make a GROUP_DESC reply of ~120 KB: a REPLY_MORE chain of ~60 KB parts.
        sw.Mutate((groups, _) =>
        {
            for (uint i = 0; i < 3000; i++) groups[i] = new GroupMod(GroupModCommand.Add, GroupType.All, i, [new OfpBucket([new OutputAction(1)])]);
        });
        var request = session.MultipartAsync(new GroupDescRequest());
        await Assert.ThrowsAsync<OpenFlowSessionException>(() => request);
        Assert.Contains("exceeds 4096", await session.Closed.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task SilentSwitch_EchoTimeout_ClosesSession()
    {
        // The session's clock is fake: the test advances it a second at a time and waits only for the echo to cross
        // the socket, so the 5 s interval and 15 s timeout cost no wall-clock time and are checked to the second.
        var time = new FakeTimeProvider();
        var options = new OpenFlowOptions { EchoInterval = TimeSpan.FromSeconds(5), EchoTimeout = TimeSpan.FromSeconds(15), HandshakeTimeout = TimeSpan.FromSeconds(20) };
        await using var listener = StartListener(options, time);
        await using var sw = new FakeSwitch(6);
        var connected = new TaskCompletionSource<OpenFlowSession>(TaskCreationOptions.RunContinuationsAsynchronously);
        listener.SwitchConnected += s => { if (s.SwitchId == sw.SwitchId) connected.TrySetResult(s); };
        await sw.ConnectAsync(listener.LocalEndpoint);
        var session = await connected.Task.WaitAsync(TimeSpan.FromSeconds(30));
        sw.Mute = true;

        // Up to the first echo request: one interval (a step more if the session's delay began after our first step).
        var start = time.GetUtcNow();
        for (int i = 0; i < 10 && sw.CountReceived<EchoRequest>() == 0; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            if (time.GetUtcNow() - start < options.EchoInterval) continue;
            // Due now: wait (bounded) for the request to cross the socket.
            for (int j = 0; j < 250 && sw.CountReceived<EchoRequest>() == 0; j++) await Task.Delay(20);
        }
        Assert.Equal(1, sw.CountReceived<EchoRequest>());
        Assert.InRange((time.GetUtcNow() - start).TotalSeconds, options.EchoInterval.TotalSeconds, options.EchoInterval.TotalSeconds + 1);

        // Unanswered, it closes the session once the echo timeout has passed on the session's clock, not before.
        var asked = time.GetUtcNow();
        for (int i = 0; i < 30 && !session.Closed.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            // The timeout's timer is armed once the request is written: let the session's I/O run before the next step.
            await Task.WhenAny(session.Closed, Task.Delay(20));
        }
        Assert.True(session.Closed.IsCompleted, "the session outlived its echo timeout by 15 s of its clock");
        Assert.InRange((time.GetUtcNow() - asked).TotalSeconds, options.EchoTimeout.TotalSeconds, options.EchoTimeout.TotalSeconds + 2);
        Assert.Contains("no echo reply", await session.Closed);
    }

    [Fact]
    public async Task Reconnect_SameDatapath_ReplacesOldSession()
    {
        await using var listener = StartListener();
        await using var a = new FakeSwitch(9);
        await a.ConnectAsync(listener.LocalEndpoint);
        await Until(() => listener.TryGetSwitch(a.SwitchId, out _), "first");
        listener.TryGetSwitch(a.SwitchId, out var first);
        await using var b = new FakeSwitch(9);
        await b.ConnectAsync(listener.LocalEndpoint);
        Assert.Contains("replaced", await first.Closed.WaitAsync(TimeSpan.FromSeconds(5)));
        await Until(() => listener.TryGetSwitch(b.SwitchId, out var s) && !ReferenceEquals(s, first), "second");
    }

    private static byte[] CodecTests_Hex(string s) => Convert.FromHexString(s.Replace(" ", ""));
}
