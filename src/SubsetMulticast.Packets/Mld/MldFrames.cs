using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Packets.Ip;

namespace SubsetMulticast.Packets.Mld;

/// <summary>
/// Whole MLD frames: IPv6 hop limit 1, Hop-by-Hop Router Alert (value 0), destination MAC 33:33 + low 32 bits.
/// The source should be link-local (or :: for reports, RFC 3810 §5.2.13); it is not checked here.
/// </summary>
public static class MldFrames
{
    public static readonly IpAddress AllNodes = IpAddress.FromV6(0xFF02UL << 48, 1);
    public static readonly IpAddress AllRouters = IpAddress.FromV6(0xFF02UL << 48, 2);
    public static readonly IpAddress AllMldv2Routers = IpAddress.FromV6(0xFF02UL << 48, 0x16);

    /// <summary>MLDv1 report (131) sent to the group.</summary>
    public static int WriteV1Report(Span<byte> destination, MacAddress srcMac, VlanId vlan, IpAddress srcIp, IpAddress group) =>
        WriteV1(destination, srcMac, vlan, srcIp, group, MldType.V1Report, 0, group);

    /// <summary>MLDv1 done (132) sent to ff02::2.</summary>
    public static int WriteV1Done(Span<byte> destination, MacAddress srcMac, VlanId vlan, IpAddress srcIp, IpAddress group) =>
        WriteV1(destination, srcMac, vlan, srcIp, AllRouters, MldType.V1Done, 0, group);

    /// <summary>MLDv1 query (130, 24 bytes); general queries go to ff02::1.</summary>
    public static int WriteV1Query(Span<byte> destination, MacAddress srcMac, VlanId vlan, IpAddress srcIp, IpAddress group, ushort maxResponseDelayMilliseconds) =>
        WriteV1(destination, srcMac, vlan, srcIp, group.IsUnspecified ? AllNodes : group, MldType.Query, maxResponseDelayMilliseconds, group);

    /// <summary>MLDv2 report (143) sent to ff02::16.</summary>
    public static int WriteV2Report(Span<byte> destination, MacAddress srcMac, VlanId vlan, IpAddress srcIp, ReadOnlySpan<GroupRecord> records)
    {
        CheckSource(srcIp);
        int h = FrameLayout.HeaderLength(vlan, srcIp, true);
        Guard.Room(destination, h + MldMessage.GetV2ReportLength(records));
        int n = MldMessage.WriteV2Report(destination[h..], srcIp, AllMldv2Routers, records);
        return Finish(destination, srcMac, vlan, srcIp, AllMldv2Routers, n);
    }

    /// <summary>MLDv2 query (130, ≥ 28 bytes); general queries go to ff02::1.</summary>
    public static int WriteV2Query(Span<byte> destination, MacAddress srcMac, VlanId vlan, IpAddress srcIp, IpAddress group,
        int maxResponseDelayMilliseconds, bool suppressRouterProcessing = false, byte qrv = 2, int queryIntervalSeconds = 125,
        ReadOnlySpan<IpAddress> sources = default)
    {
        CheckSource(srcIp);
        var dst = group.IsUnspecified ? AllNodes : group;
        int h = FrameLayout.HeaderLength(vlan, srcIp, true);
        Guard.Room(destination, h + MldMessage.GetV2QueryLength(sources.Length));
        int n = MldMessage.WriteV2Query(destination[h..], srcIp, dst, maxResponseDelayMilliseconds, group, suppressRouterProcessing, qrv, queryIntervalSeconds, sources);
        return Finish(destination, srcMac, vlan, srcIp, dst, n);
    }

    private static int WriteV1(Span<byte> destination, MacAddress srcMac, VlanId vlan, IpAddress srcIp, IpAddress dst, MldType type, ushort delay, IpAddress group)
    {
        CheckSource(srcIp);
        int h = FrameLayout.HeaderLength(vlan, srcIp, true);
        Guard.Room(destination, h + MldMessage.V1Length);
        int n = MldMessage.WriteV1(destination[h..], srcIp, dst, type, delay, group);
        return Finish(destination, srcMac, vlan, srcIp, dst, n);
    }

    private static void CheckSource(IpAddress srcIp)
    {
        if (!srcIp.IsV6) throw new ArgumentException("MLD needs an IPv6 source.", nameof(srcIp));
    }

    private static int Finish(Span<byte> destination, MacAddress srcMac, VlanId vlan, IpAddress srcIp, IpAddress dstIp, int messageLength) =>
        FrameLayout.WriteHeaders(destination, srcMac, MulticastMac.For(dstIp), vlan, srcIp, dstIp, IpProtocols.Icmpv6, 1, true, 0, messageLength);
}
