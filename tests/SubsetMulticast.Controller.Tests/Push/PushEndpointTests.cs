using System.Net;
using System.Net.Sockets;
using SubsetMulticast.Controller.Push;
using SubsetMulticast.Controller.Tests.Support;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Push;

namespace SubsetMulticast.Controller.Tests.Push;

/// <summary>The push-instruction endpoint over a real loopback socket.</summary>
public sealed class PushEndpointTests : IAsyncLifetime
{
    private RunningController _c = null!;
    private UdpClient _udp = null!;
    private ulong _sequence;

    public async Task InitializeAsync()
    {
        _c = await RunningController.StartAsync();
        _udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
    }

    public async Task DisposeAsync()
    {
        _udp.Dispose();
        await _c.DisposeAsync();
    }

    [Fact]
    public async Task Membership_Accepted_CreatesTheGroupAtTheInstructionsAddress()
    {
        var ack = await SendAsync(Instruction(PushOpcode.PushMembership, "239.255.0.9", "10.0.1.1", "10.0.2.2", "10.0.2.3"));
        Assert.Equal((PushVerdict.Accepted, PushOutcome.Applied, PushOpcode.PushMembership), (ack.Verdict, ack.Outcome, ack.Opcode));
        Assert.Equal(_sequence, ack.Sequence);
        var group = Assert.Single(await _c.GroupsAsync());
        Assert.Equal("239.255.0.9", group.GetProperty("group").GetString());
        Assert.Equal(["10.0.1.1", "10.0.2.2"], group.GetProperty("effective").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal([1u, 4u], _c.Southbound.PortsOf("s1", 1, "239.255.0.9"));
        Assert.Equal([2u, 4u], _c.Southbound.PortsOf("s2", 1, "239.255.0.9"));
        Assert.Equal(1, _c.Host.PushStats!.Applied);
    }

    [Fact]
    public async Task MembershipThenRefreshThenRelease_ActOnTheGroupAtThatAddress()
    {
        await SendAsync(Instruction(PushOpcode.PushMembership, "239.255.0.9", "10.0.1.1"));
        var superseding = await SendAsync(Instruction(PushOpcode.PushMembership, "239.255.0.9", "10.0.1.2"));
        Assert.Equal(PushOutcome.Applied, superseding.Outcome);
        Assert.Equal([2u], _c.Southbound.PortsOf("s1", 1, "239.255.0.9"));

        var refreshed = await SendAsync(Instruction(PushOpcode.Refresh, "239.255.0.9"));
        Assert.Equal(PushOutcome.Applied, refreshed.Outcome);
        Assert.Equal(2, Assert.Single(await _c.GroupsAsync()).GetProperty("version").GetInt64());

        var released = await SendAsync(Instruction(PushOpcode.Release, "239.255.0.9"));
        Assert.Equal(PushOutcome.Applied, released.Outcome);
        Assert.Empty(await _c.GroupsAsync());
        Assert.Empty(_c.Southbound.Rules);
    }

    [Fact]
    public async Task Forged_BadMac_ChangesNothing()
    {
        var datagram = Instruction(PushOpcode.PushMembership, "239.255.0.9", "10.0.1.1");
        datagram[^1] ^= 0x01;
        await AssertUnansweredAsync(datagram);
        await AssertNothingChanged();
        Assert.Equal(1, _c.Host.PushStats!.Count(PushVerdict.BadMac));
    }

    [Fact]
    public async Task TamperedMembers_BadMac_ChangesNothing()
    {
        var datagram = Instruction(PushOpcode.PushMembership, "239.255.0.9", "10.0.1.1");
        datagram[PushInstruction.HeaderLength + 8 + 3] = 2; // 10.0.1.1 → 10.0.1.2 without re-signing
        await AssertUnansweredAsync(datagram);
        Assert.Equal(1, _c.Host.PushStats!.Count(PushVerdict.BadMac));
        await AssertNothingChanged();
    }

    [Fact]
    public async Task UnknownKey_ChangesNothing()
    {
        var keys = new PushKeyRing().Add(1, 9, RunningController.Key);
        await AssertUnansweredAsync(Instruction(PushOpcode.PushMembership, "239.255.0.9", keys, 9, "10.0.1.1"));
        Assert.Equal(1, _c.Host.PushStats!.Count(PushVerdict.UnknownKey));
        await AssertNothingChanged();
    }

    [Fact]
    public async Task Replayed_SecondCopy_ChangesNothing()
    {
        var datagram = Instruction(PushOpcode.PushMembership, "239.255.0.9", "10.0.1.1");
        Assert.Equal(PushOutcome.Applied, (await SendAsync(datagram)).Outcome);
        var before = await _c.GroupsJsonAsync();
        await AssertUnansweredAsync(datagram); // a verified MAC on a stale sequence is still no instruction: a replayer gets nothing back
        Assert.Equal(1, _c.Host.PushStats!.Count(PushVerdict.Replayed));
        Assert.Equal(before, await _c.GroupsJsonAsync());
        Assert.Equal(1, _c.Southbound.Transactions);
    }

    [Fact]
    public async Task Malformed_ChangesNothingAndIsCounted()
    {
        var datagram = Instruction(PushOpcode.PushMembership, "239.255.0.9", "10.0.1.1");
        datagram[0] = (byte)'X';
        await AssertUnansweredAsync(datagram);
        Assert.Equal(1, _c.Host.PushStats!.Count(PushVerdict.Malformed));

        await _udp.SendAsync(new byte[] { 0x54, 0x53, 1 }, _c.Host.PushEndPoint!); // too short to answer: counted, no ack
        await Wait.UntilAsync(() => Task.FromResult(_c.Host.PushStats!.Count(PushVerdict.Truncated) == 1), "the short datagram is counted");
        await AssertNothingChanged();
    }

    [Fact]
    public async Task Accepted_ButRefused_AcksTheProblemAndChangesNothing()
    {
        var ack = await SendAsync(Instruction(PushOpcode.PushMembership, "239.255.0.9", "10.0.1.3"));
        Assert.Equal((PushVerdict.Accepted, PushOutcome.Refused), (ack.Verdict, ack.Outcome));
        Assert.Equal(PushAck.ProblemCode(Core.Lifecycle.ProblemKind.NoMemberInReferenceGroup), ack.Problem);
        var release = await SendAsync(Instruction(PushOpcode.Release, "239.255.0.10"));
        Assert.Equal(PushAck.ProblemCode(Core.Lifecycle.ProblemKind.GroupNotFound), release.Problem);
        await AssertNothingChanged();
        Assert.Equal(2, _c.Host.PushStats!.Refused);
    }

    /// <summary>Each key id is a client: another key may not supersede, refresh or release the group, and nothing changes when it tries.</summary>
    [Fact]
    public async Task AnotherKey_CannotSupersedeRefreshOrRelease_TheGroup()
    {
        Assert.Equal(PushOutcome.Applied, (await SendAsync(Instruction(PushOpcode.PushMembership, "239.255.0.9", "10.0.1.1"))).Outcome);
        var before = await _c.GroupsJsonAsync();
        int transactions = _c.Southbound.Transactions;
        var other = new PushKeyRing().Add(1, 2, RunningController.Key2);
        foreach (var (opcode, members) in new[] { (PushOpcode.PushMembership, new[] { "10.0.1.2" }), (PushOpcode.Refresh, []), (PushOpcode.Release, []) })
        {
            var ack = await SendAsync(Instruction(opcode, "239.255.0.9", other, 2, members));
            Assert.Equal((PushVerdict.Accepted, PushOutcome.Refused, PushAck.NotOwner), (ack.Verdict, ack.Outcome, ack.Problem));
        }
        Assert.Equal(before, await _c.GroupsJsonAsync());
        Assert.Equal(transactions, _c.Southbound.Transactions);
        Assert.Equal([1u], _c.Southbound.PortsOf("s1", 1, "239.255.0.9"));
        Assert.Equal(PushOutcome.Applied, (await SendAsync(Instruction(PushOpcode.Release, "239.255.0.9"))).Outcome); // its creator may
        Assert.Empty(await _c.GroupsAsync());
    }

    /// <summary>A group created over REST is that REST client's: a push key cannot take it over or release it.</summary>
    [Fact]
    public async Task RestGroup_CannotBeTakenOverByAPushKey()
    {
        var created = await _c.CreateOkAsync();
        string address = created.GetProperty("group").GetString()!;
        var before = await _c.GroupsJsonAsync();
        foreach (var opcode in new[] { PushOpcode.PushMembership, PushOpcode.Release })
        {
            var ack = await SendAsync(Instruction(opcode, address, opcode == PushOpcode.Release ? [] : ["10.0.1.2"]));
            Assert.Equal((PushOutcome.Refused, PushAck.NotOwner), (ack.Outcome, ack.Problem));
        }
        Assert.Equal(before, await _c.GroupsJsonAsync());
    }

    /// <summary>A key holds at most its quota of live groups; a refusal changes nothing and a release frees the slot.</summary>
    [Fact]
    public async Task Quota_PerKey_RefusesBeyondIt_AndAReleaseFreesTheSlot()
    {
        await using var c = await RunningController.StartAsync(configure: o => o.ApiSecurity.ClientGroupQuota = 2);
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        async Task<PushAck> Send(byte[] d)
        {
            await udp.SendAsync(d, c.Host.PushEndPoint!);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            Assert.True(PushAck.TryRead((await udp.ReceiveAsync(timeout.Token)).Buffer, out var a));
            return a;
        }
        Assert.Equal(PushOutcome.Applied, (await Send(Instruction(PushOpcode.PushMembership, "239.255.0.9", "10.0.1.1"))).Outcome);
        Assert.Equal(PushOutcome.Applied, (await Send(Instruction(PushOpcode.PushMembership, "239.255.0.10", "10.0.1.1"))).Outcome);
        int transactions = c.Southbound.Transactions;
        var refused = await Send(Instruction(PushOpcode.PushMembership, "239.255.0.11", "10.0.1.1"));
        Assert.Equal((PushOutcome.Refused, PushAck.QuotaExceeded), (refused.Outcome, refused.Problem));
        Assert.Equal(2, (await c.GroupsAsync()).Count());
        Assert.Equal(transactions, c.Southbound.Transactions);
        // Superseding its own group is no new group: allowed at the quota.
        Assert.Equal(PushOutcome.Applied, (await Send(Instruction(PushOpcode.PushMembership, "239.255.0.10", "10.0.1.2"))).Outcome);
        // Another key has its own quota.
        var other = new PushKeyRing().Add(1, 2, RunningController.Key2);
        Assert.Equal(PushOutcome.Applied, (await Send(Instruction(PushOpcode.PushMembership, "239.255.0.12", other, 2, "10.0.1.1"))).Outcome);
        Assert.Equal(PushOutcome.Applied, (await Send(Instruction(PushOpcode.Release, "239.255.0.9"))).Outcome);
        Assert.Equal(PushOutcome.Applied, (await Send(Instruction(PushOpcode.PushMembership, "239.255.0.11", "10.0.1.1"))).Outcome);
        Assert.Equal(["239.255.0.10", "239.255.0.11", "239.255.0.12"], (await c.GroupsAsync()).Select(g => g.GetProperty("group").GetString()).Order());
    }

    /// <summary>
    /// Sends <paramref name="datagram"/>, then a verified instruction that is refused (release of a group that does not
    /// exist: answered, changes nothing). Datagrams are handled in arrival order, so had the first been answered, its ack
    /// would come first; the first reply must be the second's.
    /// </summary>
    private async Task AssertUnansweredAsync(byte[] datagram)
    {
        await _udp.SendAsync(datagram, _c.Host.PushEndPoint!);
        var sentinel = Instruction(PushOpcode.Release, "239.255.0.99");
        ulong sequence = _sequence;
        var ack = await SendAsync(sentinel);
        Assert.Equal((PushVerdict.Accepted, PushOutcome.Refused, sequence), (ack.Verdict, ack.Outcome, ack.Sequence));
        Assert.Equal(0, _udp.Available);
    }

    private async Task AssertNothingChanged()
    {
        Assert.Empty(await _c.GroupsAsync());
        Assert.Equal(0, _c.Southbound.Transactions);
        Assert.Empty(_c.Southbound.Rules);
    }

    private byte[] Instruction(PushOpcode opcode, string group, params string[] members) =>
        Instruction(opcode, group, new PushKeyRing().Add(1, 1, RunningController.Key), 1, members);

    private byte[] Instruction(PushOpcode opcode, string group, PushKeyRing keys, ushort keyId, params string[] members)
    {
        var addresses = members.Select(IpAddress.Parse).ToArray();
        var buffer = new byte[PushInstruction.LengthFor(false, addresses.Length)];
        int n = PushInstructionWriter.Write(buffer, opcode, 1, keyId, senderId: 77, ++_sequence, 5000,
            IpAddress.Parse(TestFabric.Reference), IpAddress.Parse(group), addresses, keys);
        Assert.Equal(buffer.Length, n);
        return buffer;
    }

    private async Task<PushAck> SendAsync(byte[] datagram)
    {
        await _udp.SendAsync(datagram, _c.Host.PushEndPoint!);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var reply = await _udp.ReceiveAsync(timeout.Token);
        Assert.True(PushAck.TryRead(reply.Buffer, out var ack), $"not an ack: {Convert.ToHexString(reply.Buffer)}");
        return ack;
    }
}
