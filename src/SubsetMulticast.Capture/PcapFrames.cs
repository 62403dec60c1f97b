using System.Runtime.InteropServices;
using SharpPcap.LibPcap;

namespace SubsetMulticast.Capture;

/// <summary>
/// The per-frame read of every SharpPcap device we open (live interfaces; the benchmark's offline files), without
/// the objects <see cref="PcapDevice.GetNextPacket"/> builds for each frame: libpcap's own header and buffer, read
/// in place.
/// </summary>
public static unsafe class PcapFrames
{
    /// <summary>libpcap's <c>struct pcap_pkthdr</c> on 64-bit Linux: <c>struct timeval</c> (two longs), caplen, len.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct PacketHeader
    {
        public nint Seconds;
        public nint Microseconds;
        public uint CapturedLength;
        public uint Length;
    }

    /// <summary>
    /// <c>pcap_next_ex</c> on <paramref name="device"/>: 1 with a frame (a span over libpcap's buffer, valid until
    /// the next read) and its time in ticks since the Unix epoch (the device's resolution must be microseconds, the
    /// default); 0 on a read timeout; negative at the end of a file (-2) or on an error (-1, see <see cref="PcapDevice.LastError"/>).
    /// </summary>
    public static int Next(PcapDevice device, out ReadOnlySpan<byte> frame, out long timestamp)
    {
        ArgumentNullException.ThrowIfNull(device);
        frame = default;
        timestamp = 0;
        nint header = 0, data = 0;
        int rc = device.GetNextPacketPointers(ref header, ref data);
        if (rc <= 0) return rc;
        var h = (PacketHeader*)header;
        frame = new ReadOnlySpan<byte>((void*)data, (int)h->CapturedLength);
        timestamp = h->Seconds * TimeSpan.TicksPerSecond + h->Microseconds * TimeSpan.TicksPerMicrosecond;
        return rc;
    }
}
