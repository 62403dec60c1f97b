using System.Buffers.Binary;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Packets;
using SubsetMulticast.Packets.Arp;
using SubsetMulticast.Packets.Ethernet;
using SubsetMulticast.Packets.Igmp;
using SubsetMulticast.Packets.Ip;
using SubsetMulticast.Packets.Mld;
using SubsetMulticast.Packets.Ndp;

namespace SubsetMulticast.Snooping.Tests;

/// <summary>Test frames built with the Packets builders (never hand-rolled parsers).</summary>
internal static class Frames
{
    public static readonly MacAddress HostMac = MacAddress.Parse("02:00:00:00:00:0a");
    public static readonly MacAddress RouterMac = MacAddress.Parse("02:00:00:00:00:0b");
    public static readonly IpAddress HostV4 = IpAddress.Parse("10.0.0.10");
    public static readonly IpAddress HostV6 = IpAddress.Parse("fe80::a");
    public static readonly IpAddress RouterV4 = IpAddress.Parse("10.0.0.1");
    public static readonly IpAddress RouterV6 = IpAddress.Parse("fe80::1");

    public static IpAddress Ip(string s) => IpAddress.Parse(s);

    private static byte[] Build(Func<byte[], int> write)
    {
        var b = new byte[2048];
        return b[..write(b)];
    }

    public static byte[] V1Report(string group, VlanId vlan = default, MacAddress? mac = null) =>
        Build(b => IgmpFrames.WriteV1Report(b, mac ?? HostMac, vlan, HostV4, Ip(group)));

    public static byte[] V2Report(string group, VlanId vlan = default, MacAddress? mac = null, IpAddress? src = null) =>
        Build(b => IgmpFrames.WriteV2Report(b, mac ?? HostMac, vlan, src ?? HostV4, Ip(group)));

    public static byte[] V2Leave(string group, VlanId vlan = default) =>
        Build(b => IgmpFrames.WriteV2Leave(b, HostMac, vlan, HostV4, Ip(group)));

    public static byte[] V3Report(GroupRecordType type, string group, params string[] sources) =>
        V3Report([new GroupRecord(type, Ip(group), sources.Select(Ip).ToArray())]);

    public static byte[] V3Report(GroupRecord[] records, VlanId vlan = default) =>
        Build(b => IgmpFrames.WriteV3Report(b, HostMac, vlan, HostV4, records));

    /// <summary>An IGMPv3 report from another host (its own IP and MAC), for several hosts behind one port.</summary>
    public static byte[] V3ReportFrom(string host, GroupRecordType type, string group, params string[] sources) =>
        Build(b => IgmpFrames.WriteV3Report(b, MacFor(host), default, Ip(host), [new GroupRecord(type, Ip(group), sources.Select(Ip).ToArray())]));

    public static byte[] Mld2ReportFrom(string host, GroupRecordType type, string group, params string[] sources) =>
        Build(b => MldFrames.WriteV2Report(b, MacFor(host), default, Ip(host), [new GroupRecord(type, Ip(group), sources.Select(Ip).ToArray())]));

    public static byte[] V2LeaveFrom(string host, string group) =>
        Build(b => IgmpFrames.WriteV2Leave(b, MacFor(host), default, Ip(host), Ip(group)));

    private static MacAddress MacFor(string host) => new(0x02_00_00_00_00_00UL | (uint)Ip(host).GetHashCode() & 0xFFFFFF);

    public static byte[] Mld2Report(GroupRecordType type, string group, params string[] sources) =>
        Build(b => MldFrames.WriteV2Report(b, HostMac, default, HostV6, [new GroupRecord(type, Ip(group), sources.Select(Ip).ToArray())]));

    public static byte[] Mld1Report(string group) => Build(b => MldFrames.WriteV1Report(b, HostMac, default, HostV6, Ip(group)));

    public static byte[] Mld1Done(string group) => Build(b => MldFrames.WriteV1Done(b, HostMac, default, HostV6, Ip(group)));

