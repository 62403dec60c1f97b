using SubsetMulticast.Core.Addressing;
using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.OpenFlow.Tests.Protocol;

/// <summary>One instance of every message type the codec knows, with non-default fields.</summary>
public static class Samples
{
    public static readonly OfpPort Port1 = new(1, MacAddress.Parse("02:00:00:00:00:01"), "p1", CurrSpeed: 10_000_000, MaxSpeed: 10_000_000);
    public static readonly OfpPort Port2 = new(2, MacAddress.Parse("02:00:00:00:00:02"), "a-very-long-port-name", State: 1);

    public static readonly OfpMatch MulticastV4 = new() { EthType = 0x0800, Ipv4Dst = 0xEF010101 };
    public static readonly OfpMatch Everything = new()
    {
        InPort = 3, EthDst = MacAddress.Parse("01:00:5e:01:01:01"), EthType = 0x86DD, VlanVid = 0x1000 | 42, IpProto = 17,
        Ipv6Dst = IpAddress.Parse("ff0e::1:2"), UdpDst = 9000,
    };

    /// <summary>Prefix matches: the controller's "transactional block without a rule → router ports" flows.</summary>
    public static readonly OfpMatch BlockV4 = new() { EthType = 0x0800, Ipv4Dst = 0xEFFF0000, Ipv4DstMask = 0xFFFF0000 };
    public static readonly OfpMatch BlockV6 = new()
    {
        VlanVid = 0x1000 | 7, EthType = 0x86DD, Ipv6Dst = IpAddress.Parse("ff15::7:0"), Ipv6DstMask = IpAddress.Parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:0"),
    };

    public static IEnumerable<OfpMessage> All()
    {
        yield return new HelloMessage(HelloMessage.Bitmap13) { Xid = 1 };
        yield return new HelloMessage(null) { Xid = 1 };
        yield return new ErrorMessage(6, 0, new GroupMod(GroupModCommand.Delete, GroupType.All, 16, []) { Xid = 9 }.ToArray()) { Xid = 9 };
        yield return new EchoRequest([1, 2, 3]) { Xid = 2 };
        yield return new EchoReply([]) { Xid = 2 };
        yield return new FeaturesRequest { Xid = 3 };
        yield return new FeaturesReply(0x0000_0000_0000_00AB, 256, 254, 0, 0x4F) { Xid = 3 };
        yield return new BarrierRequest { Xid = 4 };
        yield return new BarrierReply { Xid = 4 };
        yield return new PortStatus(PortStatusReason.Modify, Port2) { Xid = 0 };
        yield return new PacketIn(Ofp.NoBuffer, 60, PacketInReason.Action, 0, 0x5342_0000_0000_0001, new OfpMatch { InPort = 7 }, new byte[60]) { Xid = 0 };
        yield return new PacketOut(Ofp.NoBuffer, Ofp.PortController, [new OutputAction(2), new OutputAction(Ofp.PortController, 0xFFFF)], new byte[64]) { Xid = 5 };
        yield return new FlowMod(FlowModCommand.Add, MulticastV4, [new ApplyActions([new GroupAction(16)])])
        { Xid = 6, Cookie = 0x5342_0000_0000_0010, Priority = 1000 };
        yield return new FlowMod(FlowModCommand.DeleteStrict, Everything, []) { Xid = 7, Cookie = 1, CookieMask = ulong.MaxValue, OutGroup = Ofp.GroupAny };
        yield return new GroupMod(GroupModCommand.Add, GroupType.All, 16, [new OfpBucket([new OutputAction(1)]), new OfpBucket([new OutputAction(2)])]) { Xid = 8 };
        yield return new GroupMod(GroupModCommand.Delete, GroupType.All, 16, []) { Xid = 8 };
        yield return new PortDescRequest { Xid = 10 };
        yield return new PortDescReply([Port1, Port2]) { Xid = 10 };
        yield return new FlowStatsRequest(OfpMatch.Any) { Xid = 11, Cookie = 0x5342_0000_0000_0000, CookieMask = 0xFFFF_0000_0000_0000 };
        yield return new FlowStatsReply([
            new FlowStatsEntry(0, 1000, 0x5342_0000_0000_0010, MulticastV4, [new ApplyActions([new GroupAction(16)])]) { PacketCount = 5, ByteCount = 500, DurationSec = 3 },
            new FlowStatsEntry(0, 0, 0, Everything, [])], Ofp.MultipartMore) { Xid = 11 };
        yield return new GroupDescRequest { Xid = 12 };
        yield return new GroupDescReply([new GroupDescEntry(GroupType.All, 16, [new OfpBucket([new OutputAction(1)])])]) { Xid = 12 };
        yield return new GroupStatsRequest() { Xid = 13 };
        yield return new FlowMod(FlowModCommand.Add, BlockV4, [new ApplyActions([new OutputAction(1)])]) { Xid = 14, Cookie = 0x5355_0000_0000_0000, Priority = 500 };
        yield return new FlowMod(FlowModCommand.Add, BlockV6, []) { Xid = 15, Cookie = 0x5355_0000_0000_0001, Priority = 500 };
        yield return new GroupStatsReply([new GroupStatsEntry(16, 1, 10, 1000, [(4, 400), (6, 600)]) { DurationSec = 9 }]) { Xid = 13 };
    }
}
