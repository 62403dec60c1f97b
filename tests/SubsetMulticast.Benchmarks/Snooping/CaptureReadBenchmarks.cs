using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using SharpPcap;
using SharpPcap.LibPcap;
using SubsetMulticast.Capture;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Packets;
using SubsetMulticast.Packets.Igmp;
using SubsetMulticast.Packets.Mld;
using SubsetMulticast.Snooping;

namespace SubsetMulticast.Benchmarks.Snooping;

/// <summary>
/// What capture adds per frame in front of <see cref="Snooper.Process(PortId, ReadOnlySpan{byte}, long)"/>: a pcap file
/// of 65,536 reports (the <see cref="SteadyStateSnooping.WriteReport"/> mix, refreshing 1,024 existing groups) read by
/// SharpPcap over libpcap (<c>pcap_next_ex</c>, the call live capture makes) and snooped, one frame one operation.
/// <list type="bullet">
/// <item>SharpPcap's <c>GetNextPacket</c>: a <c>PcapHeader</c> and a <c>PosixTimeval</c> per frame;</item>
/// <item><see cref="PcapFrames.Next"/> (our live path): libpcap's header and buffer read in place;</item>
/// <item>our <see cref="CaptureFileReader"/> (the pcapng replay path, no libpcap);</item>
/// <item>the snooper alone over frames in memory (the floor).</item>
/// </list>
/// Each invocation opens the file once (its cost is spread over the 65,536 frames).
/// </summary>
[MemoryDiagnoser]
public class CaptureReadBenchmarks
{
    private const int Frames = 65_536;
    private string _path = "";
    private byte[][] _frames = [];
    private Snooper _snooper = null!;
    private PortId _port;
    private long _offset;

    [GlobalSetup]
    public void Setup()
    {
        _path = Path.Combine(Path.GetTempPath(), $"tsm-capture-bench-{Environment.ProcessId}.pcap");
        _frames = new byte[Frames][];
        var buffer = new byte[512];
        for (int i = 0; i < Frames; i++)
        {
            int n = SteadyStateSnooping.WriteReport(buffer, i);
            _frames[i] = buffer[..n];
        }
        WritePcap(_path, _frames, firstSecond: 1_767_225_600);
        _snooper = new Snooper(new SnoopingOptions());
        _port = _snooper.AddPort("pcap");
        OurReader();   // create every membership: what follows is steady state
    }

    [GlobalCleanup]
    public void Cleanup() => File.Delete(_path);

    // The file's timestamps repeat every invocation; an offset that grows keeps the snooper's clock moving forward.
    private long NextOffset() => _offset += TimeSpan.TicksPerSecond;

    [Benchmark(OperationsPerInvoke = Frames, Description = "SharpPcap GetNextPacket + snoop")]
    public int SharpPcapGetNextPacket()
    {
        long offset = NextOffset();
        using var device = new CaptureFileReaderDevice(_path);
        device.Open();
        int applied = 0;
        while (device.GetNextPacket(out var e) == GetPacketStatus.PacketRead)
        {
            var tv = e.Header.Timeval;
            long ts = (long)tv.Seconds * TimeSpan.TicksPerSecond + (long)tv.MicroSeconds * TimeSpan.TicksPerMicrosecond + offset;
            if (_snooper.Process(_port, e.Data, ts) == FrameOutcome.Applied) applied++;
        }
        return applied;
    }

    [Benchmark(OperationsPerInvoke = Frames, Description = "SharpPcap pointers (PcapFrames.Next) + snoop")]
    public int SharpPcapPointers()
    {
        long offset = NextOffset();
        using var device = new CaptureFileReaderDevice(_path);
        device.Open();
        int applied = 0;
        while (PcapFrames.Next(device, out var frame, out long ts) > 0)
            if (_snooper.Process(_port, frame, ts + offset) == FrameOutcome.Applied) applied++;
        return applied;
    }

    [Benchmark(OperationsPerInvoke = Frames, Description = "CaptureFileReader + snoop")]
    public int OurReader()
    {
        long offset = NextOffset();
        using var reader = CaptureFileReader.Open(_path);
        int applied = 0;
        while (reader.TryRead(out var record))
            if (_snooper.Process(_port, record.Data.Span, record.Timestamp + offset) == FrameOutcome.Applied) applied++;
        return applied;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Frames, Description = "snoop only (frames in memory)")]
    public int SnoopOnly()
    {
        long now = NextOffset() + 1_767_225_600L * TimeSpan.TicksPerSecond;
        int applied = 0;
        foreach (var frame in _frames)
            if (_snooper.Process(_port, frame, now += 10) == FrameOutcome.Applied) applied++;
        return applied;
    }

    /// <summary>A classic little-endian microsecond pcap file, Ethernet, frames 1 µs apart.</summary>
    private static void WritePcap(string path, byte[][] frames, long firstSecond)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        Span<byte> h = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(h, 0xA1B2C3D4);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], 65535);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], 1);
        file.Write(h);
        Span<byte> r = stackalloc byte[16];
        for (int i = 0; i < frames.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(r, (uint)(firstSecond + i / 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(r[4..], (uint)(i % 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(r[8..], (uint)frames[i].Length);
            BinaryPrimitives.WriteUInt32LittleEndian(r[12..], (uint)frames[i].Length);
            file.Write(r);
            file.Write(frames[i]);
        }
    }
}
