using System.Net;
using System.Net.NetworkInformation;
using PacketDotNet;
using SubsetMulticast.Packets.Ethernet;
using SubsetMulticast.Packets.Ip;
using SubsetMulticast.Packets.Tests.Support;
using SubsetMulticast.Packets.Udp;
using OurArp = SubsetMulticast.Packets.Arp.ArpPacket;
using OurIgmp = SubsetMulticast.Packets.Igmp.IgmpMessage;
using Pdn = PacketDotNet;

namespace SubsetMulticast.Packets.Tests;

/// <summary>
/// PacketDotNet 1.4.8 as a second, independent oracle beside tshark: every frame our builders write is parsed by
/// PacketDotNet with the same addresses, types, TTLs and valid checksums; frames PacketDotNet writes are parsed by
/// our readers with the same fields.
/// </summary>
public sealed class PacketDotNetOracleTests
{
    public static TheoryData<string> Names()
    {
        var d = new TheoryData<string>();
        // PacketDotNet 1.4.8 throws IndexOutOfRangeException in WakeOnLanPacket.IsValid on any UDP datagram with an
        // empty payload (its own defect, not our frame: tshark checks that one).
        foreach (var f in Catalog.All().Where(f => f.Name != "udp-v4-empty")) d.Add(f.Name);
        return d;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void FramesWeWrite_ParseInPacketDotNet_WithOurFields(string name)
    {
        var frame = Catalog.All().Single(f => f.Name == name).Bytes;
        Assert.True(EthernetFrame.TryRead(frame, out var eth));
        var parsed = Packet.ParsePacket(LinkLayers.Ethernet, frame);
        var e = parsed.Extract<EthernetPacket>();
        Assert.NotNull(e);
        Assert.Equal(eth.Destination.ToString().Replace(":", "", StringComparison.Ordinal).ToUpperInvariant(), e.DestinationHardwareAddress.ToString());
        Assert.Equal(eth.Source.ToString().Replace(":", "", StringComparison.Ordinal).ToUpperInvariant(), e.SourceHardwareAddress.ToString());
        if (eth.Tagged)
        {
            var q = parsed.Extract<Ieee8021QPacket>();
            Assert.NotNull(q);
            Assert.Equal(eth.Vlan.Value, q.VlanIdentifier);
        }
        switch (eth.EtherType)
        {
            case EtherTypes.Arp:
            {
                Assert.True(OurArp.TryRead(eth.Payload, out var arp));
                var a = parsed.Extract<Pdn.ArpPacket>();
                Assert.NotNull(a);
                Assert.Equal((int)arp.Operation, (int)a.Operation);
                Assert.Equal(arp.SenderIp.ToString(), a.SenderProtocolAddress.ToString());
                Assert.Equal(arp.TargetIp.ToString(), a.TargetProtocolAddress.ToString());
                break;
            }
            case EtherTypes.Ipv4:
            {
                Assert.True(IpPacket.TryReadV4(eth.Payload, out var ip));
                var p = parsed.Extract<IPv4Packet>();
                Assert.NotNull(p);
                Assert.Equal(ip.Source.ToString(), p.SourceAddress.ToString());
                Assert.Equal(ip.Destination.ToString(), p.DestinationAddress.ToString());
                Assert.Equal(ip.Ttl, p.TimeToLive);
                Assert.Equal(ip.Protocol, (byte)p.Protocol);
                Assert.True(p.ValidIPChecksum, $"{name}: PacketDotNet finds our IPv4 header checksum wrong");
                if (ip.Protocol == IpProtocols.Udp)
                {
                    Assert.True(UdpDatagram.TryRead(ip, out var u));
                    var pu = parsed.Extract<Pdn.UdpPacket>();
                    Assert.Equal((u.SourcePort, u.DestinationPort), (pu.SourcePort, pu.DestinationPort));
                    Assert.True(pu.ValidUdpChecksum, $"{name}: PacketDotNet finds our UDP checksum wrong");
                }
                if (ip.Protocol == IpProtocols.Igmp)
                {
                    Assert.True(OurIgmp.TryReadPacket(ip, out var m));
                    Assert.Equal(ip.Payload.Length, p.PayloadLength);
                    if (m.Version == 2 && p.Extract<IgmpV2Packet>() is { } g)
                    {
                        Assert.Equal((byte)m.Type, (byte)g.Type);
                        Assert.Equal(m.Group.ToString(), g.GroupAddress.ToString());
                    }
                }
                break;
            }
            case EtherTypes.Ipv6:
            {
                Assert.True(IpPacket.TryReadV6(eth.Payload, out var ip));
                var p = parsed.Extract<IPv6Packet>();
                Assert.NotNull(p);
                Assert.Equal(ip.Source.ToString(), p.SourceAddress.ToString());
                Assert.Equal(ip.Destination.ToString(), p.DestinationAddress.ToString());
                Assert.Equal(ip.HopLimit, p.HopLimit);
                if (ip.Protocol == IpProtocols.Udp)
                {
                    var pu = parsed.Extract<Pdn.UdpPacket>();
                    Assert.NotNull(pu);
                    Assert.True(pu.ValidUdpChecksum, $"{name}: PacketDotNet finds our UDP checksum wrong");
                }
                if (ip.Protocol == IpProtocols.Icmpv6 && parsed.Extract<IcmpV6Packet>() is { } icmp)
                    Assert.Equal(ip.Payload[0], (byte)icmp.Type);
                break;
            }
        }
    }

    [Fact]
    public void Ipv4Udp_WrittenByPacketDotNet_ParsesInOurs()
    {
        var udp = new Pdn.UdpPacket(40000, 9470) { PayloadData = [1, 2, 3, 4, 5] };
        var ip = new IPv4Packet(IPAddress.Parse("10.0.0.1"), IPAddress.Parse("239.1.2.3")) { TimeToLive = 7, PayloadPacket = udp };
        var eth = new EthernetPacket(PhysicalAddress.Parse("02-00-00-00-00-01"), PhysicalAddress.Parse("01-00-5E-01-02-03"), EthernetType.IPv4) { PayloadPacket = ip };
        udp.UpdateCalculatedValues();
        ip.UpdateCalculatedValues();
        udp.UpdateUdpChecksum();
        ip.UpdateIPChecksum();
        var bytes = eth.Bytes;

        Assert.True(EthernetFrame.TryRead(bytes, out var frame));
        Assert.Equal("02:00:00:00:00:01", frame.Source.ToString());
        Assert.Equal(EtherTypes.Ipv4, frame.EtherType);
        Assert.True(IpPacket.TryReadV4(frame.Payload, out var ours));   // verifies the header checksum
        Assert.Equal(("10.0.0.1", "239.1.2.3", (byte)7), (ours.Source.ToString(), ours.Destination.ToString(), ours.Ttl));
        Assert.True(UdpDatagram.TryRead(ours, out var d));               // verifies the UDP checksum
        Assert.Equal((40000, 9470), ((int)d.SourcePort, (int)d.DestinationPort));
        Assert.Equal([1, 2, 3, 4, 5], d.Payload.ToArray());
    }

    [Fact]
    public void Ipv6Udp_WrittenByPacketDotNet_ParsesInOurs()
    {
        var udp = new Pdn.UdpPacket(5000, 6000) { PayloadData = [9, 8, 7] };
        var ip = new IPv6Packet(IPAddress.Parse("2001:db8::1"), IPAddress.Parse("ff15::7:1")) { HopLimit = 9, PayloadPacket = udp };
        var eth = new EthernetPacket(PhysicalAddress.Parse("02-00-00-00-00-02"), PhysicalAddress.Parse("33-33-00-07-00-01"), EthernetType.IPv6) { PayloadPacket = ip };
        udp.UpdateCalculatedValues();
        ip.UpdateCalculatedValues();
        udp.UpdateUdpChecksum();
        var bytes = eth.Bytes;

        Assert.True(EthernetFrame.TryRead(bytes, out var frame));
        Assert.True(IpPacket.TryReadV6(frame.Payload, out var ours));
        Assert.Equal(("2001:db8::1", "ff15::7:1", (byte)9), (ours.Source.ToString(), ours.Destination.ToString(), ours.HopLimit));
        Assert.True(UdpDatagram.TryRead(ours, out var d));
        Assert.Equal((5000, 6000), ((int)d.SourcePort, (int)d.DestinationPort));
        Assert.Equal([9, 8, 7], d.Payload.ToArray());
    }

    [Fact]
    public void Arp_WrittenByPacketDotNet_ParsesInOurs()
    {
        var arp = new Pdn.ArpPacket(ArpOperation.Request, PhysicalAddress.Parse("00-00-00-00-00-00"), IPAddress.Parse("10.0.0.2"),
            PhysicalAddress.Parse("02-00-00-00-00-03"), IPAddress.Parse("10.0.0.3"));
        var eth = new EthernetPacket(PhysicalAddress.Parse("02-00-00-00-00-03"), PhysicalAddress.Parse("FF-FF-FF-FF-FF-FF"), EthernetType.Arp) { PayloadPacket = arp };
        var bytes = eth.Bytes;

        Assert.True(EthernetFrame.TryRead(bytes, out var frame));
        Assert.Equal(EtherTypes.Arp, frame.EtherType);
        Assert.True(OurArp.TryRead(frame.Payload, out var ours));
        Assert.Equal(SubsetMulticast.Packets.Arp.ArpOperation.Request, ours.Operation);
        Assert.Equal(("02:00:00:00:00:03", "10.0.0.3", "10.0.0.2"), (ours.SenderMac.ToString(), ours.SenderIp.ToString(), ours.TargetIp.ToString()));
    }
}
