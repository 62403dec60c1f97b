using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.Packets;
using SubsetMulticast.Packets.Ethernet;
using SubsetMulticast.Packets.Igmp;
using SubsetMulticast.Packets.Ip;
using SubsetMulticast.Packets.Mld;

namespace SubsetMulticast.Emulator.Tests;

/// <summary>
/// Emulated hosts answer queries as a host's IP stack does (RFC 3376 §5.2, RFC 3810 §6.2): a general query
/// of one family with a current-state report of every group of that family the host is in, a group-specific
/// query only from members of that group; a host that left stays silent. The answers are real IGMPv3 / MLDv2
/// reports, seen here where snooping sees them: at the answering host's own switch port.
/// </summary>
public sealed class HostQueryAnswerTests
{
    private static readonly IpAddress G1 = IpAddress.Parse("239.1.0.1"), G2 = IpAddress.Parse("239.1.0.2"), G6 = IpAddress.Parse("ff15::1:1");

    [Fact]
    public void Queries_AreAnsweredByTheMembersOfWhatTheyAskAbout()
    {
        var fabric = new EmulatedFabric(FabricSpec.LeafSpine(1, 2, 2, vlan: 0, ipv6: true));
        var answers = new List<(string Host, GroupRecordType Type, IpAddress Group)>();
        fabric.ControlTap = (sw, inPort, frame) =>
        {
            var host = fabric.Hosts.SingleOrDefault(h => h.Switch == sw.Index && h.Port == inPort);
            if (host is not null) foreach (var r in Records(frame)) answers.Add((host.Name, r.Type, r.Group));
        };
        var (h11, h12, h21, h22) = (fabric.Host("h1-1"), fabric.Host("h1-2"), fabric.Host("h2-1"), fabric.Host("h2-2"));
        fabric.Join(h11, G1);
        fabric.Join(h22, G1);
        fabric.Join(h21, G2);
        fabric.Join(h22, G6);
        answers.Clear();

        // h1-2 is the querier. A general IGMP query: each IPv4 member reports its IPv4 groups, and only those.
        var report = fabric.Send(h12, V4Query(h12, IpAddress.FromV4(0)));
        Assert.Equal(3, report.HostsReached().Count());
        Assert.Equal([("h1-1", GroupRecordType.ModeIsExclude, G1), ("h2-1", GroupRecordType.ModeIsExclude, G2), ("h2-2", GroupRecordType.ModeIsExclude, G1)],
            answers.Order());
        Assert.Equal(3, fabric.QueryAnswers.FramesSent);

        // A group-specific query for G1: its two members.
        answers.Clear();
        fabric.Send(h12, V4Query(h12, G1));
        Assert.Equal([("h1-1", GroupRecordType.ModeIsExclude, G1), ("h2-2", GroupRecordType.ModeIsExclude, G1)], answers.Order());

        // After a leave the host is silent; the other member still answers.
        fabric.Leave(h11, G1);
        Assert.False(fabric.IsMember(h11, G1));
        answers.Clear();
        fabric.Send(h12, V4Query(h12, G1));
        Assert.Equal([("h2-2", GroupRecordType.ModeIsExclude, G1)], answers);

        // A general MLD query: only the IPv6 group.
        answers.Clear();
        fabric.Send(h12, V6Query(h12, default));
        Assert.Equal([("h2-2", GroupRecordType.ModeIsExclude, G6)], answers);

        // A query for a group nobody is in, and a report (not a query), raise nothing.
        answers.Clear();
        long before = fabric.QueryAnswers.FramesSent;
        fabric.Send(h12, V4Query(h12, IpAddress.Parse("239.9.9.9")));
        fabric.Reaffirm(h11, G2);
        Assert.Equal([("h1-1", GroupRecordType.ModeIsExclude, G2)], answers);   // the reaffirm itself
        Assert.Equal(before, fabric.QueryAnswers.FramesSent);
    }

    [Fact]
    public void GeneralQuery_HostInManyGroups_ReportsEveryGroupAcrossSeveralReports()
    {
        var fabric = new EmulatedFabric(FabricSpec.LeafSpine(1, 2, 2, vlan: 0, ipv6: false));
        var host = fabric.Host("h2-1");
        var groups = Enumerable.Range(1, 70).Select(i => IpAddress.Parse($"239.2.0.{i}")).ToList();
        foreach (var g in groups) fabric.Join(host, g);
        var seen = new List<IpAddress>();
        fabric.ControlTap = (sw, inPort, frame) =>
        {
            if (sw.Index == host.Switch && inPort == host.Port) foreach (var r in Records(frame)) seen.Add(r.Group);
        };
        fabric.Send(fabric.Host("h1-1"), V4Query(fabric.Host("h1-1"), IpAddress.FromV4(0)));
        Assert.Equal(groups.Order(), seen.Order());
        Assert.Equal(3, fabric.QueryAnswers.FramesSent);   // 32 + 32 + 6 records
    }

    private static byte[] V4Query(EmulatedHost from, IpAddress group)
    {
        var b = new byte[128];
        return b[..IgmpFrames.WriteV3Query(b, from.Mac, from.Vlan, from.Ipv4, group, 10)];
    }

    private static byte[] V6Query(EmulatedHost from, IpAddress group)
    {
        var b = new byte[160];
        var linkLocal = IpAddress.FromV6(0xFE80UL << 48, 0x0200_0000_0000_0000UL | from.Mac.Value);
        return b[..MldFrames.WriteV2Query(b, from.Mac, from.Vlan, linkLocal, group, 1000)];
    }

    private static List<(GroupRecordType Type, IpAddress Group)> Records(ReadOnlySpan<byte> frame)
    {
        var list = new List<(GroupRecordType, IpAddress)>();
        if (!EthernetFrame.TryRead(frame, out var eth) || !IpPacket.TryRead(eth.Payload, eth.EtherType, out var ip)) return list;
        if (ip.Version == 4 && IgmpMessage.TryReadPacket(in ip, out var igmp) && igmp.Type == IgmpType.V3MembershipReport)
            foreach (var r in igmp.Records) list.Add((r.Type, r.Group));
        else if (ip.Version == 6 && ip.Protocol == IpProtocols.Icmpv6 && MldMessage.TryReadPacket(in ip, out var mld) && mld.Type == MldType.V2Report)
            foreach (var r in mld.Records) list.Add((r.Type, r.Group));
        return list;
    }
}
