using System.Buffers.Binary;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Packets;
using SubsetMulticast.Packets.Arp;
using SubsetMulticast.Packets.Ethernet;
using SubsetMulticast.Packets.Igmp;
using SubsetMulticast.Packets.Ip;
using SubsetMulticast.Packets.Lldp;
using SubsetMulticast.Packets.Mld;
using SubsetMulticast.Packets.Ndp;
using SubsetMulticast.Packets.Tests.Support;
using SubsetMulticast.Packets.Udp;
using SubsetMulticast.Snooping;

namespace SubsetMulticast.Fuzz.Targets;

// The packet readers (src/SubsetMulticast.Packets). Contract: Read… returns a status and never throws;
// TryRead… returns false only for "need more bytes" and throws MalformedPacketException otherwise.
// Checksums would stop a mutation-based fuzzer at the first field it changes, so every target reads the
// input twice: as given (the checksum paths), and with its checksums repaired (everything behind them).

/// <summary>Ethernet → IPv4/IPv6 → IGMP/MLD/ND/ARP/UDP/LLDP as the snooper and the controller's PACKET_IN path read them, then through a real <see cref="Snooper"/>.</summary>
public sealed class FrameTarget : FuzzTarget
{
    public override string Name => "frame";
    public override string Description => "Ethernet frame: every packet reader it reaches, and Snooper.Process";
    public override Type? DocumentedException => typeof(MalformedPacketException);

    protected override void Run(ReadOnlySpan<byte> input)
    {
        var repaired = input.ToArray();
        Checksums.RepairFrame(repaired);
        foreach (var frame in new[] { input.ToArray(), repaired })
        {
            Stack.Frame(frame);
            // The snooper is the product consumer of these frames: it must count a drop, never throw.
            var snooper = new Snooper(new SnoopingOptions { LearnHosts = true });
            var port = snooper.AddPort("p1");
            snooper.Process(port, frame, 1);
            snooper.Process(port, frame, TimeSpan.TicksPerSecond);
            _ = Lldp.TryParse(frame, out _, out _);
            if (EthernetFrame.TryRead(frame, out var eth))
            {
                ContractViolation.Check(eth.HeaderLength <= frame.Length, "Ethernet header longer than the frame");
            }
        }
    }

    public override IEnumerable<(string, byte[])> Seeds()
    {
        foreach (var f in Catalog.All()) yield return (f.Name, f.Bytes);
        int i = 0;
        foreach (var hex in Vectors.AllFrames) yield return ($"tcpdump-{i++}", Hex.Parse(hex));
        yield return ("lldp", Lldp.Build(0x0000_0000_0000_00ABUL, 7, MacAddress.Parse("02:00:00:00:00:01")));
    }
}

/// <summary>An IPv4 or IPv6 packet (header, options, extension chain) and the upper layer it carries.</summary>
public sealed class IpTarget : FuzzTarget
{
    public override string Name => "ip";
    public override string Description => "IPv4/IPv6 header, options and extension chain, then the upper layer";
    public override Type? DocumentedException => typeof(MalformedPacketException);

    protected override void Run(ReadOnlySpan<byte> input)
    {
        Stack.Ip(input, input.Length > 0 && input[0] >> 4 == 6 ? EtherTypes.Ipv6 : EtherTypes.Ipv4);
        var repaired = input.ToArray();
        Checksums.RepairIp(repaired);
        Stack.Ip(repaired, repaired.Length > 0 && repaired[0] >> 4 == 6 ? EtherTypes.Ipv6 : EtherTypes.Ipv4);
    }

    public override IEnumerable<(string, byte[])> Seeds() =>
        Stack.L3Seeds().Append(("rfc1071-header", Hex.Parse(Vectors.Ipv4HeaderOnly)));
}

