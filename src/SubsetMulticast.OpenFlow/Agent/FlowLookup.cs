using SubsetMulticast.Core.Addressing;
using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.OpenFlow.Agent;

/// <summary>
/// The header fields of one frame that table 0 can match, as a data plane reads them. Absent fields are 0:
/// <see cref="VlanVid"/> is <c>0x1000 | VID</c> for a tagged frame and 0 (OFPVID_NONE) for an untagged one;
/// <see cref="IpProto"/>, the addresses and the L4 fields are 0 unless the frame is IPv4 / IPv6.
/// </summary>
public readonly record struct PacketFields(
    uint InPort, MacAddress EthDst, ushort EthType, ushort VlanVid, byte IpProto,
    uint Ipv4Dst, IpAddress Ipv6Dst, ushort UdpDst, byte Icmpv6Type);

/// <summary>
/// What table 0 decided for a frame. <see cref="Matched"/> false is a table miss. <see cref="Ports"/> are the
/// physical output ports (explicit OUTPUTs and the buckets of ALL groups), ingress not removed.
/// </summary>
public readonly record struct FlowDecision(bool Matched, ReadOnlyMemory<uint> Ports, bool ToController, bool Normal, bool Flood, ulong Cookie)
{
    public static readonly FlowDecision Miss = default;
}

/// <summary>
/// Table 0 flattened for the data plane: flows by descending priority (ties in insertion order, as OVS
/// leaves overlapping equal priorities unspecified), each with its actions resolved to port arrays.
/// Built once per table change; a lookup walks it and allocates nothing.
/// </summary>
internal sealed class CompiledFlowTable
{
    private readonly Entry[] _entries;

    private CompiledFlowTable(Entry[] entries) => _entries = entries;

    public int Count => _entries.Length;

    public static CompiledFlowTable Build(List<FlowMod> flows, Dictionary<uint, GroupMod> groups)
    {
        var entries = new List<Entry>(flows.Count);
        foreach (var f in flows)
        {
            if (f.TableId != 0 || f.Match.Extra.Length != 0) continue; // only table 0; fields we cannot read never match
            var ports = new List<uint>();
            bool controller = false, normal = false, flood = false;
            foreach (var instruction in f.Instructions)
            {
                if (instruction is not ApplyActions apply) continue;
                foreach (var action in apply.Actions)
                {
                    if (action is OutputAction o) Output(o.Port);
                    else if (action is GroupAction g && groups.TryGetValue(g.GroupId, out var group))
                        foreach (var bucket in group.Buckets)
                            foreach (var ba in bucket.Actions)
                                if (ba is OutputAction bo) Output(bo.Port);
                }
            }
            entries.Add(new Entry(f.Priority, f.Cookie, f.Match, [.. ports.Distinct()], controller, normal, flood));

            void Output(uint port)
            {
                switch (port)
                {
                    case Ofp.PortController: controller = true; break;
                    case Ofp.PortNormal: normal = true; break;
                    case Ofp.PortFlood or Ofp.PortAll: flood = true; break;
                    case < Ofp.PortMax: ports.Add(port); break;
                }
            }
        }
        // Stable: equal priorities keep insertion order.
        return new CompiledFlowTable([.. entries.Select((e, i) => (e, i)).OrderByDescending(x => x.e.Priority).ThenBy(x => x.i).Select(x => x.e)]);
    }

    public FlowDecision Lookup(in PacketFields p)
    {
        foreach (var e in _entries)
            if (e.Matches(in p)) return new FlowDecision(true, e.Ports, e.ToController, e.Normal, e.Flood, e.Cookie);
        return FlowDecision.Miss;
    }

    private sealed class Entry(ushort priority, ulong cookie, OfpMatch m, uint[] ports, bool toController, bool normal, bool flood)
    {
        // The match unpacked into plain fields (has-flag + value) so that matching reads no nullable boxes.
        private readonly bool _hasInPort = m.InPort.HasValue, _hasEthDst = m.EthDst.HasValue, _hasEthType = m.EthType.HasValue,
            _hasVlan = m.VlanVid.HasValue, _hasProto = m.IpProto.HasValue, _hasV4 = m.Ipv4Dst.HasValue, _hasV6 = m.Ipv6Dst.HasValue,
            _hasUdp = m.UdpDst.HasValue, _hasIcmp6 = m.Icmpv6Type.HasValue;
        // An exact match is a prefix match with an all-ones mask.
        private readonly uint _inPort = m.InPort ?? 0, _v4Mask = m.Ipv4DstMask ?? uint.MaxValue, _v4 = (m.Ipv4Dst ?? 0) & (m.Ipv4DstMask ?? uint.MaxValue);
        private readonly ulong _v6MaskHigh = m.Ipv6DstMask?.High ?? ulong.MaxValue, _v6MaskLow = m.Ipv6DstMask?.Low ?? ulong.MaxValue;
        private readonly MacAddress _ethDst = m.EthDst ?? default;
        private readonly ushort _ethType = m.EthType ?? 0, _vlan = m.VlanVid ?? 0, _udp = m.UdpDst ?? 0;
        private readonly byte _proto = m.IpProto ?? 0, _icmp6 = m.Icmpv6Type ?? 0;
        private readonly IpAddress _v6 = m.Ipv6Dst is { } v6 ? IpAddress.FromV6(v6.High & (m.Ipv6DstMask?.High ?? ulong.MaxValue), v6.Low & (m.Ipv6DstMask?.Low ?? ulong.MaxValue)) : default;

        public ushort Priority { get; } = priority;
        public ulong Cookie { get; } = cookie;
        public uint[] Ports { get; } = ports;
        public bool ToController { get; } = toController;
        public bool Normal { get; } = normal;
        public bool Flood { get; } = flood;

        public bool Matches(in PacketFields p) =>
            (!_hasInPort || _inPort == p.InPort) && (!_hasEthType || _ethType == p.EthType) &&
            (!_hasVlan || _vlan == p.VlanVid) && (!_hasV4 || (_v4 == (p.Ipv4Dst & _v4Mask) && p.EthType == 0x0800)) &&
            (!_hasV6 || (_v6.High == (p.Ipv6Dst.High & _v6MaskHigh) && _v6.Low == (p.Ipv6Dst.Low & _v6MaskLow) && p.EthType == 0x86DD)) && (!_hasProto || _proto == p.IpProto) &&
            (!_hasUdp || (_udp == p.UdpDst && p.IpProto == 17)) && (!_hasEthDst || _ethDst == p.EthDst) &&
            (!_hasIcmp6 || (_icmp6 == p.Icmpv6Type && p.IpProto == 58));
    }
}