    public static byte[] V3Query(IpAddress source, string group = "0.0.0.0", int maxRespDeciseconds = 100, VlanId vlan = default, params string[] sources) =>
        Build(b => IgmpFrames.WriteV3Query(b, RouterMac, vlan, source, Ip(group), maxRespDeciseconds, false, 2, 125, sources.Select(Ip).ToArray()));

    public static byte[] V2Query(IpAddress source, string group = "0.0.0.0", byte maxRespDeciseconds = 100) =>
        Build(b => IgmpFrames.WriteV2Query(b, RouterMac, default, source, Ip(group), maxRespDeciseconds));

    public static byte[] Mld2Query(IpAddress source, string group = "::", int maxRespMs = 10000) =>
        Build(b => MldFrames.WriteV2Query(b, RouterMac, default, source, Ip(group), maxRespMs));

    public static byte[] Arp(MacAddress mac, IpAddress ip) => Build(b => ArpPacket.WriteGratuitousFrame(b, mac, ip, default));

    public static byte[] NeighborAdvert(MacAddress mac, IpAddress ip) => Build(b => NeighborDiscovery.WriteUnsolicitedAdvertisementFrame(b, mac, ip, default));

    /// <summary>An IGMPv3 report without the Router Alert option.</summary>
    public static byte[] V3ReportWithoutRouterAlert(string group)
    {
        GroupRecord[] records = [new GroupRecord(GroupRecordType.ChangeToExclude, Ip(group))];
        var b = new byte[256];
        int h = EthernetFrame.Write(b, MulticastMac.For(IgmpFrames.AllIgmpv3Routers), HostMac, default, EtherTypes.Ipv4);
        int n = IgmpMessage.WriteV3Report(b.AsSpan(h + 20), records);
        IpPacket.WriteHeader(b.AsSpan(h), HostV4, IgmpFrames.AllIgmpv3Routers, IpProtocols.Igmp, n, 1, routerAlert: false);
        return b[..(h + 20 + n)];
    }

    /// <summary>An MLDv2 report without the Hop-by-Hop Router Alert.</summary>
    public static byte[] Mld2ReportWithoutRouterAlert(string group)
    {
        GroupRecord[] records = [new GroupRecord(GroupRecordType.ChangeToExclude, Ip(group))];
        var b = new byte[256];
        int h = EthernetFrame.Write(b, MulticastMac.For(MldFrames.AllMldv2Routers), HostMac, default, EtherTypes.Ipv6);
        int n = MldMessage.WriteV2Report(b.AsSpan(h + 40), HostV6, MldFrames.AllMldv2Routers, records);
        IpPacket.WriteHeader(b.AsSpan(h), HostV6, MldFrames.AllMldv2Routers, IpProtocols.Icmpv6, n, 1, routerAlert: false);
        return b[..(h + 40 + n)];
    }

    // Offsets in an untagged IPv4 frame with Router Alert (IHL 6): IP at 14, IGMP at 38.
    public const int Ip4 = 14, Igmp4 = 38;

    /// <summary>Sets the IPv4 TTL and fixes the header checksum.</summary>
    public static byte[] WithTtl(byte[] frame, byte ttl)
    {
        var f = (byte[])frame.Clone();
        f[Ip4 + 8] = ttl;
        FixIpv4Checksum(f);
        return f;
    }

    public static void FixIpv4Checksum(byte[] f)
    {
        int hl = (f[Ip4] & 0xF) * 4;
        f[Ip4 + 10] = f[Ip4 + 11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(Ip4 + 10), InternetChecksum.Finish(InternetChecksum.Sum(f.AsSpan(Ip4, hl))));
    }

    /// <summary>Recomputes the IGMP checksum after an edit.</summary>
    public static void FixIgmpChecksum(byte[] f)
    {
        int total = BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(Ip4 + 2));
        int hl = (f[Ip4] & 0xF) * 4;
        var igmp = f.AsSpan(Ip4 + hl, total - hl);
        igmp[2] = igmp[3] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(igmp[2..], InternetChecksum.Finish(InternetChecksum.Sum(igmp)));
    }
}
