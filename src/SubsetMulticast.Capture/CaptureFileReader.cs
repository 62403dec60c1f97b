using System.Buffers.Binary;

namespace SubsetMulticast.Capture;

/// <summary>One interface of a capture: in pcapng its Interface Description Block; in pcap the single link.</summary>
public sealed record CaptureInterface(int Index, string Name, int LinkType);

/// <summary>What a capture record holds.</summary>
public enum CaptureRecordKind
{
    /// <summary>A captured frame (pcap record; pcapng EPB, SPB or obsolete PB).</summary>
    Packet,
    /// <summary>A pcapng Interface Statistics Block: only its timestamp is meaningful (the capture's clock at that moment).</summary>
    Statistics,
}

/// <summary>
/// One record. <see cref="Data"/> points into the reader's buffer and is valid until the next read.
/// <see cref="Timestamp"/> is in <see cref="TimeSpan"/> ticks since the Unix epoch.
/// </summary>
public readonly record struct CaptureRecord(CaptureRecordKind Kind, int Interface, long Timestamp, ReadOnlyMemory<byte> Data, int OriginalLength)
{
    public DateTimeOffset Time => DateTimeOffset.UnixEpoch.AddTicks(Timestamp);
}

/// <summary>
/// Reads libpcap (microsecond and nanosecond magic) and pcapng files (SHB, IDB, EPB, SPB, PB, ISB;
/// both byte orders, several sections, if_tsresol and if_tsoffset) from a stream with one reused
/// buffer. A record cut short at the end of the file (a capture still being written) ends the read
/// and sets <see cref="EndedEarly"/>; a structurally impossible file throws <see cref="InvalidDataException"/>.
/// </summary>
public sealed class CaptureFileReader : IDisposable
{
    public const int LinkTypeEthernet = 1;
    private const uint PcapMagicMicro = 0xA1B2C3D4, PcapMagicNano = 0xA1B23C4D;
    private const uint NgSectionHeader = 0x0A0D0D0A, NgByteOrderMagic = 0x1A2B3C4D;
    private const uint NgInterfaceDescription = 1, NgPacket = 2, NgSimplePacket = 3, NgInterfaceStatistics = 5, NgEnhancedPacket = 6;
    private const int MaxBlock = 64 * 1024 * 1024;
    // Timestamps are TimeSpan ticks since the Unix epoch that CaptureRecord.Time must be able to turn into a
    // DateTimeOffset: years 1 to 9999. A file claiming a time outside that is malformed, not a reason to throw later.
    private static readonly long MinTicks = -DateTimeOffset.UnixEpoch.UtcTicks;
    private static readonly long MaxTicks = DateTimeOffset.MaxValue.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;

    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly bool _pcapng;
    private bool _bigEndian;
    private byte[] _buffer = new byte[65536 + 64];
    private readonly List<CaptureInterface> _interfaces = [];
    // Per-section interface table: section-local id → (global index, ticks numerator/denominator, offset ticks).
    private readonly List<(int Global, ulong UnitsPerSecond, long OffsetTicks)> _section = [];
    // Classic pcap.
    private ulong _pcapUnitsPerSecond;
    private int _snapLength;
    private long _lastTimestamp;
    private long _position;

    private CaptureFileReader(Stream stream, bool ownsStream)
    {
        _stream = stream;
        _ownsStream = ownsStream;
        Span<byte> magic = stackalloc byte[4];
        if (!ReadExactly(magic)) throw new InvalidDataException("The capture is empty or shorter than its magic number.");
        uint le = BinaryPrimitives.ReadUInt32LittleEndian(magic);
        uint be = BinaryPrimitives.ReadUInt32BigEndian(magic);
        if (le == NgSectionHeader)
        {
            _pcapng = true;
            ReadSectionHeaderAfterType();
        }
        else if (le is PcapMagicMicro or PcapMagicNano || be is PcapMagicMicro or PcapMagicNano)
        {
            _bigEndian = be is PcapMagicMicro or PcapMagicNano;
            uint m = _bigEndian ? be : le;
            _pcapUnitsPerSecond = m == PcapMagicNano ? 1_000_000_000UL : 1_000_000UL;
            Span<byte> header = stackalloc byte[20];
            if (!ReadExactly(header)) throw new InvalidDataException("The pcap file header is cut short.");
            _snapLength = (int)Math.Min(U32(header[12..]), MaxBlock);
            int linkType = (int)(U32(header[16..]) & 0x0FFF_FFFF);
            _interfaces.Add(new CaptureInterface(0, "0", linkType));
        }
        else throw new InvalidDataException($"Not a pcap or pcapng file (magic {le:x8}).");
    }

