using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Packets.Arp;
using SubsetMulticast.Packets.Igmp;
using SubsetMulticast.Packets.Mld;
using SubsetMulticast.Packets.Ndp;
using SubsetMulticast.Packets.Udp;

namespace SubsetMulticast.Packets.Tests.Support;

/// <summary>A frame emitted by our builders, with what tshark must decode from it.</summary>
internal sealed record BuiltFrame(string Name, byte[] Bytes, (string Field, string Value)[] Expect)
{
    public override string ToString() => Name;
}

/// <summary>Every kind of frame our builders emit.</summary>
internal static class Catalog
{
    public static readonly MacAddress HostMac = MacAddress.Parse("02:00:00:00:00:0a");
    public static readonly MacAddress PeerMac = MacAddress.Parse("02:00:00:00:00:0b");
    public static readonly IpAddress HostV4 = IpAddress.Parse("10.0.0.10");
    public static readonly IpAddress HostV6 = IpAddress.Parse("fe80::a");
    public static readonly IpAddress GlobalV6 = IpAddress.Parse("2001:db8::a");
    public static readonly IpAddress GroupV4 = IpAddress.Parse("239.1.2.3");
    public static readonly IpAddress GroupV6 = IpAddress.Parse("ff05::1:3");

    public static IpAddress V4(string s) => IpAddress.Parse(s);

    private static byte[] Build(Func<byte[], int> write)
    {
        var buf = new byte[2048];
        Array.Fill(buf, (byte)0xEE);
        int n = write(buf);
        return buf[..n];
    }

