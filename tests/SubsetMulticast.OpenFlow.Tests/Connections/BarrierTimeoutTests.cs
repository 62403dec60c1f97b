using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Microsoft.Extensions.Time.Testing;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.OpenFlow.Tests.Connections;

/// <summary>
/// The channel's one barrier timer (not one per batch): every batch still times out at its own deadline, whichever
/// batch armed the timer, and a batch confirmed in time is never timed out by a timer armed before it.
/// </summary>
public class BarrierTimeoutTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task EachBatch_TimesOutAtItsOwnDeadline()
    {
        await using var channel = Channel.Open();
        var first = channel.Session.Submit([new EchoRequest([])]);
        await first.Written.WaitAsync(TimeSpan.FromSeconds(10));
        channel.Time.Advance(TimeSpan.FromSeconds(3));
        var second = channel.Session.Submit([new EchoRequest([])]);
        await second.Written.WaitAsync(TimeSpan.FromSeconds(10));

        channel.Time.Advance(TimeSpan.FromSeconds(2)); // the first batch's deadline; the second's is 3 s later
        await Assert.ThrowsAsync<TimeoutException>(() => first.Confirmed.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(second.Confirmed.IsCompleted);

        channel.Time.Advance(TimeSpan.FromSeconds(2.9));
        Assert.False(second.Confirmed.IsCompleted);
        channel.Time.Advance(TimeSpan.FromSeconds(0.2));
        await Assert.ThrowsAsync<TimeoutException>(() => second.Confirmed.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task ConfirmedBatch_IsNotTimedOut_ByTheTimerItLeftArmed()
    {
        await using var channel = Channel.Open();
        var first = channel.Session.Submit([new EchoRequest([])]);
        await first.Written.WaitAsync(TimeSpan.FromSeconds(10));
        await channel.AnswerBarriersAsync(1);
        Assert.Empty(await first.Confirmed.WaitAsync(TimeSpan.FromSeconds(10)));

        // The timer is still armed for the first batch's deadline; the second is written before it fires.
        channel.Time.Advance(TimeSpan.FromSeconds(4));
        var second = channel.Session.Submit([new EchoRequest([])]);
        await second.Written.WaitAsync(TimeSpan.FromSeconds(10));
        channel.Time.Advance(TimeSpan.FromSeconds(1)); // the first deadline passes: nothing is overdue
        Assert.False(second.Confirmed.IsCompleted);
        await channel.AnswerBarriersAsync(1);
        Assert.Empty(await second.Confirmed.WaitAsync(TimeSpan.FromSeconds(10)));

        channel.Time.Advance(Timeout * 2);
        Assert.True(second.Confirmed.IsCompletedSuccessfully);
    }

    /// <summary>A session over in-memory pipes with its read loop running; the test plays the switch's side by hand.</summary>
    private sealed class Channel : IAsyncDisposable
    {
        private readonly Pipe _toSwitch = new(), _toController = new();
        private readonly Task<string> _run;

        private Channel()
        {
            Time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
            // No handshake is answered: a long handshake timeout keeps the session open while time is advanced.
            var options = new OpenFlowOptions { RequestTimeout = Timeout, HandshakeTimeout = TimeSpan.FromDays(1), EchoInterval = TimeSpan.FromDays(1), MaxBatchesInFlight = 0 };
            Session = new OpenFlowSession(new Duplex(_toController.Reader, _toSwitch.Writer), "test", options, time: Time);
            _run = Session.RunAsync();
        }

        public FakeTimeProvider Time { get; }
        public OpenFlowSession Session { get; }

        public static Channel Open() => new();

        /// <summary>Reads what the controller wrote until <paramref name="count"/> BARRIER_REQUESTs, answering each with its BARRIER_REPLY.</summary>
        public async Task AnswerBarriersAsync(int count)
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (count > 0)
            {
                var read = await _toSwitch.Reader.ReadAsync(limit.Token);
                var buffer = read.Buffer;
                while (buffer.Length >= Ofp.HeaderLength && count > 0)
                {
                    var header = new byte[Ofp.HeaderLength];
                    buffer.Slice(0, Ofp.HeaderLength).CopyTo(header);
                    int length = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2));
                    if (buffer.Length < length) break;
                    if ((OfpType)header[1] == OfpType.BarrierRequest)
                    {
                        var reply = new byte[Ofp.HeaderLength];
                        new OfpHeader(Ofp.Version13, OfpType.BarrierReply, Ofp.HeaderLength, BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(4))).WriteTo(reply);
                        await _toController.Writer.WriteAsync(reply, limit.Token);
                        count--;
                    }
                    buffer = buffer.Slice(length);
                }
                _toSwitch.Reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Session.DisposeAsync();
            await _toController.Writer.CompleteAsync();
            await _run.WaitAsync(TimeSpan.FromSeconds(10));
        }

        private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
        {
            public PipeReader Input { get; } = input;
            public PipeWriter Output { get; } = output;
        }
    }
}
