using System.Buffers.Binary;

namespace SubsetMulticast.Packets.Capture;

/// <summary>
/// A classic libpcap file writer (magic a1b2c3d4, version 2.4, microsecond timestamps, LINKTYPE_ETHERNET 1).
/// </summary>
public sealed class PcapWriter : IDisposable
{
    public const int GlobalHeaderLength = 24;
    public const int RecordHeaderLength = 16;
    public const uint LinkTypeEthernet = 1;
    public const int SnapLength = 262144;

    private readonly Stream _stream;
    private readonly bool _ownsStream;

    public PcapWriter(Stream stream, bool ownsStream = true)
    {
        _stream = stream;
        _ownsStream = ownsStream;
        Span<byte> h = stackalloc byte[GlobalHeaderLength];
        WriteGlobalHeader(h);
        _stream.Write(h);
    }

    public static void WriteGlobalHeader(Span<byte> destination)
    {
        Guard.Room(destination, GlobalHeaderLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination, 0xA1B2C3D4);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], 4);
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], 0);   // thiszone
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], 0); // sigfigs
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], SnapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], LinkTypeEthernet);
    }

    public static void WriteRecordHeader(Span<byte> destination, long timestampMicroseconds, int capturedLength, int originalLength)
    {
        Guard.Room(destination, RecordHeaderLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)(timestampMicroseconds / 1_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)(timestampMicroseconds % 1_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], (uint)capturedLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], (uint)originalLength);
    }

    public void WriteFrame(ReadOnlySpan<byte> frame, long timestampMicroseconds)
    {
        if (frame.Length > SnapLength) throw new ArgumentException("Frame longer than the snap length.", nameof(frame));
        Span<byte> h = stackalloc byte[RecordHeaderLength];
        WriteRecordHeader(h, timestampMicroseconds, frame.Length, frame.Length);
        _stream.Write(h);
        _stream.Write(frame);
    }

    public void Flush() => _stream.Flush();

    public void Dispose()
    {
        _stream.Flush();
        if (_ownsStream) _stream.Dispose();
    }
}
