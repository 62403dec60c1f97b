using System.Buffers;
using BenchmarkDotNet.Attributes;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.Packets.Igmp;

namespace SubsetMulticast.Benchmarks.OpenFlow;

/// <summary>
/// One PACKET_IN carrying a 46-byte IGMPv2 report cut off a pipe buffer, as the controller's session does per punted
/// frame: decoded into an owning message (what a <c>PacketInReceived</c> subscriber costs: the bytes copied once out of
/// the pipe, the match and the message object), or read in place as a <see cref="PacketInView"/> (what the
/// controller's hot path, <c>PacketInViewReceived</c>, costs: nothing allocated, the frame a view of the pipe's bytes).
/// </summary>
[MemoryDiagnoser]
public class PacketInDecodeBenchmarks
{
    private ReadOnlySequence<byte> _wire;

    [GlobalSetup]
    public void Setup()
    {
        var frame = new byte[64];
        int n = IgmpFrames.WriteV2Report(frame, new MacAddress(0x02_00_00_00_00_01), default, IpAddress.Parse("10.0.0.1"), IpAddress.Parse("239.1.1.1"));
        var packetIn = new PacketIn(Ofp.NoBuffer, (ushort)n, PacketInReason.Action, 0, 0x5342_0000_0000_0001, new OfpMatch { InPort = 3 }, frame[..n]) { Xid = 7 };
        _wire = new ReadOnlySequence<byte>(packetIn.ToArray());
    }

    private static readonly PacketInViewHandler Consume = v => { _sink = v.Data.Length + (int)(v.InPort ?? 0); return false; };
    private static int _sink;

    [Benchmark(Description = "frame + read one PACKET_IN in place (view)")]
    public int View()
    {
        var buffer = _wire;
        OpenFlowFramer.TryReadMessage(ref buffer, Ofp.MaxMessageLength, Consume, out _);
        return _sink;
    }

    [Benchmark(Description = "frame + decode one PACKET_IN")]
    public int Decode()
    {
        var buffer = _wire;
        OpenFlowFramer.TryReadMessage(ref buffer, Ofp.MaxMessageLength, out var m);
        return ((PacketIn)m!).Data.Length;
    }
}
