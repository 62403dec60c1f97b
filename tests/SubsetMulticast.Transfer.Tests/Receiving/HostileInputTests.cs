using System.Collections.Concurrent;
using System.Security.Cryptography;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Transfer.Receiving;
using SubsetMulticast.Transfer.Storage;
using SubsetMulticast.Transfer.Transport;
using SubsetMulticast.Transfer.Wire;

namespace SubsetMulticast.Transfer.Tests.Receiving;

/// <summary>
/// Bad input at the receiver: forged, truncated, replayed, out-of-range datagrams and a payload whose hash does
/// not match are dropped with a counted reason, no exception escapes, and nothing is written.
/// </summary>
public sealed class HostileInputTests : IAsyncLifetime
{
    private static readonly IpAddress Server = IpAddress.Parse("10.0.0.2");
    private static readonly IpAddress Client = IpAddress.Parse("10.0.0.9");
    private static readonly IpAddress Group = IpAddress.Parse("239.255.0.7");
    private readonly RecordingTransport _transport = new(Server);
    private readonly MemoryChunkStore _store = new();
    private ChunkServer _server = null!;

    public Task InitializeAsync()
    {
        _server = new ChunkServer(_transport, _store);
        _server.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private sealed class RecordingTransport(IpAddress address) : IDatagramTransport
    {
        public ConcurrentQueue<(IpAddress To, byte[] Datagram)> Sent { get; } = new();
        public IpAddress Address => address;
        public ushort Port => 9480;
        public void Start(IDatagramSink sink) { }
        public void Send(IpAddress destination, ushort port, ReadOnlySpan<byte> datagram) => Sent.Enqueue((destination, datagram.ToArray()));
        public void JoinReference(IpAddress group) { }
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private void Deliver(byte[] d, IpAddress? from = null, IpAddress? to = null) => _server.OnDatagram(from ?? Client, 40000, to ?? Group, d);

    private static byte[] Rendezvous(ulong tx, byte[] chunk, byte[]? key = null, IpAddress? member = null)
    {
        var id = SHA256.HashData(chunk);
        key ??= [];
        var d = new byte[RendezvousMessage.GetLength(key.Length, 1)];
        RendezvousMessage.Write(d, tx, id, chunk.Length, Group, 100, 0, 0, key, [member ?? Server]);
        return d;
    }

    private static byte[] Data(ulong tx, uint index, ReadOnlySpan<byte> payload)
    {
        var d = new byte[DataMessage.HeaderLength + payload.Length];
        DataMessage.WriteHeader(d, MessageType.Data, tx, index);
        payload.CopyTo(d.AsSpan(DataMessage.HeaderLength));
        return d;
    }

    private async Task<TargetOutcome> OutcomeAsync(ulong tx)
    {
        for (int i = 0; i < 500; i++)
        {
            foreach (var (_, d) in _transport.Sent)
                if (ChunkMessage.TryRead(d, out var m) == ReadStatus.Ok && m.Type == MessageType.Outcome && m.Transaction == tx) return (TargetOutcome)m.Code;
            await Task.Delay(10);
        }
        return TargetOutcome.Pending;
    }

    [Fact]
    public void ForgedData_ForNoTransaction_CountedUnknown()
    {
        Deliver(Data(77, 0, new byte[100]));
        Assert.Equal(1, _server.Counters.Drops(DropReason.UnknownTransaction));
        Assert.Empty(_store.Ids);
    }

    [Fact]
    public void Truncated_OutOfRange_WrongGroup_WrongSource_Duplicate_AreCountedDrops()
    {
        var chunk = RandomNumberGenerator.GetBytes(250);
        Deliver(Rendezvous(5, chunk), to: Server);
        Deliver(Data(5, 0, chunk.AsSpan(0, 100))[..10]);                               // shorter than the header
        Deliver(Data(5, 3, new byte[100]));                                           // index past the chunk
        Deliver(Data(5, 0, chunk.AsSpan(0, 60)));                                     // payload too short for its index
        Deliver(Data(5, 0, chunk.AsSpan(0, 100)), to: IpAddress.Parse("239.255.0.8")); // another group
        Deliver(Data(5, 0, chunk.AsSpan(0, 100)), from: IpAddress.Parse("10.0.0.66")); // not the client
        Deliver(Data(5, 0, chunk.AsSpan(0, 100)));
        Deliver(Data(5, 0, chunk.AsSpan(0, 100)));                                    // duplicate
        var c = _server.Counters;
        Assert.Equal(1, c.Drops(DropReason.Truncated));
        Assert.Equal(2, c.Drops(DropReason.OutOfRange));
        Assert.Equal(1, c.Drops(DropReason.WrongGroup));
        Assert.Equal(1, c.Drops(DropReason.WrongSource));
        Assert.Equal(1, c.Drops(DropReason.Duplicate));
        Assert.Empty(_store.Ids);
    }

    [Fact]
    public async Task HashMismatch_NothingWritten_ChunkForgottenAndReceivedAgain()
    {
        var chunk = RandomNumberGenerator.GetBytes(150);
        Deliver(Rendezvous(6, chunk), to: Server);
        var forged = (byte[])chunk.Clone();
        forged[120] ^= 1;
        Deliver(Data(6, 0, forged.AsSpan(0, 100)));
        Deliver(Data(6, 1, forged.AsSpan(100, 50)));
        for (int i = 0; i < 500 && _server.Counters.Drops(DropReason.HashMismatch) == 0; i++) await Task.Delay(10);
        Assert.Equal(1, _server.Counters.Drops(DropReason.HashMismatch));
        Assert.Empty(_store.Ids);
        // The next poll's ack lists nothing held: the client sends the chunk again, and the true bytes are stored.
        var poll = new byte[PollMessage.Length];
        PollMessage.Write(poll, 6, 1);
        (int Received, int Ranges)? ack = null;
        for (int i = 0; i < 500 && ack is null; i++)
        {
            Deliver(poll);
            ack = ReceivingAck(_transport.Sent.LastOrDefault().Datagram);
            if (ack is null) await Task.Delay(10);
        }
        Assert.Equal((0, 0), ack);
        Deliver(Data(6, 0, chunk.AsSpan(0, 100)));
        Deliver(Data(6, 1, chunk.AsSpan(100, 50)));
        Assert.Equal(TargetOutcome.Stored, await OutcomeAsync(6));
        Assert.Equal(chunk, _store.Read(ChunkId.Of(chunk)));
    }

    private static (int, int)? ReceivingAck(byte[]? d) =>
        d is not null && AckMessage.TryRead(d, out var a) == ReadStatus.Ok && a.Round == 1 && a.State == AckState.Receiving ? (a.Received, a.RangeCount) : null;

    [Fact]
    public async Task HashMismatch_RetriesSpent_OutcomeSaysSo_NothingWritten()
    {
        var transport = new RecordingTransport(Server);
        var store = new MemoryChunkStore();
        await using var server = new ChunkServer(transport, store, new ChunkServerOptions { HashMismatchRetries = 0 });
        var chunk = RandomNumberGenerator.GetBytes(150);
        server.OnDatagram(Client, 40000, Server, Rendezvous(7, chunk));
        var forged = (byte[])chunk.Clone();
        forged[3] ^= 0x80;
        server.OnDatagram(Client, 40000, Group, Data(7, 0, forged.AsSpan(0, 100)));
        server.OnDatagram(Client, 40000, Group, Data(7, 1, forged.AsSpan(100, 50)));
        TargetOutcome outcome = TargetOutcome.Pending;
        for (int i = 0; i < 500 && outcome == TargetOutcome.Pending; i++)
        {
            foreach (var (_, d) in transport.Sent)
                if (ChunkMessage.TryRead(d, out var m) == ReadStatus.Ok && m.Type == MessageType.Outcome) outcome = (TargetOutcome)m.Code;
            await Task.Delay(10);
        }
        Assert.Equal(TargetOutcome.HashMismatch, outcome);
        Assert.Equal(1, server.Counters.Drops(DropReason.HashMismatch));
        Assert.Empty(store.Ids);
    }

    [Fact]
    public async Task Replay_AfterStored_IsLate_StoreUnchanged()
    {
        var chunk = RandomNumberGenerator.GetBytes(150);
        Deliver(Rendezvous(8, chunk), to: Server);
        Deliver(Data(8, 0, chunk.AsSpan(0, 100)));
        Deliver(Data(8, 1, chunk.AsSpan(100, 50)));
        Assert.Equal(TargetOutcome.Stored, await OutcomeAsync(8));
        Deliver(Data(8, 0, new byte[100]));
        Assert.Equal(1, _server.Counters.Drops(DropReason.Late));
        Assert.Equal(chunk, _store.Read(ChunkId.Of(chunk)));
        Assert.Single(_store.Ids);
    }

    [Fact]
    public void Rendezvous_NotListingUs_OrNotUnicast_IsRefused()
    {
        var chunk = RandomNumberGenerator.GetBytes(150);
        Deliver(Rendezvous(9, chunk, member: IpAddress.Parse("10.0.0.3")), to: Server);
        Deliver(Rendezvous(10, chunk));                     // to the group, not to us
        Deliver(Data(9, 0, chunk.AsSpan(0, 100)));
        Assert.Equal(1, _server.Counters.Drops(DropReason.OutOfRange));
        Assert.Equal(1, _server.Counters.Drops(DropReason.WrongGroup));
        Assert.Equal(1, _server.Counters.Drops(DropReason.UnknownTransaction));
        Assert.Equal(0, _server.ActiveTransfers);
    }

    [Fact]
    public void ForgedCiphertext_FailsAuthentication()
    {
        var chunk = RandomNumberGenerator.GetBytes(100);
        Deliver(Rendezvous(11, chunk, key: RandomNumberGenerator.GetBytes(32)), to: Server);
        Deliver(Data(11, 0, RandomNumberGenerator.GetBytes(116)));
        Assert.Equal(1, _server.Counters.Drops(DropReason.AuthenticationFailed));
        Assert.Empty(_store.Ids);
    }

    [Fact]
    public void Noise_NeverThrows_EveryDatagramCounted()
    {
        var chunk = RandomNumberGenerator.GetBytes(1000);
        Deliver(Rendezvous(12, chunk), to: Server);
        var random = new Random(3);
        for (int i = 0; i < 20_000; i++)
        {
            var d = new byte[random.Next(0, 140)];
            random.NextBytes(d);
            if (d.Length >= 12 && random.Next(2) == 0) { d[0] = 0x54; d[1] = 0x52; d[2] = 1; d[3] = (byte)random.Next(1, 17); }
            if (d.Length >= 12 && random.Next(4) == 0) BitConverter.TryWriteBytes(d.AsSpan(4), System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(12UL));
            _server.OnDatagram(random.Next(2) == 0 ? Client : IpAddress.Parse("10.0.0.5"), 1, random.Next(2) == 0 ? Group : Server, d);
        }
        Assert.True(_server.Counters.TotalDrops > 10_000);
        Assert.Empty(_store.Ids);
    }
}
