using System.Buffers.Binary;
using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.OpenFlow.Protocol;

/// <summary>
/// One OXM TLV (spec §7.2.3.2):
/// <code>
/// | oxm_class (16) | field (7) | hasmask (1) | length (8) | value (length or length/2) | mask |
/// </code>
/// </summary>
public readonly ref struct OxmEntry
{
    public OxmEntry(uint header, ReadOnlySpan<byte> value, ReadOnlySpan<byte> mask, ReadOnlySpan<byte> raw)
    { Header = header; Value = value; Mask = mask; Raw = raw; }

    public uint Header { get; }
    public ushort Class => (ushort)(Header >> 16);
    public byte Field => (byte)((Header >> 9) & 0x7F);
    public bool HasMask => (Header & 0x100) != 0;
    public bool IsBasic => Class == Oxm.BasicClass;
    public ReadOnlySpan<byte> Value { get; }
    public ReadOnlySpan<byte> Mask { get; }

    /// <summary>The whole TLV including its header.</summary>
    public ReadOnlySpan<byte> Raw { get; }
}

public static class Oxm
{
    public const ushort BasicClass = 0x8000;
    public const int HeaderLength = 4;

    public static uint Header(OxmField field, int valueLength, bool hasMask = false) =>
        ((uint)BasicClass << 16) | ((uint)field << 9) | (hasMask ? 0x100u : 0) | (uint)(hasMask ? valueLength * 2 : valueLength);

    /// <summary>Value length of a basic-class field, or -1 when this codec does not know the field.</summary>
    public static int ValueLength(byte field) => (OxmField)field switch
    {
        OxmField.InPort or OxmField.InPhyPort or OxmField.Ipv4Src or OxmField.Ipv4Dst => 4,
        OxmField.Metadata => 8,
        OxmField.EthDst or OxmField.EthSrc => 6,
        OxmField.EthType or OxmField.VlanVid or OxmField.TcpSrc or OxmField.TcpDst or OxmField.UdpSrc or OxmField.UdpDst => 2,
        OxmField.VlanPcp or OxmField.IpDscp or OxmField.IpEcn or OxmField.IpProto or OxmField.Icmpv4Type or OxmField.Icmpv6Type => 1,
        OxmField.Ipv6Src or OxmField.Ipv6Dst => 16,
        _ => -1,
    };
}

/// <summary>Enumerates the OXM TLVs of a match without allocating; validates each length.</summary>
public ref struct OxmEnumerator
{
    private readonly ReadOnlySpan<byte> _span;
    private readonly int _base;
    private int _pos;

    public OxmEnumerator(ReadOnlySpan<byte> oxms, int baseOffset) { _span = oxms; _base = baseOffset; _pos = 0; Current = default; }

    public OxmEntry Current { get; private set; }
    public readonly OxmEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        int remaining = _span.Length - _pos;
        if (remaining == 0) return false;
        if (remaining < Oxm.HeaderLength) throw new OpenFlowFormatException($"truncated OXM header: {remaining} bytes left", _base + _pos);
        uint header = BinaryPrimitives.ReadUInt32BigEndian(_span[_pos..]);
        int len = (int)(header & 0xFF);
        bool hasMask = (header & 0x100) != 0;
        if (len > remaining - Oxm.HeaderLength)
            throw new OpenFlowFormatException($"truncated OXM: length {len} but {remaining - Oxm.HeaderLength} bytes left", _base + _pos + 3);
        if (len == 0) throw new OpenFlowFormatException("OXM with zero-length payload", _base + _pos + 3);
        if (hasMask && len % 2 != 0) throw new OpenFlowFormatException($"masked OXM with odd length {len}", _base + _pos + 3);
        if ((header >> 16) == Oxm.BasicClass)
        {
            int expected = Oxm.ValueLength((byte)((header >> 9) & 0x7F));
            if (expected >= 0 && len != (hasMask ? expected * 2 : expected))
                throw new OpenFlowFormatException($"OXM field {(header >> 9) & 0x7F} has length {len}, expected {(hasMask ? expected * 2 : expected)}", _base + _pos + 3);
        }
        var payload = _span.Slice(_pos + Oxm.HeaderLength, len);
        int valueLength = hasMask ? len / 2 : len;
        Current = new OxmEntry(header, payload[..valueLength], payload[valueLength..], _span.Slice(_pos, Oxm.HeaderLength + len));
        _pos += Oxm.HeaderLength + len;
        return true;
    }
}