/// <summary>An IGMP message (v1/v2/v3 queries and reports); reports and queries round-trip through the writers.</summary>
public sealed class IgmpTarget : FuzzTarget
{
    public override string Name => "igmp";
    public override string Description => "IGMP message (IP payload), round trip through IgmpMessage.Write…";
    public override Type? DocumentedException => typeof(MalformedPacketException);

    protected override void Run(ReadOnlySpan<byte> input)
    {
        Check(input);
        if (input.Length < 4) return;
        var repaired = input.ToArray();
        Checksums.Set(repaired, 2, InternetChecksum.Sum(repaired.AsSpan(0, 2), InternetChecksum.Sum(repaired.AsSpan(4))));
        Check(repaired);
    }

    private static void Check(ReadOnlySpan<byte> message)
    {
        var status = IgmpMessage.Read(message, out var m, out var fault);
        ContractViolation.Check(status == ReadStatus.Ok || fault.Offset >= 0 && fault.Offset <= message.Length, $"fault offset {fault.Offset} outside {message.Length} bytes");
        bool tried = IgmpMessage.TryRead(message, out _); // may throw the documented exception only
        ContractViolation.Check(tried == (status == ReadStatus.Ok), "TryRead and Read disagree");
        if (status != ReadStatus.Ok) return;
        Span<byte> again = new byte[Math.Max(64, message.Length + 64)];
        if (m.Type == IgmpType.V3MembershipReport)
        {
            var records = Stack.Records(m.Records);
            int n = IgmpMessage.WriteV3Report(again, records);
            ContractViolation.Check(IgmpMessage.Read(again[..n], out var back, out _) == ReadStatus.Ok, "re-encoded IGMPv3 report does not read");
            Stack.SameRecords(records, back.Records);
        }
        else if (m.IsQuery && m.Version == 3)
        {
            var sources = Stack.Sources(m.Sources);
            int n = IgmpMessage.WriteV3Query(again, m.MaxResponseDeciseconds, m.Group, m.SuppressRouterProcessing, m.Qrv, m.QueryIntervalSeconds, sources);
            ContractViolation.Check(IgmpMessage.Read(again[..n], out var back, out _) == ReadStatus.Ok, "re-encoded IGMPv3 query does not read");
            ContractViolation.Check(back.MaxResponseDeciseconds == m.MaxResponseDeciseconds && back.QueryIntervalSeconds == m.QueryIntervalSeconds
                && back.Group == m.Group && back.Qrv == m.Qrv && back.SuppressRouterProcessing == m.SuppressRouterProcessing
                && back.Sources.Count == m.Sources.Count, "IGMPv3 query fields change in a round trip");
        }
        else if (m.Version is 1 or 2)
        {
            int n = IgmpMessage.WriteV2(again, m.Type, m.MaxResponseCode, m.Group);
            // The checksum covers the whole message, which may run past 8 bytes; every other field must come back.
            ContractViolation.Check(n == 8 && again[..2].SequenceEqual(message[..2]) && again[4..8].SequenceEqual(message[4..8]),
                "IGMPv1/v2 message does not re-encode to its fields");
        }
    }

    public override IEnumerable<(string, byte[])> Seeds() => Stack.L4Seeds(IpProtocols.Igmp);
}

/// <summary>An MLD message (v1/v2 queries, reports, dones) from fe80::1 to ff02::16; reports and queries round-trip.</summary>
public sealed class MldTarget : FuzzTarget
{
    internal static readonly IpAddress Source = IpAddress.Parse("fe80::1"), Destination = IpAddress.Parse("ff02::16");
    public override string Name => "mld";
    public override string Description => "MLD message (ICMPv6 payload), round trip through MldMessage.WriteV2Report";
    public override Type? DocumentedException => typeof(MalformedPacketException);

    protected override void Run(ReadOnlySpan<byte> input)
    {
        Check(input);
        if (input.Length < 4) return;
        var repaired = input.ToArray();
        Checksums.RepairIcmpv6(repaired, Source, Destination);
        Check(repaired);
    }

