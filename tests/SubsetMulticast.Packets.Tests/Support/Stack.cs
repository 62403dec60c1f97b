using SubsetMulticast.Packets.Arp;
using SubsetMulticast.Packets.Ethernet;
using SubsetMulticast.Packets.Igmp;
using SubsetMulticast.Packets.Ip;
using SubsetMulticast.Packets.Mld;
using SubsetMulticast.Packets.Ndp;
using SubsetMulticast.Packets.Udp;

namespace SubsetMulticast.Packets.Tests.Support;

/// <summary>Walks a whole frame through every reader, touching every field; allocation-free.</summary>
internal static class Stack
{
    /// <summary>False when some layer needs more bytes; throws <see cref="MalformedPacketException"/> when malformed.</summary>
    public static bool Walk(ReadOnlySpan<byte> frame, out long digest)
    {
        digest = 0;
        if (!EthernetFrame.TryRead(frame, out var eth)) return false;
        digest += eth.Vlan.Value + eth.Priority + (long)eth.Destination.Value + (long)eth.Source.Value;
        switch (eth.EtherType)
        {
            case EtherTypes.Arp:
                if (!ArpPacket.TryRead(eth.Payload, out var arp)) return false;
                digest += (int)arp.Operation + (long)arp.SenderMac.Value + arp.SenderIp.V4 + arp.TargetIp.V4 + (arp.IsGratuitous ? 1 : 0);
                return true;
            case EtherTypes.Ipv4:
            case EtherTypes.Ipv6:
                if (!IpPacket.TryRead(eth.Payload, eth.EtherType, out var ip)) return false;
                digest += ip.Protocol + ip.HopLimit + (ip.HasRouterAlert ? 1 : 0) + (long)ip.Source.Low + (long)ip.Destination.Low;
                return WalkUpper(ip, ref digest);
            default:
                return true;
        }
    }

    public static bool WalkUpper(in IpPacket ip, ref long digest)
    {
        switch (ip.Protocol)
        {
            case IpProtocols.Igmp when ip.Version == 4:
                {
                    if (!IgmpMessage.TryReadPacket(ip, out var m)) return false;
                    digest += m.Version + (int)m.Type + m.MaxResponseDeciseconds + m.Qrv + m.QueryIntervalSeconds + (long)m.Group.Low;
                    foreach (var s in m.Sources) digest += (long)s.Low;
                    foreach (var r in m.Records)
                    {
                        digest += (int)r.Type + (long)r.Group.Low + r.AuxData.Length;
                        foreach (var s in r.Sources) digest += (long)s.Low;
                    }
                    return true;
                }
            case IpProtocols.Icmpv6 when ip.Version == 6:
                {
                    var p = ip.Payload;
                    if (p.Length < 1) return false;
                    if (p[0] is 135 or 136)
                    {
                        if (!NeighborMessage.TryReadPacket(ip, out var nd)) return false;
                        digest += (long)nd.Target.Low + (long)(nd.SourceLinkLayerAddress?.Value ?? 0) + (long)(nd.TargetLinkLayerAddress?.Value ?? 0);
                        return true;
                    }
                    if (p[0] is not (130 or 131 or 132 or 143)) return true;
                    if (!MldMessage.TryReadPacket(ip, out var m)) return false;
                    digest += m.Version + (int)m.Type + m.MaxResponseDelayMilliseconds + m.Qrv + (long)m.MulticastAddress.Low;
                    foreach (var s in m.Sources) digest += (long)s.Low;
                    foreach (var r in m.Records)
                    {
                        digest += (int)r.Type + (long)r.Group.Low + r.AuxData.Length;
                        foreach (var s in r.Sources) digest += (long)s.Low;
                    }
                    return true;
                }
            case IpProtocols.Udp:
                {
                    if (!UdpDatagram.TryRead(ip, out var u)) return false;
                    digest += u.SourcePort + u.DestinationPort + u.Payload.Length;
                    return true;
                }
            default:
                return true;
        }
    }

    /// <summary>Walk that returns the outcome as a value: "ok", "short", or the malformed reason.</summary>
    public static string Outcome(ReadOnlySpan<byte> frame)
    {
        try
        {
            return Walk(frame, out _) ? "ok" : "short";
        }
        catch (MalformedPacketException e)
        {
            return e.Reason.ToString();
        }
    }
}