/// <summary>
/// An OXM match (spec §7.2.3.1: type=OFPMT_OXM, length without padding, TLVs, zero pad to 8).
/// The fields this controller uses are typed (ipv4_dst and ipv6_dst also with a mask); anything else (other masked fields, other fields,
/// experimenter classes) is kept verbatim in <see cref="Extra"/> so that decode → encode is exact.
/// </summary>
public sealed record OfpMatch
{
    public uint? InPort { get; init; }
    public MacAddress? EthDst { get; init; }
    public ushort? EthType { get; init; }
    /// <summary>The raw vlan_vid value: 0x1000 | VID for a tagged frame (OFPVID_PRESENT).</summary>
    public ushort? VlanVid { get; init; }
    public byte? IpProto { get; init; }
    public uint? Ipv4Dst { get; init; }
    /// <summary>With <see cref="Ipv4Dst"/>: a prefix match (OXM_OF_IPV4_DST_W); null for an exact match.</summary>
    public uint? Ipv4DstMask { get; init; }
    public IpAddress? Ipv6Dst { get; init; }
    /// <summary>With <see cref="Ipv6Dst"/>: a prefix match (OXM_OF_IPV6_DST_W); null for an exact match.</summary>
    public IpAddress? Ipv6DstMask { get; init; }
    public ushort? UdpDst { get; init; }
    public byte? Icmpv6Type { get; init; }
    public byte[] Extra { get; init; } = [];

    public static readonly OfpMatch Any = new();

    public int OxmLength =>
        (InPort is null ? 0 : 8) + (EthDst is null ? 0 : 10) + (EthType is null ? 0 : 6) + (VlanVid is null ? 0 : 6) +
        (IpProto is null ? 0 : 5) + (Ipv4Dst is null ? 0 : Ipv4DstMask is null ? 8 : 12) + (Ipv6Dst is null ? 0 : Ipv6DstMask is null ? 20 : 36) + (UdpDst is null ? 0 : 6) + (Icmpv6Type is null ? 0 : 5) + Extra.Length;

    /// <summary>Bytes on the wire including the 4-byte match header and the padding.</summary>
    public int EncodedLength => SpanWriter.Pad8(4 + OxmLength);

    public void Write(ref SpanWriter w)
    {
        int unpadded = 4 + OxmLength;
        w.U16(Ofp.MatchTypeOxm);
        w.U16((ushort)unpadded);
        if (InPort is { } p) { w.U32(Oxm.Header(OxmField.InPort, 4)); w.U32(p); }
        if (EthDst is { } mac) { w.U32(Oxm.Header(OxmField.EthDst, 6)); w.U16((ushort)(mac.Value >> 32)); w.U32((uint)mac.Value); }
        if (EthType is { } et) { w.U32(Oxm.Header(OxmField.EthType, 2)); w.U16(et); }
        if (VlanVid is { } vid) { w.U32(Oxm.Header(OxmField.VlanVid, 2)); w.U16(vid); }
        if (IpProto is { } proto) { w.U32(Oxm.Header(OxmField.IpProto, 1)); w.U8(proto); }
        if (Ipv4Dst is { } v4)
        {
            w.U32(Oxm.Header(OxmField.Ipv4Dst, 4, Ipv4DstMask.HasValue));
            w.U32(v4);
            if (Ipv4DstMask is { } m4) w.U32(m4);
        }
        if (Ipv6Dst is { } v6)
        {
            w.U32(Oxm.Header(OxmField.Ipv6Dst, 16, Ipv6DstMask.HasValue));
            w.U64(v6.High); w.U64(v6.Low);
            if (Ipv6DstMask is { } m6) { w.U64(m6.High); w.U64(m6.Low); }
        }
        if (UdpDst is { } udp) { w.U32(Oxm.Header(OxmField.UdpDst, 2)); w.U16(udp); }
        if (Icmpv6Type is { } icmp6) { w.U32(Oxm.Header(OxmField.Icmpv6Type, 1)); w.U8(icmp6); }
        w.Bytes(Extra);
        w.Zero(SpanWriter.Pad8(unpadded) - unpadded);
    }

    /// <summary>Reads ofp_match (with its padding) from <paramref name="r"/>.</summary>
    public static OfpMatch Read(ref SpanReader r)
    {
        var oxms = ReadOxms(ref r, out int oxmOffset);
        return FromOxms(oxms, oxmOffset);
    }

    /// <summary>Reads the match header and padding, returning the OXM bytes (allocation-free).</summary>
    public static ReadOnlySpan<byte> ReadOxms(ref SpanReader r, out int oxmOffset)
    {
        int start = r.Offset;
        ushort type = r.U16("match type");
        ushort length = r.U16("match length");
        if (type != Ofp.MatchTypeOxm) throw new OpenFlowFormatException($"match type {type} is not OFPMT_OXM", start);
        if (length < 4) throw new OpenFlowFormatException($"match length {length} is less than 4", start + 2);
        oxmOffset = r.Offset;
        var oxms = r.Bytes(length - 4, "match");
        int pad = SpanWriter.Pad8(length) - length;
        r.Skip(pad, "match padding");
        return oxms;
    }

