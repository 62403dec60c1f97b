using SubsetMulticast.Packets.Arp;
using SubsetMulticast.Packets.Ethernet;
using SubsetMulticast.Packets.Igmp;
using SubsetMulticast.Packets.Ip;
using SubsetMulticast.Packets.Mld;
using SubsetMulticast.Packets.Ndp;

namespace SubsetMulticast.Packets.Tests.Support;

/// <summary>
/// The same walk as <see cref="Stack"/> (UDP aside) through the non-throwing <c>Read…</c> readers the snooper uses:
/// "ok", "short", or "Reason@offset" — with no try/catch, so an exception escaping fails the test that calls it.
/// </summary>
internal static class StatusStack
{
    public static string Outcome(ReadOnlySpan<byte> frame)
    {
        var s = EthernetFrame.Read(frame, out var eth, out var fault);
        if (s != ReadStatus.Ok) return Describe(s, fault);
        switch (eth.EtherType)
        {
            case EtherTypes.Arp:
                return Describe(ArpPacket.Read(eth.Payload, out _, out fault), fault);
            case EtherTypes.Ipv4:
            case EtherTypes.Ipv6:
                s = eth.EtherType == EtherTypes.Ipv4 ? IpPacket.ReadV4(eth.Payload, out var ip, out fault) : IpPacket.ReadV6(eth.Payload, out ip, out fault);
                if (s != ReadStatus.Ok) return Describe(s, fault);
                if (ip.Protocol == IpProtocols.Igmp && ip.Version == 4) return Describe(IgmpMessage.ReadPacket(ip, out _, out fault), fault);
                if (ip.Protocol != IpProtocols.Icmpv6 || ip.Version != 6) return "ok";
                var p = ip.Payload;
                if (p.Length < 1) return "short";
                if (p[0] is 135 or 136) return Describe(NeighborMessage.ReadPacket(ip, out _, out fault), fault);
                if (p[0] is not (130 or 131 or 132 or 143)) return "ok";
                return Describe(MldMessage.ReadPacket(ip, out _, out fault), fault);
            default:
                return "ok";
        }
    }

    /// <summary>The throwing walk's outcome in the same form, UDP left out (its reader has no status form).</summary>
    public static string ThrowingOutcome(ReadOnlySpan<byte> frame)
    {
        try
        {
            if (!EthernetFrame.TryRead(frame, out var eth)) return "short";
            if (eth.EtherType == EtherTypes.Arp) return ArpPacket.TryRead(eth.Payload, out _) ? "ok" : "short";
            if (!IpPacket.IsIp(eth.EtherType)) return "ok";
            if (!IpPacket.TryRead(eth.Payload, eth.EtherType, out var ip)) return "short";
            if (ip.Protocol == IpProtocols.Udp) return "ok";
            long digest = 0;
            return Stack.WalkUpper(ip, ref digest) ? "ok" : "short";
        }
        catch (MalformedPacketException e)
        {
            return $"{e.Reason}@{e.Offset}";
        }
    }

    private static string Describe(ReadStatus s, in PacketFault fault) => s switch
    {
        ReadStatus.Ok => "ok",
        ReadStatus.NeedMoreBytes => "short",
        _ => $"{fault.Reason}@{fault.Offset}",
    };
}
