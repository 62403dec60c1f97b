using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Packets.Ip;

namespace SubsetMulticast.Packets.Igmp;

/// <summary>
/// Whole IGMP frames as hosts and queriers send them: IPv4 TTL 1, Router Alert 94 04 00 00, TOS 0xC0 (as
/// Linux), destination MAC from the destination group (RFC 1112 §6.4). No Ethernet padding is added.
/// </summary>
public static class IgmpFrames
{
    public static readonly IpAddress AllSystems = IpAddress.FromV4(0xE000_0001);
    public static readonly IpAddress AllRouters = IpAddress.FromV4(0xE000_0002);
    public static readonly IpAddress AllIgmpv3Routers = IpAddress.FromV4(0xE000_0016);

    private const byte InternetControl = 0xC0;

    /// <summary>IGMPv2 report (0x16) sent to the group itself.</summary>
    public static int WriteV2Report(Span<byte> destination, MacAddress srcMac, VlanId vlan, IpAddress srcIp, IpAddress group)
    {
        int h = FrameLayout.HeaderLength(vlan, srcIp, true);
        Guard.Room(destination, h + IgmpMessage.V2Length);
        int n = IgmpMessage.WriteV2(destination[h..], IgmpType.V2MembershipReport, 0, group);
        return Finish(destination, srcMac, vlan, srcIp, group, n);
    }

    /// <summary>IGMPv1 report (0x12) sent to the group itself.</summary>
    public static int WriteV1Report(Span<byte> destination, MacAddress srcMac, VlanId vlan, IpAddress srcIp, IpAddress group)
    {
        int h = FrameLayout.HeaderLength(vlan, srcIp, true);
        Guard.Room(destination, h + IgmpMessage.V2Length);
        int n = IgmpMessage.WriteV2(destination[h..], IgmpType.V1MembershipReport, 0, group);
        return Finish(destination, srcMac, vlan, srcIp, group, n);
    }

    /// <summary>IGMPv2 leave (0x17) sent to 224.0.0.2 (RFC 2236 §3).</summary>
    public static int WriteV2Leave(Span<byte> destination, MacAddress srcMac, VlanId vlan, IpAddress srcIp, IpAddress group)
    {
        int h = FrameLayout.HeaderLength(vlan, srcIp, true);
        Guard.Room(destination, h + IgmpMessage.V2Length);
        int n = IgmpMessage.WriteV2(destination[h..], IgmpType.LeaveGroup, 0, group);
        return Finish(destination, srcMac, vlan, srcIp, AllRouters, n);
    }

    /// <summary>IGMPv3 report (0x22) sent to 224.0.0.22.</summary>
    public static int WriteV3Report(Span<byte> destination, MacAddress srcMac, VlanId vlan, IpAddress srcIp, ReadOnlySpan<GroupRecord> records)
    {
        int h = FrameLayout.HeaderLength(vlan, srcIp, true);
        Guard.Room(destination, h + IgmpMessage.GetV3ReportLength(records));
        int n = IgmpMessage.WriteV3Report(destination[h..], records);
        return Finish(destination, srcMac, vlan, srcIp, AllIgmpv3Routers, n);
    }

    /// <summary>IGMPv2 query (v1 when <paramref name="maxResponseDeciseconds"/> is 0); general queries go to 224.0.0.1.</summary>
    public static int WriteV2Query(Span<byte> destination, MacAddress srcMac, VlanId vlan, IpAddress srcIp, IpAddress group, byte maxResponseDeciseconds)
    {
        int h = FrameLayout.HeaderLength(vlan, srcIp, true);
        Guard.Room(destination, h + IgmpMessage.V2Length);
        int n = IgmpMessage.WriteV2(destination[h..], IgmpType.MembershipQuery, maxResponseDeciseconds, group);
        return Finish(destination, srcMac, vlan, srcIp, group.IsUnspecified ? AllSystems : group, n);
    }

    /// <summary>IGMPv3 query; general queries go to 224.0.0.1, group(-and-source) queries to the group.</summary>
    public static int WriteV3Query(Span<byte> destination, MacAddress srcMac, VlanId vlan, IpAddress srcIp, IpAddress group,
        int maxResponseDeciseconds, bool suppressRouterProcessing = false, byte qrv = 2, int queryIntervalSeconds = 125,
        ReadOnlySpan<IpAddress> sources = default)
    {
        int h = FrameLayout.HeaderLength(vlan, srcIp, true);
        Guard.Room(destination, h + IgmpMessage.GetV3QueryLength(sources.Length));
        int n = IgmpMessage.WriteV3Query(destination[h..], maxResponseDeciseconds, group, suppressRouterProcessing, qrv, queryIntervalSeconds, sources);
        return Finish(destination, srcMac, vlan, srcIp, group.IsUnspecified ? AllSystems : group, n);
    }

    private static int Finish(Span<byte> destination, MacAddress srcMac, VlanId vlan, IpAddress srcIp, IpAddress dstIp, int messageLength)
    {
        if (!srcIp.IsV4) throw new ArgumentException("IGMP needs an IPv4 source.", nameof(srcIp));
        return FrameLayout.WriteHeaders(destination, srcMac, MulticastMac.For(dstIp), vlan, srcIp, dstIp, IpProtocols.Igmp, 1, true, InternetControl, messageLength);
    }
}
