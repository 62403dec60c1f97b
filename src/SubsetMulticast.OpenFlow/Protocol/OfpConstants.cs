namespace SubsetMulticast.OpenFlow.Protocol;

/// <summary>OpenFlow 1.3.x message types (OpenFlow Switch Specification 1.3.5 §7.1, enum ofp_type).</summary>
public enum OfpType : byte
{
    Hello = 0, Error = 1, EchoRequest = 2, EchoReply = 3, Experimenter = 4,
    FeaturesRequest = 5, FeaturesReply = 6, GetConfigRequest = 7, GetConfigReply = 8, SetConfig = 9,
    PacketIn = 10, FlowRemoved = 11, PortStatus = 12, PacketOut = 13, FlowMod = 14, GroupMod = 15,
    PortMod = 16, TableMod = 17, MultipartRequest = 18, MultipartReply = 19,
    BarrierRequest = 20, BarrierReply = 21,
    RoleRequest = 24, RoleReply = 25, SetAsync = 28,
}

public enum MultipartType : ushort
{
    Desc = 0, Flow = 1, Aggregate = 2, Table = 3, PortStats = 4, Queue = 5,
    Group = 6, GroupDesc = 7, GroupFeatures = 8, Meter = 9, MeterConfig = 10, MeterFeatures = 11,
    TableFeatures = 12, PortDesc = 13, Experimenter = 0xFFFF,
}

public enum FlowModCommand : byte { Add = 0, Modify = 1, ModifyStrict = 2, Delete = 3, DeleteStrict = 4 }

public enum GroupModCommand : ushort { Add = 0, Modify = 1, Delete = 2 }

public enum GroupType : byte { All = 0, Select = 1, Indirect = 2, FastFailover = 3 }

public enum PortStatusReason : byte { Add = 0, Delete = 1, Modify = 2 }

public enum PacketInReason : byte { NoMatch = 0, Action = 1, InvalidTtl = 2 }

/// <summary>Well-known numbers used across the protocol.</summary>
public static class Ofp
{
    public const byte Version13 = 0x04;
    public const int HeaderLength = 8;

    /// <summary>The largest message the 16-bit length field can describe.</summary>
    public const int MaxMessageLength = 0xFFFF;

    public const uint NoBuffer = 0xFFFF_FFFF;

    // enum ofp_port_no
    public const uint PortMax = 0xFFFF_FF00;
    public const uint PortInPort = 0xFFFF_FFF8;
    public const uint PortTable = 0xFFFF_FFF9;
    public const uint PortNormal = 0xFFFF_FFFA;
    public const uint PortFlood = 0xFFFF_FFFB;
    public const uint PortAll = 0xFFFF_FFFC;
    public const uint PortController = 0xFFFF_FFFD;
    public const uint PortLocal = 0xFFFF_FFFE;
    public const uint PortAny = 0xFFFF_FFFF;

    // enum ofp_group
    public const uint GroupMax = 0xFFFF_FF00;
    public const uint GroupAll = 0xFFFF_FFFC;
    public const uint GroupAny = 0xFFFF_FFFF;

    public const ushort ControllerMaxLenNoBuffer = 0xFFFF;

    /// <summary>OFPMPF_REQ_MORE / OFPMPF_REPLY_MORE.</summary>
    public const ushort MultipartMore = 1;

    /// <summary>OFPVID_PRESENT: set in vlan_vid when a VLAN tag is present.</summary>
    public const ushort VidPresent = 0x1000;

    /// <summary>OFPHET_VERSIONBITMAP.</summary>
    public const ushort HelloElemVersionBitmap = 1;

    public const ushort MatchTypeOxm = 1;

    // enum ofp_instruction_type
    public const ushort InstructionGotoTable = 1;
    public const ushort InstructionWriteMetadata = 2;
    public const ushort InstructionWriteActions = 3;
    public const ushort InstructionApplyActions = 4;
    public const ushort InstructionClearActions = 5;
    public const ushort InstructionMeter = 6;

    // enum ofp_action_type
    public const ushort ActionOutput = 0;
    public const ushort ActionGroup = 22;

    // flow_mod flags
    public const ushort FlowModSendFlowRem = 1;
    public const ushort FlowModCheckOverlap = 2;
}

/// <summary>OXM basic-class field numbers (spec §7.2.3.7, enum oxm_ofb_match_fields).</summary>
public enum OxmField : byte
{
    InPort = 0, InPhyPort = 1, Metadata = 2, EthDst = 3, EthSrc = 4, EthType = 5, VlanVid = 6, VlanPcp = 7,
    IpDscp = 8, IpEcn = 9, IpProto = 10, Ipv4Src = 11, Ipv4Dst = 12, TcpSrc = 13, TcpDst = 14,
    UdpSrc = 15, UdpDst = 16, Icmpv4Type = 19, Ipv6Src = 26, Ipv6Dst = 27, Icmpv6Type = 29,
}