    private static void Check(ReadOnlySpan<byte> message)
    {
        var status = MldMessage.Read(message, Source, Destination, out var m, out var fault);
        ContractViolation.Check(status == ReadStatus.Ok || fault.Offset >= 0 && fault.Offset <= message.Length, $"fault offset {fault.Offset} outside {message.Length} bytes");
        bool tried = MldMessage.TryRead(message, Source, Destination, out _);
        ContractViolation.Check(tried == (status == ReadStatus.Ok), "TryRead and Read disagree");
        if (status != ReadStatus.Ok || m.Type != MldType.V2Report) return;
        var records = Stack.Records(m.Records);
        Span<byte> again = new byte[message.Length + 64];
        int n = MldMessage.WriteV2Report(again, Source, Destination, records);
        ContractViolation.Check(MldMessage.Read(again[..n], Source, Destination, out var back, out _) == ReadStatus.Ok, "re-encoded MLDv2 report does not read");
        Stack.SameRecords(records, back.Records);
    }

    public override IEnumerable<(string, byte[])> Seeds() => Stack.L4Seeds(IpProtocols.Icmpv6).Where(s => s.Item2.Length > 0 && s.Item2[0] is >= 130 and <= 143 and not (135 or 136));
}

/// <summary>A Neighbor Solicitation or Advertisement with its options (RFC 4861).</summary>
public sealed class NeighborDiscoveryTarget : FuzzTarget
{
    public override string Name => "nd";
    public override string Description => "IPv6 Neighbor Solicitation/Advertisement and options";
    public override Type? DocumentedException => typeof(MalformedPacketException);

    protected override void Run(ReadOnlySpan<byte> input)
    {
        Check(input);
        if (input.Length < 4) return;
        var repaired = input.ToArray();
        Checksums.RepairIcmpv6(repaired, MldTarget.Source, MldTarget.Destination);
        Check(repaired);
    }

    private static void Check(ReadOnlySpan<byte> message)
    {
        var status = NeighborMessage.Read(message, MldTarget.Source, MldTarget.Destination, out var m, out var fault);
        ContractViolation.Check(status == ReadStatus.Ok || fault.Offset >= 0 && fault.Offset <= message.Length, $"fault offset {fault.Offset} outside {message.Length} bytes");
        bool tried = NeighborMessage.TryRead(message, MldTarget.Source, MldTarget.Destination, out _);
        ContractViolation.Check(tried == (status == ReadStatus.Ok), "TryRead and Read disagree");
        if (status == ReadStatus.Ok) _ = (m.Target, m.SourceLinkLayerAddress, m.TargetLinkLayerAddress, m.IsRouter);
    }

    public override IEnumerable<(string, byte[])> Seeds() => Stack.L4Seeds(IpProtocols.Icmpv6).Where(s => s.Item2.Length > 0 && s.Item2[0] is 135 or 136);
}

/// <summary>An ARP packet (Ethernet/IPv4 only); a read packet re-encodes to its 28 bytes.</summary>
public sealed class ArpTarget : FuzzTarget
{
    public override string Name => "arp";
    public override string Description => "ARP packet, round trip through ArpPacket.Write";
    public override Type? DocumentedException => typeof(MalformedPacketException);

    protected override void Run(ReadOnlySpan<byte> input)
    {
        var status = ArpPacket.Read(input, out var a, out _);
        bool tried = ArpPacket.TryRead(input, out _);
        ContractViolation.Check(tried == (status == ReadStatus.Ok), "TryRead and Read disagree");
        if (status != ReadStatus.Ok) return;
        Span<byte> again = stackalloc byte[ArpPacket.Length];
        ArpPacket.Write(again, a.Operation, a.SenderMac, a.SenderIp, a.TargetMac, a.TargetIp);
        ContractViolation.Check(again.SequenceEqual(input[..ArpPacket.Length]), "ARP packet does not re-encode to its bytes");
    }

