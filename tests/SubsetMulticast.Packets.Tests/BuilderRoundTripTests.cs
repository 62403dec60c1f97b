using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Packets.Arp;
using SubsetMulticast.Packets.Ethernet;
using SubsetMulticast.Packets.Igmp;
using SubsetMulticast.Packets.Ip;
using SubsetMulticast.Packets.Mld;
using SubsetMulticast.Packets.Ndp;
using SubsetMulticast.Packets.Tests.Support;
using SubsetMulticast.Packets.Udp;

namespace SubsetMulticast.Packets.Tests;

/// <summary>encode → decode → encode gives the same bytes; writers refuse short buffers without writing past them.</summary>
public sealed class BuilderRoundTripTests
{
    public static TheoryData<string> Names()
    {
        var d = new TheoryData<string>();
        foreach (var f in Catalog.All()) d.Add(f.Name);
        return d;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void BuiltFrame_DecodesAndReencodesToSameBytes(string name)
    {
        var original = Catalog.All().First(f => f.Name == name).Bytes;
        var again = new byte[original.Length + 64];
        Array.Fill(again, (byte)0xEE);
        int n = Rebuild(original, again);
        Assert.Equal(Hex.Of(original), Hex.Of(again.AsSpan(0, n)));
        Assert.All(again[n..], b => Assert.Equal(0xEE, b));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Rebuild_IntoOneByteShort_ThrowsArgumentException_AndWritesNothingPastEnd(string name)
    {
        var original = Catalog.All().First(f => f.Name == name).Bytes;
        var buffer = new byte[original.Length + 8];
        Array.Fill(buffer, (byte)0xEE);
        Assert.ThrowsAny<ArgumentException>(() => Rebuild(original, buffer.AsSpan(0, original.Length - 1)));
        Assert.All(buffer[(original.Length - 1)..], b => Assert.Equal(0xEE, b));
    }

    [Fact]
    public void EthernetWrite_TagsOnlyNonZeroVlan()
    {
        var b = new byte[18];
        Assert.Equal(14, EthernetFrame.Write(b, Catalog.PeerMac, Catalog.HostMac, 0, EtherTypes.Ipv4));
        Assert.Equal("02000000000b02000000000a0800", Hex.Of(b.AsSpan(0, 14)));
        Assert.Equal(18, EthernetFrame.Write(b, Catalog.PeerMac, Catalog.HostMac, 4094, EtherTypes.Ipv6, 5));
        Assert.Equal("02000000000b02000000000a8100affe86dd", Hex.Of(b));
        Assert.True(EthernetFrame.TryRead(b, out var f));
        Assert.Equal((ushort)4094, f.Vlan.Value);
        Assert.Equal(5, f.Priority);
        Assert.Equal(EtherTypes.Ipv6, f.EtherType);
        Assert.Equal(18, f.HeaderLength);
    }

    [Fact]
    public void EthernetRead_PriorityTaggedFrame_ReportsVlanZero()
    {
        var b = Hex.Parse("02000000000b02000000000a8100a0000800");
        Assert.True(EthernetFrame.TryRead(b, out var f));
        Assert.True(f.Tagged);
        Assert.Equal(0, f.Vlan.Value);
        Assert.Equal(5, f.Priority);
        Assert.Equal(EtherTypes.Ipv4, f.EtherType);
    }

    [Theory]
    [InlineData("239.1.2.3", "ff02::1:ff02:304", "01:00:5e:01:02:03")]
    public void SolicitedNode_AndMulticastMac(string v4Group, string solicited, string mac)
    {
        Assert.Equal(IpAddress.Parse(solicited), NeighborDiscovery.SolicitedNodeAddress(IpAddress.Parse("2001:db8::1:102:304")));
        Assert.Equal(MacAddress.Parse(mac), MulticastMac.For(IpAddress.Parse(v4Group)));
    }

    /// <summary>Decodes a frame and calls the builder that makes it again from the decoded fields only.</summary>
    private static int Rebuild(byte[] frame, Span<byte> dst)
    {
        Assert.True(EthernetFrame.TryRead(frame, out var eth));
        if (eth.EtherType == EtherTypes.Arp)
        {
            Assert.True(ArpPacket.TryRead(eth.Payload, out var arp));
            return arp.IsGratuitous
                ? ArpPacket.WriteGratuitousFrame(dst, arp.SenderMac, arp.SenderIp, eth.Vlan)
                : ArpPacket.WriteFrame(dst, eth.Destination, eth.Vlan, arp.Operation, arp.SenderMac, arp.SenderIp, arp.TargetMac, arp.TargetIp);
        }
        Assert.True(IpPacket.TryRead(eth.Payload, eth.EtherType, out var ip));
        var mac = eth.Source;
        var vlan = eth.Vlan;
        switch (ip.Protocol)
        {
            case IpProtocols.Igmp:
                {
                    Assert.True(IgmpMessage.TryReadPacket(ip, out var m));
                    return (m.Type, m.Version) switch
                    {
                        (IgmpType.V1MembershipReport, _) => IgmpFrames.WriteV1Report(dst, mac, vlan, ip.Source, m.Group),
                        (IgmpType.V2MembershipReport, _) => IgmpFrames.WriteV2Report(dst, mac, vlan, ip.Source, m.Group),
                        (IgmpType.LeaveGroup, _) => IgmpFrames.WriteV2Leave(dst, mac, vlan, ip.Source, m.Group),
                        (IgmpType.V3MembershipReport, _) => IgmpFrames.WriteV3Report(dst, mac, vlan, ip.Source, CaptureVectorTests.ToRecords(m.Records)),
                        (IgmpType.MembershipQuery, 3) => IgmpFrames.WriteV3Query(dst, mac, vlan, ip.Source, m.Group, m.MaxResponseDeciseconds,
                            m.SuppressRouterProcessing, m.Qrv, m.QueryIntervalSeconds, CaptureVectorTests.ToArray(m.Sources)),
                        (IgmpType.MembershipQuery, _) => IgmpFrames.WriteV2Query(dst, mac, vlan, ip.Source, m.Group, m.MaxResponseCode),
                        _ => throw new InvalidOperationException("unexpected IGMP"),
                    };
                }
            case IpProtocols.Udp:
                {
                    Assert.True(UdpDatagram.TryRead(ip, out var u));
                    return UdpDatagram.WriteFrame(dst, mac, eth.Destination, vlan, ip.Source, ip.Destination, u.SourcePort, u.DestinationPort, u.Payload, ip.HopLimit);
                }
            default:
                {
                    Assert.Equal(IpProtocols.Icmpv6, ip.Protocol);
                    if (ip.Payload[0] is 135 or 136)
                    {
                        Assert.True(NeighborMessage.TryReadPacket(ip, out var nd));
                        if (nd.Type == NeighborDiscoveryType.NeighborSolicitation)
                            return NeighborDiscovery.WriteSolicitationFrame(dst, mac, vlan, ip.Source, nd.Target);
                        if (nd.IsSolicited)
                            return NeighborDiscovery.WriteAdvertisementFrame(dst, mac, eth.Destination, vlan, ip.Source, ip.Destination, nd.Target,
                                nd.IsRouter, nd.IsSolicited, nd.IsOverride);
                        Assert.Equal(mac, nd.TargetLinkLayerAddress);
                        return NeighborDiscovery.WriteUnsolicitedAdvertisementFrame(dst, mac, nd.Target, vlan);
                    }
                    Assert.True(MldMessage.TryReadPacket(ip, out var m));
                    return (m.Type, m.Version) switch
                    {
                        (MldType.V1Report, _) => MldFrames.WriteV1Report(dst, mac, vlan, ip.Source, m.MulticastAddress),
                        (MldType.V1Done, _) => MldFrames.WriteV1Done(dst, mac, vlan, ip.Source, m.MulticastAddress),
                        (MldType.V2Report, _) => MldFrames.WriteV2Report(dst, mac, vlan, ip.Source, CaptureVectorTests.ToRecords(m.Records)),
                        (MldType.Query, 2) => MldFrames.WriteV2Query(dst, mac, vlan, ip.Source, m.MulticastAddress, m.MaxResponseDelayMilliseconds,
                            m.SuppressRouterProcessing, m.Qrv, m.QueryIntervalSeconds, CaptureVectorTests.ToArray(m.Sources)),
                        (MldType.Query, _) => MldFrames.WriteV1Query(dst, mac, vlan, ip.Source, m.MulticastAddress, m.MaxResponseCode),
                        _ => throw new InvalidOperationException("unexpected MLD"),
                    };
                }
        }
    }
}