    public static OfpMatch FromOxms(ReadOnlySpan<byte> oxms, int baseOffset)
    {
        // Fields are gathered in locals and the record built once: a `with` per field cloned the whole record for every
        // field read (three objects for a group flow's eth_type + ipv4_dst, on every FLOW_MOD an emulated switch decodes).
        uint? inPort = null, ipv4Dst = null, ipv4DstMask = null;
        MacAddress? ethDst = null;
        ushort? ethType = null, vlanVid = null, udpDst = null;
        byte? ipProto = null, icmpv6Type = null;
        IpAddress? ipv6Dst = null, ipv6DstMask = null;
        byte[]? extra = null;
        int extraLen = 0;
        foreach (var e in new OxmEnumerator(oxms, baseOffset))
        {
            if (e.IsBasic && !e.HasMask)
            {
                var v = e.Value;
                switch ((OxmField)e.Field)
                {
                    case OxmField.InPort when inPort is null: inPort = BinaryPrimitives.ReadUInt32BigEndian(v); continue;
                    case OxmField.EthDst when ethDst is null: ethDst = MacAddress.Read(v); continue;
                    case OxmField.EthType when ethType is null: ethType = BinaryPrimitives.ReadUInt16BigEndian(v); continue;
                    case OxmField.VlanVid when vlanVid is null: vlanVid = BinaryPrimitives.ReadUInt16BigEndian(v); continue;
                    case OxmField.IpProto when ipProto is null: ipProto = v[0]; continue;
                    case OxmField.Ipv4Dst when ipv4Dst is null: ipv4Dst = BinaryPrimitives.ReadUInt32BigEndian(v); continue;
                    case OxmField.Ipv6Dst when ipv6Dst is null: ipv6Dst = IpAddress.FromV6(v); continue;
                    case OxmField.UdpDst when udpDst is null: udpDst = BinaryPrimitives.ReadUInt16BigEndian(v); continue;
                    case OxmField.Icmpv6Type when icmpv6Type is null: icmpv6Type = v[0]; continue;
                }
            }
            if (e.IsBasic && e.HasMask)
            {
                switch ((OxmField)e.Field)
                {
                    case OxmField.Ipv4Dst when ipv4Dst is null:
                        ipv4Dst = BinaryPrimitives.ReadUInt32BigEndian(e.Value); ipv4DstMask = BinaryPrimitives.ReadUInt32BigEndian(e.Mask);
                        continue;
                    case OxmField.Ipv6Dst when ipv6Dst is null:
                        ipv6Dst = IpAddress.FromV6(e.Value); ipv6DstMask = IpAddress.FromV6(e.Mask);
                        continue;
                }
            }
            extra ??= new byte[oxms.Length];
            e.Raw.CopyTo(extra.AsSpan(extraLen));
            extraLen += e.Raw.Length;
        }
        return new OfpMatch
        {
            InPort = inPort, EthDst = ethDst, EthType = ethType, VlanVid = vlanVid, IpProto = ipProto,
            Ipv4Dst = ipv4Dst, Ipv4DstMask = ipv4DstMask, Ipv6Dst = ipv6Dst, Ipv6DstMask = ipv6DstMask,
            UdpDst = udpDst, Icmpv6Type = icmpv6Type, Extra = extra is null ? [] : extra[..extraLen],
        };
    }

    /// <summary>Same typed fields and same extra bytes (field order on the wire does not matter for typed fields).</summary>
    public bool SameAs(OfpMatch other) =>
        InPort == other.InPort && EthDst == other.EthDst && EthType == other.EthType && VlanVid == other.VlanVid &&
        IpProto == other.IpProto && Ipv4Dst == other.Ipv4Dst && Ipv4DstMask == other.Ipv4DstMask &&
        Ipv6Dst == other.Ipv6Dst && Ipv6DstMask == other.Ipv6DstMask && UdpDst == other.UdpDst &&
        Icmpv6Type == other.Icmpv6Type &&
        Extra.AsSpan().SequenceEqual(other.Extra);

    public override string ToString()
    {
        var parts = new List<string>();
        if (InPort is { } p) parts.Add($"in_port={p}");
        if (EthDst is { } d) parts.Add($"eth_dst={d}");
        if (EthType is { } t) parts.Add($"eth_type=0x{t:x4}");
        if (VlanVid is { } v) parts.Add($"vlan_vid=0x{v:x4}");
        if (IpProto is { } ip) parts.Add($"ip_proto={ip}");
        if (Ipv4Dst is { } a) parts.Add(Ipv4DstMask is { } am ? $"ipv4_dst={IpAddress.FromV4(a)}/{IpAddress.FromV4(am)}" : $"ipv4_dst={IpAddress.FromV4(a)}");
        if (Ipv6Dst is { } b) parts.Add(Ipv6DstMask is { } bm ? $"ipv6_dst={b}/{bm}" : $"ipv6_dst={b}");
        if (UdpDst is { } u) parts.Add($"udp_dst={u}");
        if (Icmpv6Type is { } i6) parts.Add($"icmpv6_type={i6}");
        if (Extra.Length > 0) parts.Add($"+{Extra.Length}B");
        return parts.Count == 0 ? "any" : string.Join(',', parts);
    }
}