    public override IEnumerable<(string, byte[])> Seeds() =>
        Catalog.All().Where(f => f.Name.StartsWith("arp", StringComparison.Ordinal)).Select(f => (f.Name, f.Bytes[EthernetFrame.UntaggedHeaderLength..]));
}

/// <summary>The layers below a message, read as the snooper reads them.</summary>
internal static class Stack
{
    public static void Frame(ReadOnlySpan<byte> frame)
    {
        var status = EthernetFrame.Read(frame, out var eth, out _);
        bool tried = EthernetFrame.TryRead(frame, out _);
        ContractViolation.Check(tried == (status == ReadStatus.Ok), "Ethernet TryRead and Read disagree");
        if (status != ReadStatus.Ok) return;
        _ = (eth.Destination, eth.Source, eth.Vlan, eth.Priority);
        if (eth.EtherType == EtherTypes.Arp) { _ = ArpPacket.Read(eth.Payload, out _, out _); return; }
        Ip(eth.Payload, eth.EtherType);
    }

    public static void Ip(ReadOnlySpan<byte> l3, ushort etherType)
    {
        if (etherType is not (EtherTypes.Ipv4 or EtherTypes.Ipv6)) return;
        var status = etherType == EtherTypes.Ipv4 ? IpPacket.ReadV4(l3, out var ip, out var fault) : IpPacket.ReadV6(l3, out ip, out fault);
        ContractViolation.Check(status == ReadStatus.Ok || fault.Offset >= 0 && fault.Offset <= l3.Length, $"IP fault offset {fault.Offset} outside {l3.Length} bytes");
        bool tried = IpPacket.TryRead(l3, etherType, out _);
        ContractViolation.Check(tried == (status == ReadStatus.Ok), "IP TryRead and Read disagree");
        if (status != ReadStatus.Ok) return;
        ContractViolation.Check(ip.TotalLength <= l3.Length, "IP total length beyond the bytes given");
        _ = (ip.Source, ip.Destination, ip.HasRouterAlert, ip.RouterAlertValue, ip.TrafficClass);
        if (ip.IsFragment) return;
        switch (ip.Protocol)
        {
            case IpProtocols.Igmp when ip.Version == 4:
                _ = IgmpMessage.ReadPacket(ip, out _, out _);
                _ = IgmpMessage.TryReadPacket(ip, out _);
                break;
            case IpProtocols.Icmpv6 when ip.Version == 6 && !ip.Payload.IsEmpty:
                if (ip.Payload[0] is 135 or 136)
                {
                    _ = NeighborMessage.ReadPacket(ip, out _, out _);
                    _ = NeighborMessage.TryReadPacket(ip, out _);
                }
                else if (ip.Payload[0] is 130 or 131 or 132 or 143)
                {
                    _ = MldMessage.ReadPacket(ip, out _, out _);
                    _ = MldMessage.TryReadPacket(ip, out _);
                }
                break;
            case IpProtocols.Udp:
                if (UdpDatagram.TryRead(ip, out var udp)) _ = (udp.SourcePort, udp.DestinationPort, udp.Payload.Length);
                break;
        }
    }

    public static GroupRecord[] Records(GroupRecordList list)
    {
        var records = new GroupRecord[list.Count];
        int i = 0;
        foreach (var r in list) records[i++] = new GroupRecord(r.Type, r.Group, Sources(r.Sources), r.AuxData.ToArray());
        return records;
    }

    public static IpAddress[] Sources(SourceList list)
    {
        var sources = new IpAddress[list.Count];
        for (int i = 0; i < sources.Length; i++) sources[i] = list[i];
        return sources;
    }

