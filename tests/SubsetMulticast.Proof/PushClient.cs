using System.Net;
using System.Net.Sockets;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Push;

namespace SubsetMulticast.Proof;

/// <summary>
/// The fast client path of issue 14: the draft's binary push instruction (drafts/push-instruction.md) over UDP to
/// <c>tsm serve --push-udp</c>. A PushMembership names the group address itself (the client picks it: here the
/// next one down from the top of the block, far from what REST allocates) and is acknowledged after every switch
/// confirmed — a confirmed create in one datagram each way, no HTTP.
/// </summary>
internal sealed class PushClient(IPEndPoint endpoint, byte[] key, IpAddress reference) : IDisposable
{
    private const ushort KeyId = 1;
    private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly PushKeyRing _keys = new PushKeyRing().Add(new VlanId(0), KeyId, key);
    private readonly byte[] _buffer = new byte[1500];
    private readonly uint _sender = (uint)Random.Shared.Next(1, int.MaxValue);
    private ulong _sequence;
    private uint _next = 0xEFFF_FF00; // 239.255.255.0 and down (the default block is 239.255.0.0/16)

    /// <summary>A fresh address per trial: a released one is held down before it may be reused.</summary>
    public IPAddress NextGroup() => new(BitConverter.GetBytes(IPAddress.HostToNetworkOrder((int)_next--)));

    /// <summary>Sends one instruction and waits for its ack; returns the ack's outcome (0 applied, 1 refused, 2 not processed), or 255 on no ack within 2 s.</summary>
    public async Task<int> SendAsync(PushOpcode opcode, IPAddress group, IReadOnlyList<IPAddress> members)
    {
        var m = members.Select(a => IpAddress.Parse(a.ToString())).ToArray();
        int n = PushInstructionWriter.Write(_buffer, opcode, new VlanId(0), KeyId, _sender, ++_sequence, 60_000, reference, IpAddress.Parse(group.ToString()), m, _keys);
        await _udp.SendAsync(_buffer.AsMemory(0, n), endpoint);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            while (true)
            {
                var ack = await _udp.ReceiveAsync(cts.Token);
                // 'TA', version, op, verdict, outcome, ...; sequence at 16..24 (big-endian)
                if (ack.Buffer.Length < 24 || System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(ack.Buffer.AsSpan(16)) != _sequence) continue;
                return ack.Buffer[5];
            }
        }
        catch (OperationCanceledException) { return 255; }
    }

    public void Dispose() => _udp.Dispose();
}
