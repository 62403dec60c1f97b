using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Transfer.Wire;

namespace SubsetMulticast.Transfer.Sending;

/// <summary>An answer to the client (bid, ready, ack, outcome …), decoded on the receive thread and queued to its transaction.</summary>
internal sealed class Reply
{
    public MessageType Type;
    public IpAddress From;
    public byte Code;
    public uint Value;
    public long Size;
    public long Rate;
    public long Free;
    public uint StartDelayMicros;
    public int Round;
    public AckState State;
    public int Received;
    public (uint Start, uint Count)[] Ranges = [];
    public bool Truncated;
}
