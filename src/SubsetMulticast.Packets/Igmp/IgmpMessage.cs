using System.Buffers.Binary;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Packets.Ip;

namespace SubsetMulticast.Packets.Igmp;

public enum IgmpType : byte
{
    MembershipQuery = 0x11,
    V1MembershipReport = 0x12,
    V2MembershipReport = 0x16,
    LeaveGroup = 0x17,
    V3MembershipReport = 0x22,
}

/// <summary>
/// An IGMP message (RFC 1112, RFC 2236, RFC 3376).
/// <code>
/// v1/v2:     type | maxresp | cksum(2) | group(4)                                  (8 bytes)
/// v3 query:  0x11 | MRC | cksum(2) | group(4) | resv(4) S(1) QRV(3) | QQIC | nsrc(2) | srcs   (≥ 12)
/// v3 report: 0x22 | rsv | cksum(2) | rsv(2) | nrec(2) | records
/// </code>
/// </summary>
public readonly ref struct IgmpMessage
{
    public const int V2Length = 8;
    public const int V3QueryMinLength = 12;
    public const int V3ReportHeaderLength = 8;

    private readonly ReadOnlySpan<byte> _message;

    private IgmpMessage(ReadOnlySpan<byte> message, int version, SourceList sources, GroupRecordList records)
    {
        _message = message;
        Version = version;
        Sources = sources;
        Records = records;
    }

    public IgmpType Type => (IgmpType)_message[0];
    /// <summary>1, 2 or 3 (RFC 3376 §7.1 rules for queries); 0 for a type we do not know (ignore it).</summary>
    public int Version { get; }
    public bool IsQuery => Type == IgmpType.MembershipQuery;
    /// <summary>The raw Max Resp Code byte (v2 tenths of a second; v3 floating point).</summary>
    public byte MaxResponseCode => _message[1];
    /// <summary>Max response time in tenths of a second; 100 (10 s) for an IGMPv1 query (RFC 2236 §4).</summary>
    public int MaxResponseDeciseconds => Version switch
    {
        3 when IsQuery => FloatCode.Decode8(MaxResponseCode),
        1 when IsQuery => 100,
        _ => MaxResponseCode,
    };
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_message[2..]);
    /// <summary>Group address of queries and v1/v2 reports and leaves; unspecified for a v3 report.</summary>
    public IpAddress Group => Type == IgmpType.V3MembershipReport ? IpAddress.FromV4(0) : IpAddress.FromV4(_message[4..]);
    /// <summary>v3 query S flag.</summary>
    public bool SuppressRouterProcessing => Version == 3 && IsQuery && (_message[8] & 0x08) != 0;
    /// <summary>v3 query QRV (0 when absent).</summary>
    public byte Qrv => Version == 3 && IsQuery ? (byte)(_message[8] & 0x07) : (byte)0;
    public byte Qqic => Version == 3 && IsQuery ? _message[9] : (byte)0;
    public int QueryIntervalSeconds => FloatCode.Decode8(Qqic);
    /// <summary>v3 query sources (empty otherwise).</summary>
    public SourceList Sources { get; }
    /// <summary>v3 report records (empty otherwise).</summary>
    public GroupRecordList Records { get; }
    public int Length => _message.Length;

    /// <summary>
    /// Reads an IGMP message that fills <paramref name="message"/> (the IP payload) and verifies its checksum.
    /// False only when fewer than 8 bytes are present.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> message, out IgmpMessage m) => Read(message, out m, out var fault).Succeeded(fault);

    /// <summary>As <see cref="TryRead"/>, without throwing: malformed input is <see cref="ReadStatus.Malformed"/> and a <paramref name="fault"/>.</summary>
    public static ReadStatus Read(ReadOnlySpan<byte> message, out IgmpMessage m, out PacketFault fault)
    {
        fault = default;
        m = default;
        if (message.Length < V2Length) return ReadStatus.NeedMoreBytes;
        if (!InternetChecksum.IsValid(InternetChecksum.Sum(message))) return PacketFault.Fail(out fault, PacketError.BadChecksum, 2);
        int version;
        SourceList sources = default;
        GroupRecordList records = default;
        switch ((IgmpType)message[0])
        {
            case IgmpType.MembershipQuery:
                // RFC 3376 §7.1: 8 bytes → v1 (code 0) or v2; ≥ 12 → v3; anything else is ignored.
                if (message.Length == V2Length) version = message[1] == 0 ? 1 : 2;
                else if (message.Length < V3QueryMinLength) return PacketFault.Fail(out fault, PacketError.BadLength, 0);
                else
                {
                    version = 3;
                    int n = BinaryPrimitives.ReadUInt16BigEndian(message[10..]);
                    if ((long)n * 4 > message.Length - V3QueryMinLength) return PacketFault.Fail(out fault, PacketError.BadSourceCount, 10);
                    sources = new SourceList(message[V3QueryMinLength..], n, 4);
                }
                break;
            case IgmpType.V1MembershipReport: version = 1; break;
            case IgmpType.V2MembershipReport:
            case IgmpType.LeaveGroup: version = 2; break;
            case IgmpType.V3MembershipReport:
                version = 3;
                int count = BinaryPrimitives.ReadUInt16BigEndian(message[6..]);
                var parsed = GroupRecordList.Parse(message[V3ReportHeaderLength..], count, 4, V3ReportHeaderLength, 6, out records, out fault);
                if (parsed != ReadStatus.Ok) return parsed;
                break;
            default: version = 0; break; // RFC 3376 §4: unrecognized types are ignored, not malformed.
        }
        m = new IgmpMessage(message, version, sources, records);
        return ReadStatus.Ok;
    }

    /// <summary>
    /// Reads the IGMP message of <paramref name="ip"/> and applies the IP-level rules: TTL 1 (RFC 2236 §2,
    /// RFC 3376 §4) → <see cref="PacketError.BadTtl"/>; Router Alert on IGMPv3 (RFC 3376 §9.1) →
    /// <see cref="PacketError.MissingRouterAlert"/>; reports and leaves name a multicast group and queries
    /// name 0 or a multicast group → <see cref="PacketError.BadAddress"/>. Offsets are relative to the IP header.
    /// </summary>
    public static bool TryReadPacket(scoped in IpPacket ip, out IgmpMessage m) => ReadPacket(in ip, out m, out var fault).Succeeded(fault);

    /// <summary>As <see cref="TryReadPacket"/>, without throwing: malformed input is <see cref="ReadStatus.Malformed"/> and a <paramref name="fault"/>.</summary>
    public static ReadStatus ReadPacket(scoped in IpPacket ip, out IgmpMessage m, out PacketFault fault)
    {
        fault = default;
        m = default;
        if (ip.Version != 4 || ip.Protocol != IpProtocols.Igmp) throw new ArgumentException("The packet does not carry IGMP.", nameof(ip));
        if (ip.Ttl != 1) return PacketFault.Fail(out fault, PacketError.BadTtl, 8);
        var status = Read(ip.Payload, out m, out fault);
        if (status == ReadStatus.Malformed) fault = fault.Shift(ip.PayloadOffset);
        if (status != ReadStatus.Ok) return status;
        if (m.Version == 3 && !ip.HasRouterAlert) return PacketFault.Fail(out fault, PacketError.MissingRouterAlert, 0);
        var g = m.Group;
        bool ok = m.Type switch
        {
            IgmpType.MembershipQuery => g.IsUnspecified || g.IsMulticast,
            IgmpType.V1MembershipReport or IgmpType.V2MembershipReport or IgmpType.LeaveGroup => g.IsMulticast,
            _ => true,
        };
        if (!ok) return PacketFault.Fail(out fault, PacketError.BadAddress, ip.PayloadOffset + 4);
        return ReadStatus.Ok;
    }

    /// <summary>Writes an 8-byte v1/v2 message (query, report or leave) with checksum.</summary>
    public static int WriteV2(Span<byte> destination, IgmpType type, byte maxResponseDeciseconds, IpAddress group)
    {
        GroupRecord.CheckFamily(group, 4, "group");
        Guard.Room(destination, V2Length);
        destination[0] = (byte)type;
        destination[1] = maxResponseDeciseconds;
        destination[2] = destination[3] = 0;
        group.WriteTo(destination[4..]);
        SetChecksum(destination[..V2Length]);
        return V2Length;
    }

    public static int GetV3QueryLength(int sourceCount) => V3QueryMinLength + 4 * sourceCount;

    /// <summary>Writes an IGMPv3 query; times are encoded with <see cref="FloatCode.Encode8"/>.</summary>
    public static int WriteV3Query(Span<byte> destination, int maxResponseDeciseconds, IpAddress group, bool suppressRouterProcessing,
        byte qrv, int queryIntervalSeconds, ReadOnlySpan<IpAddress> sources)
    {
        GroupRecord.CheckFamily(group, 4, "group");
        if (sources.Length > ushort.MaxValue) throw new ArgumentException("Too many sources.", nameof(sources));
        int len = GetV3QueryLength(sources.Length);
        Guard.Room(destination, len);
        destination[0] = (byte)IgmpType.MembershipQuery;
        destination[1] = FloatCode.Encode8(maxResponseDeciseconds);
        destination[2] = destination[3] = 0;
        group.WriteTo(destination[4..]);
        destination[8] = (byte)((suppressRouterProcessing ? 0x08 : 0) | (qrv > 7 ? 0 : qrv));
        destination[9] = FloatCode.Encode8(queryIntervalSeconds);
        BinaryPrimitives.WriteUInt16BigEndian(destination[10..], (ushort)sources.Length);
        for (int i = 0; i < sources.Length; i++)
        {
            GroupRecord.CheckFamily(sources[i], 4, "source");
            sources[i].WriteTo(destination[(12 + 4 * i)..]);
        }
        SetChecksum(destination[..len]);
        return len;
    }

    public static int GetV3ReportLength(ReadOnlySpan<GroupRecord> records)
    {
        int len = V3ReportHeaderLength;
        for (int i = 0; i < records.Length; i++) len += records[i].WireLength(4);
        return len;
    }

    /// <summary>Writes an IGMPv3 report (type 0x22) with checksum.</summary>
    public static int WriteV3Report(Span<byte> destination, ReadOnlySpan<GroupRecord> records)
    {
        if (records.Length > ushort.MaxValue) throw new ArgumentException("Too many records.", nameof(records));
        int len = GetV3ReportLength(records);
        Guard.Room(destination, len);
        destination[..V3ReportHeaderLength].Clear();
        destination[0] = (byte)IgmpType.V3MembershipReport;
        BinaryPrimitives.WriteUInt16BigEndian(destination[6..], (ushort)records.Length);
        int o = V3ReportHeaderLength;
        for (int i = 0; i < records.Length; i++) o += records[i].Write(destination[o..], 4);
        SetChecksum(destination[..len]);
        return len;
    }

    private static void SetChecksum(Span<byte> message)
    {
        message[2] = message[3] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(message[2..], InternetChecksum.Finish(InternetChecksum.Sum(message)));
    }
}
