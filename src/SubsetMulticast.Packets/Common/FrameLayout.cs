using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Packets.Ethernet;
using SubsetMulticast.Packets.Ip;

namespace SubsetMulticast.Packets;

/// <summary>Ethernet + IP framing for the frame builders: the message is written first, the headers after.</summary>
internal static class FrameLayout
{
    public static int HeaderLength(VlanId vlan, IpAddress source, bool routerAlert) =>
        EthernetFrame.GetHeaderLength(vlan) + IpPacket.GetHeaderLength(source, routerAlert);

    /// <summary>Writes Ethernet + IP headers in front of a message of <paramref name="messageLength"/> bytes
    /// already at <c>destination[HeaderLength(..)..]</c>; returns the frame length.</summary>
    public static int WriteHeaders(Span<byte> destination, MacAddress srcMac, MacAddress dstMac, VlanId vlan,
        IpAddress source, IpAddress dst, byte protocol, byte ttl, bool routerAlert, byte trafficClass, int messageLength)
    {
        int eth = EthernetFrame.Write(destination, dstMac, srcMac, vlan, source.IsV4 ? EtherTypes.Ipv4 : EtherTypes.Ipv6);
        int ip = IpPacket.WriteHeader(destination[eth..], source, dst, protocol, messageLength, ttl, routerAlert, trafficClass);
        return eth + ip + messageLength;
    }
}
