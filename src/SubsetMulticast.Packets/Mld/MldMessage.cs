using System.Buffers.Binary;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Packets.Ip;

namespace SubsetMulticast.Packets.Mld;

public enum MldType : byte
{
    Query = 130,
    V1Report = 131,
    V1Done = 132,
    V2Report = 143,
}

/// <summary>
/// An MLD message, ICMPv6 (RFC 2710 MLDv1, RFC 3810 MLDv2).
/// <code>
/// v1:        type | code | cksum(2) | maxdelay(2) | rsv(2) | mcast(16)                    (24 bytes)
/// v2 query:  130 | code | cksum(2) | MRC(2) | rsv(2) | mcast(16) | resv(4) S(1) QRV(3) | QQIC | nsrc(2) | srcs (≥ 28)
/// v2 report: 143 | rsv | cksum(2) | rsv(2) | nrec(2) | records
/// </code>
/// </summary>
public readonly ref struct MldMessage
{
    public const int V1Length = 24;
    public const int V2QueryMinLength = 28;
    public const int V2ReportHeaderLength = 8;

    private readonly ReadOnlySpan<byte> _message;

    private MldMessage(ReadOnlySpan<byte> message, int version, SourceList sources, GroupRecordList records)
    {
        _message = message;
        Version = version;
        Sources = sources;
        Records = records;
    }

    public MldType Type => (MldType)_message[0];
    /// <summary>1 or 2 (RFC 3810 §8.1 for queries); 0 for a type that is not MLD.</summary>
    public int Version { get; }
    public bool IsQuery => Type == MldType.Query;
    public byte Code => _message[1];
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_message[2..]);
    /// <summary>The raw Maximum Response Code/Delay field (queries).</summary>
    public ushort MaxResponseCode => IsQuery ? BinaryPrimitives.ReadUInt16BigEndian(_message[4..]) : (ushort)0;
    /// <summary>Maximum response delay in milliseconds (MLDv2 floating point decoded).</summary>
    public int MaxResponseDelayMilliseconds => Version == 2 ? FloatCode.Decode16(MaxResponseCode) : MaxResponseCode;
    /// <summary>Multicast address of queries and v1 reports/dones; unspecified for a v2 report.</summary>
    public IpAddress MulticastAddress => Version == 1 || IsQuery ? IpAddress.FromV6(_message[8..]) : IpAddress.FromV6(0, 0);
    public bool SuppressRouterProcessing => Version == 2 && IsQuery && (_message[24] & 0x08) != 0;
    public byte Qrv => Version == 2 && IsQuery ? (byte)(_message[24] & 0x07) : (byte)0;
    public byte Qqic => Version == 2 && IsQuery ? _message[25] : (byte)0;
    public int QueryIntervalSeconds => FloatCode.Decode8(Qqic);
    public SourceList Sources { get; }
    public GroupRecordList Records { get; }
    public int Length => _message.Length;

    /// <summary>
    /// Reads an MLD message filling <paramref name="message"/> (the ICMPv6 payload after the extension chain)
    /// and verifies the ICMPv6 checksum with the pseudo-header. False only when shorter than the type's fixed
    /// part. ICMPv6 types that are not MLD throw <see cref="PacketError.BadType"/>.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> message, IpAddress source, IpAddress destination, out MldMessage m) => Read(message, source, destination, out m, out var fault).Succeeded(fault);

    /// <summary>As <see cref="TryRead"/>, without throwing: malformed input is <see cref="ReadStatus.Malformed"/> and a <paramref name="fault"/>.</summary>
    public static ReadStatus Read(ReadOnlySpan<byte> message, IpAddress source, IpAddress destination, out MldMessage m, out PacketFault fault)
    {
        fault = default;
        m = default;
        if (message.Length < 4) return ReadStatus.NeedMoreBytes;
        int min = (MldType)message[0] switch
        {
            MldType.Query or MldType.V1Report or MldType.V1Done => V1Length,
            MldType.V2Report => V2ReportHeaderLength,
            _ => -1,
        };
        if (min < 0) return PacketFault.Fail(out fault, PacketError.BadType, 0);
        if (message.Length < min) return ReadStatus.NeedMoreBytes;
        uint sum = InternetChecksum.Sum(message, InternetChecksum.PseudoHeader(source, destination, IpProtocols.Icmpv6, message.Length));
        if (!InternetChecksum.IsValid(sum)) return PacketFault.Fail(out fault, PacketError.BadChecksum, 2);

        int version;
        SourceList sources = default;
        GroupRecordList records = default;
        switch ((MldType)message[0])
        {
            case MldType.Query:
                // RFC 3810 §8.1: 24 bytes → MLDv1; ≥ 28 → MLDv2; else ignore.
                if (message.Length == V1Length) version = 1;
                else if (message.Length < V2QueryMinLength) return PacketFault.Fail(out fault, PacketError.BadLength, 0);
                else
                {
                    version = 2;
                    int n = BinaryPrimitives.ReadUInt16BigEndian(message[26..]);
                    if ((long)n * 16 > message.Length - V2QueryMinLength) return PacketFault.Fail(out fault, PacketError.BadSourceCount, 26);
                    sources = new SourceList(message[V2QueryMinLength..], n, 16);
                }
                break;
            case MldType.V2Report:
                version = 2;
                int count = BinaryPrimitives.ReadUInt16BigEndian(message[6..]);
                var parsed = GroupRecordList.Parse(message[V2ReportHeaderLength..], count, 16, V2ReportHeaderLength, 6, out records, out fault);
                if (parsed != ReadStatus.Ok) return parsed;
                break;
            default: version = 1; break;
        }
        m = new MldMessage(message, version, sources, records);
        return ReadStatus.Ok;
    }

    /// <summary>
    /// Reads the MLD message of <paramref name="ip"/> and applies RFC 3810 §5 / RFC 2710 §3 IP-level rules:
    /// hop limit 1 → <see cref="PacketError.BadTtl"/>; Hop-by-Hop Router Alert → <see cref="PacketError.MissingRouterAlert"/>;
    /// link-local source (or :: for reports, RFC 3810 §5.2.13) → <see cref="PacketError.BadSourceAddress"/>;
    /// multicast address in v1 reports/dones and v2 records, unspecified or multicast in queries →
    /// <see cref="PacketError.BadAddress"/>. Offsets are relative to the IPv6 header.
    /// </summary>
    public static bool TryReadPacket(scoped in IpPacket ip, out MldMessage m) => ReadPacket(in ip, out m, out var fault).Succeeded(fault);

    /// <summary>As <see cref="TryReadPacket"/>, without throwing: malformed input is <see cref="ReadStatus.Malformed"/> and a <paramref name="fault"/>.</summary>
    public static ReadStatus ReadPacket(scoped in IpPacket ip, out MldMessage m, out PacketFault fault)
    {
        fault = default;
        m = default;
        if (ip.Version != 6 || ip.Protocol != IpProtocols.Icmpv6) throw new ArgumentException("The packet does not carry ICMPv6.", nameof(ip));
        if (ip.HopLimit != 1) return PacketFault.Fail(out fault, PacketError.BadTtl, 7);
        if (!ip.HasRouterAlert) return PacketFault.Fail(out fault, PacketError.MissingRouterAlert, 6);
        var status = Read(ip.Payload, ip.Source, ip.Destination, out m, out fault);
        if (status == ReadStatus.Malformed) fault = fault.Shift(ip.PayloadOffset);
        if (status != ReadStatus.Ok) return status;
        var src = ip.Source;
        bool linkLocal = (src.High >> 54) == (0xFE80UL >> 6);
        if (!(linkLocal || (src.IsUnspecified && !m.IsQuery))) return PacketFault.Fail(out fault, PacketError.BadSourceAddress, 8);
        if (m.Version == 1 || m.IsQuery)
        {
            var a = m.MulticastAddress;
            if (!(a.IsMulticast || (m.IsQuery && a.IsUnspecified))) return PacketFault.Fail(out fault, PacketError.BadAddress, ip.PayloadOffset + 8);
        }
        return ReadStatus.Ok;
    }

    /// <summary>Writes a 24-byte MLDv1 message (query, report or done). The checksum needs the addresses.</summary>
    public static int WriteV1(Span<byte> destination, IpAddress source, IpAddress dst, MldType type, ushort maxResponseDelayMilliseconds, IpAddress multicastAddress)
    {
        GroupRecord.CheckFamily(multicastAddress, 16, "multicast address");
        Guard.Room(destination, V1Length);
        var b = destination[..V1Length];
        b.Clear();
        b[0] = (byte)type;
        BinaryPrimitives.WriteUInt16BigEndian(b[4..], maxResponseDelayMilliseconds);
        multicastAddress.WriteTo(b[8..]);
        SetChecksum(b, source, dst);
        return V1Length;
    }

    public static int GetV2QueryLength(int sourceCount) => V2QueryMinLength + 16 * sourceCount;

    public static int WriteV2Query(Span<byte> destination, IpAddress source, IpAddress dst, int maxResponseDelayMilliseconds, IpAddress multicastAddress,
        bool suppressRouterProcessing, byte qrv, int queryIntervalSeconds, ReadOnlySpan<IpAddress> sources)
    {
        GroupRecord.CheckFamily(multicastAddress, 16, "multicast address");
        if (sources.Length > ushort.MaxValue) throw new ArgumentException("Too many sources.", nameof(sources));
        int len = GetV2QueryLength(sources.Length);
        Guard.Room(destination, len);
        var b = destination[..len];
        b[..V2QueryMinLength].Clear();
        b[0] = (byte)MldType.Query;
        BinaryPrimitives.WriteUInt16BigEndian(b[4..], FloatCode.Encode16(maxResponseDelayMilliseconds));
        multicastAddress.WriteTo(b[8..]);
        b[24] = (byte)((suppressRouterProcessing ? 0x08 : 0) | (qrv > 7 ? 0 : qrv));
        b[25] = FloatCode.Encode8(queryIntervalSeconds);
        BinaryPrimitives.WriteUInt16BigEndian(b[26..], (ushort)sources.Length);
        for (int i = 0; i < sources.Length; i++)
        {
            GroupRecord.CheckFamily(sources[i], 16, "source");
            sources[i].WriteTo(b[(V2QueryMinLength + 16 * i)..]);
        }
        SetChecksum(b, source, dst);
        return len;
    }

    public static int GetV2ReportLength(ReadOnlySpan<GroupRecord> records)
    {
        int len = V2ReportHeaderLength;
        for (int i = 0; i < records.Length; i++) len += records[i].WireLength(16);
        return len;
    }

    public static int WriteV2Report(Span<byte> destination, IpAddress source, IpAddress dst, ReadOnlySpan<GroupRecord> records)
    {
        if (records.Length > ushort.MaxValue) throw new ArgumentException("Too many records.", nameof(records));
        int len = GetV2ReportLength(records);
        Guard.Room(destination, len);
        var b = destination[..len];
        b[..V2ReportHeaderLength].Clear();
        b[0] = (byte)MldType.V2Report;
        BinaryPrimitives.WriteUInt16BigEndian(b[6..], (ushort)records.Length);
        int o = V2ReportHeaderLength;
        for (int i = 0; i < records.Length; i++) o += records[i].Write(b[o..], 16);
        SetChecksum(b, source, dst);
        return len;
    }

    internal static void SetChecksum(Span<byte> message, IpAddress source, IpAddress dst)
    {
        message[2] = message[3] = 0;
        uint sum = InternetChecksum.Sum(message, InternetChecksum.PseudoHeader(source, dst, IpProtocols.Icmpv6, message.Length));
        BinaryPrimitives.WriteUInt16BigEndian(message[2..], InternetChecksum.Finish(sum));
    }
}