    public static CaptureFileReader Open(string path) =>
        new(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16), ownsStream: true);

    public static CaptureFileReader Open(Stream stream, bool leaveOpen = false) => new(stream, !leaveOpen);

    public bool IsPcapNg => _pcapng;

    /// <summary>Every interface seen so far (pcapng IDBs appear as they are read).</summary>
    public IReadOnlyList<CaptureInterface> Interfaces => _interfaces;

    /// <summary>The file ended inside a record.</summary>
    public bool EndedEarly { get; private set; }

    /// <summary>The last timestamp read (packets and statistics blocks).</summary>
    public long LastTimestamp => _lastTimestamp;

    /// <summary>Reads the next packet or statistics record; false at the end of the file.</summary>
    public bool TryRead(out CaptureRecord record)
    {
        record = default;
        return _pcapng ? TryReadNg(out record) : TryReadPcap(out record);
    }

    private bool TryReadPcap(out CaptureRecord record)
    {
        record = default;
        Span<byte> h = stackalloc byte[16];
        int got = ReadUpTo(h);
        if (got == 0) return false;
        if (got < 16) { EndedEarly = true; return false; }
        ulong sec = U32(h), frac = U32(h[4..]);
        int caplen = (int)U32(h[8..]), origlen = (int)U32(h[12..]);
        if ((uint)caplen > MaxBlock) throw new InvalidDataException($"A pcap record at offset {_position - 16} claims {caplen} bytes.");
        if (!ReadBody(caplen)) { EndedEarly = true; return false; }
        long ts = (long)sec * TimeSpan.TicksPerSecond + (long)((UInt128)frac * TimeSpan.TicksPerSecond / _pcapUnitsPerSecond);
        _lastTimestamp = ts;
        record = new CaptureRecord(CaptureRecordKind.Packet, 0, ts, _buffer.AsMemory(0, caplen), origlen);
        return true;
    }

    private bool TryReadNg(out CaptureRecord record)
    {
        record = default;
        Span<byte> h = stackalloc byte[8];
        while (true)
        {
            long blockStart = _position;
            int got = ReadUpTo(h);
            if (got == 0) return false;
            if (got < 8) { EndedEarly = true; return false; }
            if (BinaryPrimitives.ReadUInt32LittleEndian(h) == NgSectionHeader)
            {
                // The byte order is not known yet: back into the section header reader.
                _position -= 4;
                ReadSectionHeaderBody(h[4..]);
                continue;
            }
            uint type = U32(h);
            uint total = U32(h[4..]);
            if (total < 12 || total % 4 != 0 || total > MaxBlock)
                throw new InvalidDataException($"pcapng block at offset {blockStart} has length {total}.");
            int bodyLength = (int)total - 8;
            if (!ReadBody(bodyLength)) { EndedEarly = true; return false; }
            var body = _buffer.AsSpan(0, bodyLength);
            body = body[..^4]; // trailing total length
            switch (type)
            {
                case NgInterfaceDescription:
                    ReadInterfaceDescription(body, blockStart);
                    break;
                case NgEnhancedPacket:
                {
                    if (body.Length < 20) throw new InvalidDataException($"pcapng EPB at offset {blockStart} is too short.");
                    int iface = (int)U32(body);
                    long ts = Timestamp(iface, ((ulong)U32(body[4..]) << 32) | U32(body[8..]), blockStart);
                    int caplen = (int)U32(body[12..]), origlen = (int)U32(body[16..]);
                    if ((uint)caplen > body.Length - 20) throw new InvalidDataException($"pcapng EPB at offset {blockStart} claims {caplen} captured bytes.");
                    record = new CaptureRecord(CaptureRecordKind.Packet, _section[iface].Global, ts, _buffer.AsMemory(20, caplen), origlen);
                    return true;
                }
                case NgPacket:
                {
                    if (body.Length < 20) throw new InvalidDataException($"pcapng PB at offset {blockStart} is too short.");
                    int iface = _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(body) : BinaryPrimitives.ReadUInt16LittleEndian(body);
                    long ts = Timestamp(iface, ((ulong)U32(body[4..]) << 32) | U32(body[8..]), blockStart);
                    int caplen = (int)U32(body[12..]), origlen = (int)U32(body[16..]);
                    if ((uint)caplen > body.Length - 20) throw new InvalidDataException($"pcapng PB at offset {blockStart} claims {caplen} captured bytes.");
                    record = new CaptureRecord(CaptureRecordKind.Packet, _section[iface].Global, ts, _buffer.AsMemory(20, caplen), origlen);
                    return true;
                }
                case NgSimplePacket:
                {
                    // RFC 9xxx draft §4.4: interface 0, no timestamp (we keep the last one seen), captured length = min(original, snaplen, body).
                    if (body.Length < 4 || _section.Count == 0) throw new InvalidDataException($"pcapng SPB at offset {blockStart} has no interface or is too short.");
                    uint origlen = U32(body);
                    int caplen = (int)Math.Min(origlen, (uint)(body.Length - 4));
                    record = new CaptureRecord(CaptureRecordKind.Packet, _section[0].Global, _lastTimestamp, _buffer.AsMemory(4, caplen), (int)Math.Min(origlen, int.MaxValue));
                    return true;
                }
                case NgInterfaceStatistics:
                {
                    if (body.Length < 12) throw new InvalidDataException($"pcapng ISB at offset {blockStart} is too short.");
                    int iface = (int)U32(body);
                    long ts = Timestamp(iface, ((ulong)U32(body[4..]) << 32) | U32(body[8..]), blockStart);
                    record = new CaptureRecord(CaptureRecordKind.Statistics, _section[iface].Global, ts, ReadOnlyMemory<byte>.Empty, 0);
                    return true;
                }
                default:
                    break; // Name resolution, custom, decryption secrets …: not ours.
            }
        }
    }

    private long Timestamp(int iface, ulong raw, long blockStart)
    {
        if ((uint)iface >= (uint)_section.Count) throw new InvalidDataException($"pcapng block at offset {blockStart} names interface {iface}, which has no description.");
        var (_, units, offset) = _section[iface];
        // A 64-bit count of 10^-0 s units is ~10^26 ticks: compute wide, then refuse what no DateTimeOffset holds.
        var ts = (Int128)((UInt128)raw * TimeSpan.TicksPerSecond / units) + offset;
        if (ts < MinTicks || ts > MaxTicks) throw new InvalidDataException($"pcapng block at offset {blockStart} has a timestamp outside years 1 to 9999.");
        _lastTimestamp = (long)ts;
        return (long)ts;
    }

    private void ReadSectionHeaderAfterType()
    {
        Span<byte> len = stackalloc byte[4];
        if (!ReadExactly(len)) throw new InvalidDataException("The pcapng section header is cut short.");
        ReadSectionHeaderBody(len);
    }

    /// <summary>Reads an SHB whose type (4 bytes) has been consumed and whose raw length field is <paramref name="rawLength"/>.</summary>
    private void ReadSectionHeaderBody(ReadOnlySpan<byte> rawLength)
    {
        long start = _position - 8;
        Span<byte> bom = stackalloc byte[4];
        if (!ReadExactly(bom)) throw new InvalidDataException("The pcapng section header is cut short.");
        if (BinaryPrimitives.ReadUInt32LittleEndian(bom) == NgByteOrderMagic) _bigEndian = false;
        else if (BinaryPrimitives.ReadUInt32BigEndian(bom) == NgByteOrderMagic) _bigEndian = true;
        else throw new InvalidDataException($"pcapng section header at offset {start} has no byte-order magic.");
        uint total = U32(rawLength);
        if (total < 28 || total % 4 != 0 || total > MaxBlock) throw new InvalidDataException($"pcapng section header at offset {start} has length {total}.");
        int rest = (int)total - 12;
        if (!ReadBody(rest)) throw new InvalidDataException("The pcapng section header is cut short.");
        _section.Clear();
    }

    private void ReadInterfaceDescription(ReadOnlySpan<byte> body, long blockStart)
    {
        if (body.Length < 8) throw new InvalidDataException($"pcapng IDB at offset {blockStart} is too short.");
        int linkType = _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(body) : BinaryPrimitives.ReadUInt16LittleEndian(body);
        string? name = null;
        ulong units = 1_000_000;
        long offsetTicks = 0;
        var options = body[8..];
        while (options.Length >= 4)
        {
            int code = _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(options) : BinaryPrimitives.ReadUInt16LittleEndian(options);
            int length = _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(options[2..]) : BinaryPrimitives.ReadUInt16LittleEndian(options[2..]);
            if (code == 0) break; // opt_endofopt
            if (4 + length > options.Length) throw new InvalidDataException($"pcapng IDB at offset {blockStart} has an option overrunning the block.");
            var value = options.Slice(4, length);
            switch (code)
            {
                case 2: // if_name
                    name = System.Text.Encoding.UTF8.GetString(value).TrimEnd('\0');
                    break;
                case 9 when length >= 1: // if_tsresol: MSB 0 → 10^-n, MSB 1 → 2^-n
                    int n = value[0] & 0x7F;
                    if ((value[0] & 0x80) == 0)
                    {
                        if (n > 19) throw new InvalidDataException($"pcapng IDB at offset {blockStart} has if_tsresol 10^-{n}.");
                        units = 1; for (int i = 0; i < n; i++) units *= 10;
                    }
                    else
                    {
                        if (n > 63) throw new InvalidDataException($"pcapng IDB at offset {blockStart} has if_tsresol 2^-{n}.");
                        units = 1UL << n;
                    }
                    break;
                case 14 when length >= 8: // if_tsoffset, seconds
                    long seconds = _bigEndian ? BinaryPrimitives.ReadInt64BigEndian(value) : BinaryPrimitives.ReadInt64LittleEndian(value);
                    if (seconds < MinTicks / TimeSpan.TicksPerSecond || seconds > MaxTicks / TimeSpan.TicksPerSecond)
                        throw new InvalidDataException($"pcapng IDB at offset {blockStart} has if_tsoffset {seconds} s, outside years 1 to 9999.");
                    offsetTicks = seconds * TimeSpan.TicksPerSecond;
                    break;
            }
            options = options[Math.Min(options.Length, 4 + ((length + 3) & ~3))..];
        }
        int global = _interfaces.Count;
        _interfaces.Add(new CaptureInterface(global, name ?? global.ToString(System.Globalization.CultureInfo.InvariantCulture), linkType));
        _section.Add((global, units, offsetTicks));
    }

    private uint U32(ReadOnlySpan<byte> s) => _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);

    /// <summary>
    /// Reads a record body of the length its header claims into <see cref="_buffer"/>; false if the file ends first.
    /// The buffer grows only as bytes arrive (and not at all past what a seekable file still holds), so a hostile
    /// header claiming 64 MiB in a 100-byte file costs no 64 MiB allocation.
    /// </summary>
    private bool ReadBody(int length)
    {
        if (_stream.CanSeek && length > _stream.Length - _stream.Position)
        {
            _position += _stream.Length - _stream.Position; // the record is cut short: the rest of the file is in it
            _stream.Seek(0, SeekOrigin.End);
            return false;
        }
        int have = 0;
        while (have < length)
        {
            if (_buffer.Length == have)
            {
                var grown = new byte[(int)Math.Min(length, (long)_buffer.Length * 2)];
                _buffer.AsSpan(0, have).CopyTo(grown);
                _buffer = grown;
            }
            int want = Math.Min(length, _buffer.Length) - have;
            int got = ReadUpTo(_buffer.AsSpan(have, want));
            have += got;
            if (got < want) return false;
        }
        return true;
    }

    private bool ReadExactly(Span<byte> destination) => ReadUpTo(destination) == destination.Length;

    private int ReadUpTo(Span<byte> destination)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int n = _stream.Read(destination[total..]);
            if (n == 0) break;
            total += n;
        }
        _position += total;
        return total;
    }

    public void Dispose()
    {
        if (_ownsStream) _stream.Dispose();
    }
}
