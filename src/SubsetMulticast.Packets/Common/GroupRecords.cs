using System.Buffers.Binary;
using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Packets;

/// <summary>IGMPv3 (RFC 3376 §4.2.12) and MLDv2 (RFC 3810 §5.2.12) group record types.</summary>
public enum GroupRecordType : byte
{
    ModeIsInclude = 1,
    ModeIsExclude = 2,
    ChangeToInclude = 3,
    ChangeToExclude = 4,
    AllowNewSources = 5,
    BlockOldSources = 6,
}

/// <summary>A group record to write into an IGMPv3 or MLDv2 report.</summary>
public readonly struct GroupRecord
{
    public GroupRecord(GroupRecordType type, IpAddress group, ReadOnlyMemory<IpAddress> sources = default, ReadOnlyMemory<byte> auxData = default)
    {
        if (auxData.Length % 4 != 0 || auxData.Length > 255 * 4)
            throw new ArgumentException("Aux data is a whole number of 32-bit words, at most 255.", nameof(auxData));
        if (sources.Length > ushort.MaxValue) throw new ArgumentException("At most 65535 sources.", nameof(sources));
        Type = type;
        Group = group;
        Sources = sources;
        AuxData = auxData;
    }

    public GroupRecordType Type { get; }
    public IpAddress Group { get; }
    public ReadOnlyMemory<IpAddress> Sources { get; }
    public ReadOnlyMemory<byte> AuxData { get; }

    /// <summary>Bytes on the wire for an address width of 4 (IGMP) or 16 (MLD).</summary>
    public int WireLength(int addressWidth) => 4 + addressWidth * (1 + Sources.Length) + AuxData.Length;

    internal int Write(Span<byte> destination, int addressWidth)
    {
        int len = WireLength(addressWidth);
        Guard.Room(destination, len);
        CheckFamily(Group, addressWidth, "group");
        destination[0] = (byte)Type;
        destination[1] = (byte)(AuxData.Length / 4);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)Sources.Length);
        Group.WriteTo(destination[4..]);
        int o = 4 + addressWidth;
        var sources = Sources.Span;
        for (int i = 0; i < sources.Length; i++, o += addressWidth)
        {
            CheckFamily(sources[i], addressWidth, "source");
            sources[i].WriteTo(destination[o..]);
        }
        AuxData.Span.CopyTo(destination[o..]);
        return len;
    }

    internal static void CheckFamily(IpAddress a, int width, string what)
    {
        if (a.WireLength != width) throw new ArgumentException($"The {what} {a} is not an IPv{(width == 4 ? 4 : 6)} address.");
    }
}

/// <summary>A list of source addresses over the wire bytes (4 or 16 bytes each). Allocation-free.</summary>
public readonly ref struct SourceList
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly int _width;

    internal SourceList(ReadOnlySpan<byte> data, int count, int width)
    {
        _data = data[..(count * width)];
        _width = width;
        Count = count;
    }

    public int Count { get; }

    public IpAddress this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
            var b = _data.Slice(index * _width, _width);
            return _width == 4 ? IpAddress.FromV4(b) : IpAddress.FromV6(b);
        }
    }

    public Enumerator GetEnumerator() => new(this);

    public ref struct Enumerator
    {
        private readonly SourceList _list;
        private int _index;

        internal Enumerator(SourceList list) { _list = list; _index = -1; }

        public bool MoveNext() => ++_index < _list.Count;
        public readonly IpAddress Current => _list[_index];
    }
}

/// <summary>One group record as read from the wire.</summary>
public readonly ref struct GroupRecordView
{
    internal GroupRecordView(ReadOnlySpan<byte> record, int width)
    {
        Type = (GroupRecordType)record[0];
        AuxDataWords = record[1];
        int n = BinaryPrimitives.ReadUInt16BigEndian(record[2..]);
        Group = width == 4 ? IpAddress.FromV4(record[4..]) : IpAddress.FromV6(record[4..]);
        Sources = new SourceList(record[(4 + width)..], n, width);
        int auxStart = 4 + width * (1 + n);
        AuxData = record.Slice(auxStart, AuxDataWords * 4);
        Length = auxStart + AuxDataWords * 4;
    }

    /// <summary>The raw type; values outside 1..6 must be ignored by receivers (RFC 3376 §4.2.12).</summary>
    public GroupRecordType Type { get; }
    public bool IsKnownType => Type is >= GroupRecordType.ModeIsInclude and <= GroupRecordType.BlockOldSources;
    public byte AuxDataWords { get; }
    public IpAddress Group { get; }
    public SourceList Sources { get; }
    public ReadOnlySpan<byte> AuxData { get; }
    /// <summary>Bytes this record occupies.</summary>
    public int Length { get; }
}

/// <summary>The group records of a report, validated on read; enumeration cannot fail and does not allocate.</summary>
public readonly ref struct GroupRecordList
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly int _width;

    private GroupRecordList(ReadOnlySpan<byte> data, int count, int width, int length)
    {
        _data = data[..length];
        Count = count;
        _width = width;
        Length = length;
    }

    public int Count { get; }
    /// <summary>Bytes occupied by all records.</summary>
    public int Length { get; }

    public Enumerator GetEnumerator() => new(_data, Count, _width);

    /// <summary>
    /// Validates <paramref name="count"/> records at the start of <paramref name="data"/>.
    /// <paramref name="baseOffset"/> is where <paramref name="data"/> starts in the reader's input and
    /// <paramref name="countOffset"/> where the count field is, for exception offsets.
    /// </summary>
    internal static ReadStatus Parse(ReadOnlySpan<byte> data, int count, int width, int baseOffset, int countOffset, out GroupRecordList records, out PacketFault fault)
    {
        records = default;
        fault = default;
        int min = 4 + width;
        // Reject a huge count before walking: every record needs at least its fixed part.
        if ((long)count * min > data.Length) return PacketFault.Fail(out fault, PacketError.BadRecordCount, countOffset);
        int o = 0;
        for (int i = 0; i < count; i++)
        {
            if (data.Length - o < min) return PacketFault.Fail(out fault, PacketError.Truncated, baseOffset + o);
            int n = BinaryPrimitives.ReadUInt16BigEndian(data[(o + 2)..]);
            int aux = data[o + 1] * 4;
            long len = min + (long)n * width + aux;
            if (len > data.Length - o) return PacketFault.Fail(out fault, PacketError.BadSourceCount, baseOffset + o + 2);
            o += (int)len;
        }
        records = new GroupRecordList(data, count, width, o);
        return ReadStatus.Ok;
    }

    public ref struct Enumerator
    {
        private readonly ReadOnlySpan<byte> _data;
        private readonly int _count;
        private readonly int _width;
        private int _index;
        private int _offset;
        private int _next;

        internal Enumerator(ReadOnlySpan<byte> data, int count, int width)
        {
            _data = data;
            _count = count;
            _width = width;
            _index = -1;
            _offset = 0;
            _next = 0;
        }

        public bool MoveNext()
        {
            if (_index + 1 >= _count) return false;
            _index++;
            _offset = _next;
            _next = _offset + new GroupRecordView(_data[_offset..], _width).Length;
            return true;
        }

        public readonly GroupRecordView Current => new(_data[_offset..], _width);
    }
}
