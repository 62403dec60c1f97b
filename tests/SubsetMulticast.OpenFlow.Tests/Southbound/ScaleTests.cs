using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Agent;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.OpenFlow.Southbound;
using Xunit.Abstractions;
using static SubsetMulticast.OpenFlow.Tests.Connections.ListenerTests;

namespace SubsetMulticast.OpenFlow.Tests.Southbound;

/// <summary>100 OpenFlow switches over TCP (the test's fake switch; the lead's emulator will replace it).</summary>
public class ScaleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Apply_HundredSwitches_OneTransactionThenRollbackOnOneRefusal()
    {
        await using var listener = StartListener();
        using var sb = new OpenFlowSouthbound(listener);
        var fakes = Enumerable.Range(1, 100).Select(i => new FakeSwitch((ulong)(0x1000 + i))).ToList();
        try
        {
            foreach (var f in fakes) await f.ConnectAsync(listener.LocalEndpoint);
            await Until(() => fakes.All(f => listener.TryGetSwitch(f.SwitchId, out _)), "100 handshakes", 30_000);
            var vlan = new VlanId(3);
            List<SwitchChange> Plan(IpAddress g, bool install) => fakes.Select((f, i) =>
            {
                var rule = new GroupRule(vlan, g, [1, (uint)(2 + i % 3)]);
                return install ? new SwitchChange(f.SwitchId, null, rule) : new SwitchChange(f.SwitchId, rule, null);
            }).ToList();

            var g0 = IpAddress.Parse("239.9.0.1");
            Assert.True((await sb.ApplyAsync(Plan(g0, true), default)).Succeeded);
            uint gid = sb.GroupIdFor(vlan, g0);
            Assert.All(fakes, f => { lock (f.Gate) Assert.True(f.Groups.ContainsKey(gid) && f.Flows.Count == 1); });

            // Switch 57 refuses: the transaction fails naming it, and all 100 are back to the previous state.
            var g1 = IpAddress.Parse("239.9.0.2");
            fakes[56].FailGroup = (sb.GroupIdFor(vlan, g1), 3);
            var failed = await sb.ApplyAsync(Plan(g1, true), default);
            Assert.False(failed.Succeeded);
            Assert.Equal(fakes[56].SwitchId, Assert.Single(failed.Failures).SwitchId);
            uint gid1 = sb.GroupIdFor(vlan, g1);
            Assert.All(fakes, f => { lock (f.Gate) Assert.False(f.Groups.ContainsKey(gid1)); });
            fakes[56].FailGroup = null;

            // Cycles: create + release on 100 switches.
            var lat = new List<double>();
            var total = Stopwatch.StartNew();
            for (int i = 0; i < 50 && total.Elapsed < TimeSpan.FromSeconds(60); i++)
            {
                var g = IpAddress.FromV4(0xEF0A0000u + (uint)i);
                var sw = Stopwatch.StartNew();
                Assert.True((await sb.ApplyAsync(Plan(g, true), default)).Succeeded);
                lat.Add(sw.Elapsed.TotalMilliseconds);
                Assert.True((await sb.ApplyAsync(Plan(g, false), default)).Succeeded);
            }
            lat.Sort();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"BENCH {DateTime.UtcNow:yyyy-MM-dd} {Environment.MachineName} {Environment.ProcessorCount} cores: 100 fake OpenFlow switches over TCP; install median {lat[lat.Count / 2]:0.00} ms max {lat[^1]:0.00} ms; {lat.Count / total.Elapsed.TotalSeconds:0.0} create+release cycles/s"));
            Assert.True((await sb.ApplyAsync(Plan(g0, false), default)).Succeeded);
            Assert.All(fakes, f => { lock (f.Gate) Assert.Empty(f.Groups); });
        }
        finally { foreach (var f in fakes) await f.DisposeAsync(); }
    }

    /// <summary>
    /// Pipelining, shown by order rather than by a stopwatch: every switch's barrier reply is held on a gate,
    /// and the test waits until all 20 switches have received their barrier request (and each has its reply
    /// waiting at the gate) while none has been answered. A southbound that waited for one switch's barrier
    /// before writing the next could never get a second barrier out, so the wait would time out. No clock is
    /// compared, so a scheduling stall on a loaded machine only makes the test slower.
    /// </summary>
    [Fact]
    public async Task Apply_TwentySlowSwitches_AllBarriersAreOutBeforeAnyIsAnswered()
    {
        // Long request timeout: the barriers are held on purpose while the test waits for all 20 to arrive.
        await using var listener = StartListener(new OpenFlowOptions { RequestTimeout = TimeSpan.FromSeconds(60), HandshakeTimeout = TimeSpan.FromSeconds(20) });
        using var sb = new OpenFlowSouthbound(listener);
        var fakes = Enumerable.Range(1, 20).Select(i => new FakeSwitch((ulong)(0x2000 + i))).ToList();
        var gate = new BarrierReplyGate();
        var clients = new List<TcpClient>();
        var received = new ConcurrentDictionary<string, int>(); // barrier requests per switch, once the gate is closed
        foreach (var f in fakes)
            f.Agent.MessageReceived += m => { if (m is BarrierRequest && gate.IsClosed) received.AddOrUpdate(f.SwitchId, 1, (_, n) => n + 1); };
        var reconciled = fakes.ToDictionary(f => f.SwitchId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        sb.Reconciled += (id, _, _) => { if (reconciled.TryGetValue(id, out var t)) t.TrySetResult(); };
        try
        {
            foreach (var f in fakes) clients.Add(await ConnectGatedAsync(f.Agent, listener.LocalEndpoint, gate));
            // The connect-time reconciliations must be over before the gate closes, so that every barrier seen is the transaction's.
            try { await Task.WhenAll(reconciled.Values.Select(t => t.Task)).WaitAsync(TimeSpan.FromSeconds(30)); }
            catch (TimeoutException) { Assert.Fail($"timed out waiting for connect-time reconciliation ({reconciled.Values.Count(t => t.Task.IsCompleted)} of 20 done)"); }

            gate.Close();
            var rule = new GroupRule(new VlanId(0), IpAddress.Parse("239.9.9.9"), [1]);
            var apply = sb.ApplyAsync(fakes.Select(f => new SwitchChange(f.SwitchId, null, rule)).ToList(), default).AsTask();
            await Until(() => (received.Count == 20 && gate.Held == 20) || apply.IsCompleted,
                "every switch to receive its barrier while none is answered", 30_000);
            Assert.False(apply.IsCompleted, "the transaction finished while every barrier reply was held");
            Assert.Equal(20, received.Count);
            Assert.Equal(0, gate.Passed);
            output.WriteLine($"all 20 barriers received, {gate.Held} replies held, {gate.Passed} answered");

            gate.Open();
            var result = await apply.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(result.Succeeded, string.Join(", ", result.Failures));
            Assert.Equal(20, gate.Passed);
            Assert.All(received.Values, n => Assert.Equal(1, n));
        }
        finally
        {
            gate.Open(); // a held reply would keep an agent's loop, and so its DisposeAsync, waiting
            foreach (var f in fakes) await f.DisposeAsync();
            foreach (var c in clients) c.Dispose();
        }
    }

    /// <summary>Connects <paramref name="agent"/> as <see cref="OpenFlowSwitchAgent.ConnectAsync"/> does, its writes going through <paramref name="gate"/>.</summary>
    private static async Task<TcpClient> ConnectGatedAsync(OpenFlowSwitchAgent agent, IPEndPoint controller, BarrierReplyGate gate)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            await client.ConnectAsync(controller);
            var stream = client.GetStream();
            await agent.StartAsync(new DuplexPipe(PipeReader.Create(stream), new GatedWriter(PipeWriter.Create(stream), gate)));
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>While closed, holds every BARRIER_REPLY an agent flushes (other messages pass).</summary>
    private sealed class BarrierReplyGate
    {
        private volatile TaskCompletionSource? _closed;
        private int _held, _passed;

        public bool IsClosed => _closed is not null;
        /// <summary>Barrier replies that reached the gate while it was closed.</summary>
        public int Held => Volatile.Read(ref _held);
        /// <summary>Barrier replies let through to the controller since the gate was first closed.</summary>
        public int Passed => Volatile.Read(ref _passed);

        public void Close() => _closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        public void Open() => Interlocked.Exchange(ref _closed, null)?.TrySetResult();

        public async ValueTask PassBarrierReplyAsync(CancellationToken ct)
        {
            if (_closed is { } closed)
            {
                Interlocked.Increment(ref _held);
                await closed.Task.WaitAsync(ct).ConfigureAwait(false);
                Interlocked.Increment(ref _passed);
            }
            else if (Held > 0) Interlocked.Increment(ref _passed);
        }
    }

    /// <summary>
    /// The agent writes one message per GetSpan/Advance/FlushAsync; the stream writer sends nothing before
    /// the flush, so holding the flush of a BARRIER_REPLY holds the reply (the agent's read loop waits meanwhile).
    /// </summary>
    private sealed class GatedWriter(PipeWriter inner, BarrierReplyGate gate) : PipeWriter
    {
        private Memory<byte> _last;
        private bool _barrierReply;

        public override Memory<byte> GetMemory(int sizeHint = 0) => _last = inner.GetMemory(sizeHint);
        public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public override void Advance(int bytes)
        {
            // OpenFlow header: version, type, length, xid.
            if (bytes >= 2 && _last.Span[1] == (byte)OfpType.BarrierReply) _barrierReply = true;
            _last = default;
            inner.Advance(bytes);
        }

        public override async ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            if (_barrierReply)
            {
                _barrierReply = false;
                await gate.PassBarrierReplyAsync(cancellationToken).ConfigureAwait(false);
            }
            return await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();
        public override void Complete(Exception? exception = null) => inner.Complete(exception);
        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }
}