    public static void SameRecords(GroupRecord[] expected, GroupRecordList actual)
    {
        ContractViolation.Check(actual.Count == expected.Length, "record count changes in a round trip");
        int i = 0;
        foreach (var r in actual)
        {
            var e = expected[i++];
            ContractViolation.Check(r.Type == e.Type && r.Group == e.Group && r.Sources.Count == e.Sources.Length
                && r.AuxData.SequenceEqual(e.AuxData.Span), $"record {i - 1} changes in a round trip");
        }
    }

    /// <summary>The IP packets of every catalogued frame.</summary>
    public static IEnumerable<(string, byte[])> L3Seeds()
    {
        foreach (var f in Catalog.All())
        {
            if (!EthernetFrame.TryRead(f.Bytes, out var eth) || eth.EtherType is not (EtherTypes.Ipv4 or EtherTypes.Ipv6)) continue;
            yield return (f.Name, eth.Payload.ToArray());
        }
        int i = 0;
        foreach (var hex in Vectors.AllFrames)
        {
            var bytes = Hex.Parse(hex);
            if (EthernetFrame.TryRead(bytes, out var eth)) yield return ($"tcpdump-{i}", eth.Payload.ToArray());
            i++;
        }
    }

    /// <summary>The upper-layer messages of protocol <paramref name="protocol"/> in every catalogued frame.</summary>
    public static IEnumerable<(string, byte[])> L4Seeds(byte protocol)
    {
        foreach (var (name, l3) in L3Seeds())
        {
            var ok = l3[0] >> 4 == 4 ? IpPacket.TryReadV4(l3, out var ip) : IpPacket.TryReadV6(l3, out ip);
            if (ok && ip.Protocol == protocol) yield return (name, ip.Payload.ToArray());
        }
    }
}

/// <summary>Puts right checksums into mutated bytes so the fuzzer reaches the fields behind them.</summary>
internal static class Checksums
{
    public static void Set(Span<byte> bytes, int at, uint partialWithoutField) =>
        BinaryPrimitives.WriteUInt16BigEndian(bytes[at..], InternetChecksum.Finish(partialWithoutField));

    public static void RepairFrame(Span<byte> frame)
    {
        if (EthernetFrame.Read(frame, out var eth, out _) != ReadStatus.Ok) return;
        int at = eth.HeaderLength;
        RepairIp(frame[at..]);
    }

    public static void RepairIp(Span<byte> l3)
    {
        if (l3.Length < 1) return;
        if (l3[0] >> 4 == 4)
        {
            int ihl = (l3[0] & 0xF) * 4;
            if (ihl < 20 || ihl > l3.Length) return;
            Set(l3, 10, InternetChecksum.Sum(l3[..10], InternetChecksum.Sum(l3[12..ihl])));
            if (IpPacket.ReadV4(l3, out var ip, out _) != ReadStatus.Ok || ip.IsFragment) return;
            int payload = ip.PayloadOffset, length = ip.PayloadLength;
            if (ip.Protocol == IpProtocols.Igmp && length >= 4)
            {
                var igmp = l3.Slice(payload, length);
                Set(igmp, 2, InternetChecksum.Sum(igmp[..2], InternetChecksum.Sum(igmp[4..])));
            }
        }
        else if (l3[0] >> 4 == 6)
        {
            if (IpPacket.ReadV6(l3, out var ip, out _) != ReadStatus.Ok || ip.IsFragment || ip.Protocol != IpProtocols.Icmpv6) return;
            var (source, destination, payload, length) = (ip.Source, ip.Destination, ip.PayloadOffset, ip.PayloadLength);
            RepairIcmpv6(l3.Slice(payload, length), source, destination);
        }
    }

    public static void RepairIcmpv6(Span<byte> message, IpAddress source, IpAddress destination)
    {
        if (message.Length < 4) return;
        uint pseudo = InternetChecksum.PseudoHeader(source, destination, IpProtocols.Icmpv6, message.Length);
        Set(message, 2, InternetChecksum.Sum(message[..2], InternetChecksum.Sum(message[4..], pseudo)));
    }
}