    public static GroupRecord[] IgmpRecords() =>
    [
        new(GroupRecordType.ModeIsInclude, V4("239.1.1.1"), new[] { V4("10.1.1.1"), V4("10.1.1.2") }),
        new(GroupRecordType.ModeIsExclude, V4("239.1.1.2")),
        new(GroupRecordType.ChangeToInclude, V4("239.1.1.3"), new[] { V4("10.1.1.3") }),
        new(GroupRecordType.ChangeToExclude, V4("239.1.1.4"), default, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }),
        new(GroupRecordType.AllowNewSources, V4("239.1.1.5"), new[] { V4("10.1.1.5") }),
        new(GroupRecordType.BlockOldSources, V4("239.1.1.6"), new[] { V4("10.1.1.6"), V4("10.1.1.7"), V4("10.1.1.8") }),
    ];

    public static GroupRecord[] MldRecords() =>
    [
        new(GroupRecordType.ModeIsInclude, IpAddress.Parse("ff05::1"), new[] { IpAddress.Parse("2001:db8::1"), IpAddress.Parse("2001:db8::2") }),
        new(GroupRecordType.ModeIsExclude, IpAddress.Parse("ff05::2")),
        new(GroupRecordType.ChangeToInclude, IpAddress.Parse("ff05::3"), new[] { IpAddress.Parse("2001:db8::3") }),
        new(GroupRecordType.ChangeToExclude, IpAddress.Parse("ff05::4"), default, new byte[] { 9, 9, 9, 9 }),
        new(GroupRecordType.AllowNewSources, IpAddress.Parse("ff05::5"), new[] { IpAddress.Parse("2001:db8::5") }),
        new(GroupRecordType.BlockOldSources, IpAddress.Parse("ff05::6"), new[] { IpAddress.Parse("2001:db8::6") }),
    ];

    public static IReadOnlyList<BuiltFrame> All()
    {
        var list = new List<BuiltFrame>
        {
            new("igmpv1-report", Build(b => IgmpFrames.WriteV1Report(b, HostMac, 0, HostV4, GroupV4)),
                [("eth.dst", "01:00:5e:01:02:03"), ("ip.ttl", "1"), ("ip.dst", "239.1.2.3"), ("igmp.version", "1"), ("igmp.type", "0x12"), ("igmp.maddr", "239.1.2.3")]),
            new("igmpv2-report", Build(b => IgmpFrames.WriteV2Report(b, HostMac, 0, HostV4, GroupV4)),
                [("eth.dst", "01:00:5e:01:02:03"), ("ip.ttl", "1"), ("ip.opt.type", "148"), ("ip.dst", "239.1.2.3"), ("igmp.version", "2"), ("igmp.type", "0x16"), ("igmp.maddr", "239.1.2.3")]),
            new("igmpv2-leave-vlan100", Build(b => IgmpFrames.WriteV2Leave(b, HostMac, 100, HostV4, GroupV4)),
                [("vlan.id", "100"), ("eth.dst", "01:00:5e:00:00:02"), ("ip.dst", "224.0.0.2"), ("igmp.type", "0x17"), ("igmp.maddr", "239.1.2.3")]),
            new("igmpv3-report-six-types", Build(b => IgmpFrames.WriteV3Report(b, HostMac, 0, HostV4, IgmpRecords())),
                [("eth.dst", "01:00:5e:00:00:16"), ("ip.dst", "224.0.0.22"), ("igmp.version", "3"), ("igmp.type", "0x22"), ("igmp.num_grp_recs", "6"),
                 ("igmp.record_type", "1,2,3,4,5,6"), ("igmp.num_src", "2,0,1,0,1,3"), ("igmp.aux_data_len", "0,0,0,2,0,0"),
                 ("igmp.maddr", "239.1.1.1,239.1.1.2,239.1.1.3,239.1.1.4,239.1.1.5,239.1.1.6"),
                 ("igmp.saddr", "10.1.1.1,10.1.1.2,10.1.1.3,10.1.1.5,10.1.1.6,10.1.1.7,10.1.1.8")]),
            new("igmpv3-report-from-zero", Build(b => IgmpFrames.WriteV3Report(b, HostMac, 0, V4("0.0.0.0"), [new(GroupRecordType.ChangeToExclude, GroupV4)])),
                [("ip.src", "0.0.0.0"), ("igmp.num_grp_recs", "1"), ("igmp.record_type", "4")]),
            new("igmpv2-general-query", Build(b => IgmpFrames.WriteV2Query(b, PeerMac, 0, V4("10.0.0.1"), V4("0.0.0.0"), 100)),
                [("eth.dst", "01:00:5e:00:00:01"), ("ip.dst", "224.0.0.1"), ("igmp.version", "2"), ("igmp.type", "0x11"), ("igmp.max_resp", "100")]),
            new("igmpv3-group-source-query", Build(b => IgmpFrames.WriteV3Query(b, PeerMac, 7, V4("10.0.0.1"), GroupV4, 200, true, 3, 125, [V4("10.9.9.9"), V4("10.9.9.8")])),
                [("vlan.id", "7"), ("ip.dst", "239.1.2.3"), ("igmp.version", "3"), ("igmp.type", "0x11"), ("igmp.max_resp", "200"), ("igmp.s", "1"), ("igmp.qrv", "3"),
                 ("igmp.qqic", "125"), ("igmp.num_src", "2"), ("igmp.saddr", "10.9.9.9,10.9.9.8"), ("igmp.maddr", "239.1.2.3")]),
            new("igmpv1-general-query", Build(b => IgmpFrames.WriteV2Query(b, PeerMac, 0, V4("10.0.0.1"), V4("0.0.0.0"), 0)),
                [("ip.dst", "224.0.0.1"), ("igmp.version", "1"), ("igmp.type", "0x11")]),
            new("igmpv3-general-query-float-codes", Build(b => IgmpFrames.WriteV3Query(b, PeerMac, 0, V4("10.0.0.1"), V4("0.0.0.0"), 3072, false, 2, 1024)),
                [("ip.dst", "224.0.0.1"), ("ip.opt.type", "148"), ("igmp.version", "3"), ("igmp.type", "0x11"), ("igmp.max_resp", "3072"),
                 ("igmp.qqic", "176"),   // tshark shows QQIC raw: 0xB0 = 1|011|0000 → (0x10) << (3 + 3) = 1024 s (RFC 3376 §4.1.7)
                 ("igmp.num_src", "0"), ("igmp.maddr", "0.0.0.0")]),
            new("mldv1-report", Build(b => MldFrames.WriteV1Report(b, HostMac, 0, HostV6, GroupV6)),
                [("eth.dst", "33:33:00:01:00:03"), ("ipv6.hlim", "1"), ("ipv6.opt.router_alert", "0"), ("icmpv6.type", "131"), ("icmpv6.mld.multicast_address", "ff05::1:3")]),
            new("mldv1-done", Build(b => MldFrames.WriteV1Done(b, HostMac, 0, HostV6, GroupV6)),
                [("eth.dst", "33:33:00:00:00:02"), ("ipv6.dst", "ff02::2"), ("icmpv6.type", "132"), ("icmpv6.mld.multicast_address", "ff05::1:3")]),
            new("mldv2-report-six-types-vlan42", Build(b => MldFrames.WriteV2Report(b, HostMac, 42, HostV6, MldRecords())),
                [("vlan.id", "42"), ("eth.dst", "33:33:00:00:00:16"), ("ipv6.dst", "ff02::16"), ("ipv6.hlim", "1"), ("icmpv6.type", "143"),
                 ("icmpv6.mldr.nb_mcast_records", "6"), ("icmpv6.mldr.mar.record_type", "1,2,3,4,5,6"), ("icmpv6.mldr.mar.nb_sources", "2,0,1,0,1,1"),
                 ("icmpv6.mldr.mar.aux_data_len", "0,0,0,1,0,0"),
                 ("icmpv6.mldr.mar.multicast_address", "ff05::1,ff05::2,ff05::3,ff05::4,ff05::5,ff05::6"),
                 ("icmpv6.mldr.mar.source_address", "2001:db8::1,2001:db8::2,2001:db8::3,2001:db8::5,2001:db8::6")]),
            new("mldv2-report-from-unspecified", Build(b => MldFrames.WriteV2Report(b, HostMac, 0, IpAddress.Parse("::"), [new(GroupRecordType.ChangeToExclude, GroupV6)])),
                [("ipv6.src", "::"), ("icmpv6.mldr.nb_mcast_records", "1")]),
            new("mldv1-general-query", Build(b => MldFrames.WriteV1Query(b, PeerMac, 0, IpAddress.Parse("fe80::1"), IpAddress.Parse("::"), 10000)),
                [("ipv6.dst", "ff02::1"), ("icmpv6.type", "130"), ("icmpv6.mld.maximum_response_delay", "10000")]),
            new("mldv2-group-source-query", Build(b => MldFrames.WriteV2Query(b, PeerMac, 0, IpAddress.Parse("fe80::1"), GroupV6, 40000, false, 2, 200, [IpAddress.Parse("2001:db8::9")])),
                [("ipv6.dst", "ff05::1:3"), ("icmpv6.type", "130"), ("icmpv6.mld.maximum_response_code", "40000"), ("icmpv6.mld.flag.qrv", "2"),
                 ("icmpv6.mld.nb_sources", "1"), ("icmpv6.mld.source_address", "2001:db8::9")]),
            new("mldv2-general-query-float-code", Build(b => MldFrames.WriteV2Query(b, PeerMac, 0, IpAddress.Parse("fe80::1"), IpAddress.Parse("::"), 65536, false, 2, 125)),
                [("ipv6.dst", "ff02::1"), ("ipv6.opt.router_alert", "0"), ("icmpv6.type", "130"), ("icmpv6.mld.maximum_response_code", "65536"),
                 ("icmpv6.mld.nb_sources", "0"), ("icmpv6.mld.multicast_address", "::")]),
            new("udp-v4", Build(b => UdpDatagram.WriteFrame(b, HostMac, MulticastMac.For(GroupV4), 0, HostV4, GroupV4, 5000, 6000, "hello"u8)),
                [("ip.dst", "239.1.2.3"), ("ip.ttl", "64"), ("udp.srcport", "5000"), ("udp.dstport", "6000"), ("udp.length", "13")]),
            new("udp-v6-vlan5-odd", Build(b => UdpDatagram.WriteFrame(b, HostMac, PeerMac, 5, GlobalV6, IpAddress.Parse("2001:db8::b"), 1, 65535, "odd"u8, 9)),
                [("vlan.id", "5"), ("ipv6.hlim", "9"), ("udp.srcport", "1"), ("udp.dstport", "65535"), ("udp.length", "11")]),
            new("udp-v4-empty", Build(b => UdpDatagram.WriteFrame(b, HostMac, PeerMac, 0, HostV4, V4("10.0.0.11"), 7, 7, default)),
                [("udp.length", "8")]),
            new("arp-gratuitous", Build(b => ArpPacket.WriteGratuitousFrame(b, HostMac, HostV4, 0)),
                [("eth.dst", "ff:ff:ff:ff:ff:ff"), ("arp.opcode", "1"), ("arp.src.hw_mac", "02:00:00:00:00:0a"), ("arp.src.proto_ipv4", "10.0.0.10"),
                 ("arp.dst.proto_ipv4", "10.0.0.10"), ("arp.isgratuitous", "1")]),
            new("arp-reply", Build(b => ArpPacket.WriteFrame(b, PeerMac, 0, ArpOperation.Reply, HostMac, HostV4, PeerMac, V4("10.0.0.11"))),
                [("eth.dst", "02:00:00:00:00:0b"), ("arp.opcode", "2"), ("arp.src.hw_mac", "02:00:00:00:00:0a"), ("arp.src.proto_ipv4", "10.0.0.10"),
                 ("arp.dst.hw_mac", "02:00:00:00:00:0b"), ("arp.dst.proto_ipv4", "10.0.0.11")]),
            new("na-solicited-router", Build(b => NeighborDiscovery.WriteAdvertisementFrame(b, HostMac, PeerMac, 0, GlobalV6, IpAddress.Parse("2001:db8::b"), GlobalV6, true, true, false)),
                [("ipv6.dst", "2001:db8::b"), ("ipv6.hlim", "255"), ("icmpv6.type", "136"), ("icmpv6.nd.na.flag.r", "1"), ("icmpv6.nd.na.flag.s", "1"),
                 ("icmpv6.nd.na.flag.o", "0"), ("icmpv6.nd.na.target_address", "2001:db8::a")]),
            new("na-unsolicited-vlan9", Build(b => NeighborDiscovery.WriteUnsolicitedAdvertisementFrame(b, HostMac, GlobalV6, 9)),
                [("vlan.id", "9"), ("eth.dst", "33:33:00:00:00:01"), ("ipv6.hlim", "255"), ("icmpv6.type", "136"), ("icmpv6.nd.na.flag.o", "1"),
                 ("icmpv6.nd.na.flag.s", "0"), ("icmpv6.nd.na.target_address", "2001:db8::a"), ("icmpv6.opt.type", "2"), ("icmpv6.opt.linkaddr", "02:00:00:00:00:0a")]),
            new("ns-multicast", Build(b => NeighborDiscovery.WriteSolicitationFrame(b, HostMac, 0, GlobalV6, IpAddress.Parse("2001:db8::12:3456"))),
                [("ipv6.dst", "ff02::1:ff12:3456"), ("eth.dst", "33:33:ff:12:34:56"), ("icmpv6.type", "135"), ("icmpv6.nd.ns.target_address", "2001:db8::12:3456"),
                 ("icmpv6.opt.type", "1"), ("icmpv6.opt.linkaddr", "02:00:00:00:00:0a")]),
            new("ns-dad", Build(b => NeighborDiscovery.WriteSolicitationFrame(b, HostMac, 0, IpAddress.Parse("::"), GlobalV6)),
                [("ipv6.src", "::"), ("icmpv6.type", "135"), ("icmpv6.nd.ns.target_address", "2001:db8::a")]),
        };
        return list;
    }
}
