using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.OpenFlow.Southbound;
using SubsetMulticast.OpenFlow.Tests.Protocol;
using Xunit.Abstractions;

namespace SubsetMulticast.OpenFlow.Tests.Interop;

/// <summary>Open vSwitch's own decoder (`ovs-ofctl ofp-print`) as a second, independent oracle for our encoder.</summary>
[Trait("Category", "Interop")]
public class OvsOfpPrintTests(ITestOutputHelper output)
{
    private static readonly Dictionary<OfpType, string> OvsNames = new()
    {
        [OfpType.Hello] = "OFPT_HELLO", [OfpType.Error] = "OFPT_ERROR", [OfpType.EchoRequest] = "OFPT_ECHO_REQUEST",
        [OfpType.EchoReply] = "OFPT_ECHO_REPLY", [OfpType.FeaturesRequest] = "OFPT_FEATURES_REQUEST",
        [OfpType.FeaturesReply] = "OFPT_FEATURES_REPLY", [OfpType.BarrierRequest] = "OFPT_BARRIER_REQUEST",
        [OfpType.BarrierReply] = "OFPT_BARRIER_REPLY", [OfpType.PortStatus] = "OFPT_PORT_STATUS", [OfpType.PacketIn] = "OFPT_PACKET_IN",
        [OfpType.PacketOut] = "OFPT_PACKET_OUT", [OfpType.FlowMod] = "OFPT_FLOW_MOD", [OfpType.GroupMod] = "OFPT_GROUP_MOD",
        [OfpType.MultipartRequest] = "OFPST_", [OfpType.MultipartReply] = "OFPST_",
    };

    [Fact]
    public void OfpPrint_EveryEmittedMessage_DecodesWithoutError()
    {
        string ofctl = Shell.Require("ovs-ofctl", "openvswitch-switch");
        var sb = new OpenFlowSouthbound(new SubsetMulticast.OpenFlow.Connections.OpenFlowListener(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0)));
        var rule4 = new GroupRule(new VlanId(0), IpAddress.Parse("239.1.2.3"), [1, 2, 3]);
        var rule6 = new GroupRule(new VlanId(42), IpAddress.Parse("ff0e::77"), [4]);
        var messages = Samples.All()
            .Concat(sb.InstallMessages(rule4, GroupModCommand.Add)).Concat(sb.RemoveMessages(rule4))
            .Concat(sb.InstallMessages(rule6, GroupModCommand.Modify)).ToList();
        foreach (var m in messages)
        {
            var (code, text, err) = Shell.Run(ofctl, $"ofp-print {Convert.ToHexString(m.ToArray())}");
            output.WriteLine(text.TrimEnd());
            Assert.True(code == 0, err);
            Assert.StartsWith(OvsNames[m.Type], text);
            Assert.DoesNotContain("***", text);
            Assert.DoesNotContain("decode error", text, StringComparison.OrdinalIgnoreCase);
        }
        uint gid = sb.GroupIdFor(rule4.Vlan, rule4.Group);
        string flow = Shell.Check(ofctl, $"ofp-print {Convert.ToHexString(sb.InstallMessages(rule4, GroupModCommand.Add).ElementAt(1).ToArray())}");
        Assert.Contains("ADD priority=1000,ip,nw_dst=239.1.2.3 cookie:0x534d", flow);
        Assert.Contains($"actions=group:{gid}", flow);
        string flow6 = Shell.Check(ofctl, $"ofp-print {Convert.ToHexString(sb.InstallMessages(rule6, GroupModCommand.Add).ElementAt(1).ToArray())}");
        Assert.Contains("dl_vlan=42", flow6);
        Assert.Contains("ipv6_dst=ff0e::77", flow6);
        // Prefix matches, as Open vSwitch reads them.
        Assert.Contains("ip,nw_dst=239.255.0.0/16", Shell.Check(ofctl, $"ofp-print {Convert.ToHexString(Samples.All().OfType<FlowMod>().Single(f => f.Match == Samples.BlockV4).ToArray())}"));
        Assert.Contains("ipv6_dst=ff15::7:0/112", Shell.Check(ofctl, $"ofp-print {Convert.ToHexString(Samples.All().OfType<FlowMod>().Single(f => f.Match == Samples.BlockV6).ToArray())}"));
        string group = Shell.Check(ofctl, $"ofp-print {Convert.ToHexString(sb.InstallMessages(rule4, GroupModCommand.Add).First().ToArray())}");
        Assert.Contains($"ADD group_id={gid},type=all,bucket=actions=output:1,bucket=actions=output:2,bucket=actions=output:3", group);
    }

    [Fact]
    public void OfpPrint_BundleMessages_DecodeAsOnfBundles()
    {
        string ofctl = Shell.Require("ovs-ofctl", "openvswitch-switch");
        var sb = new OpenFlowSouthbound(new SubsetMulticast.OpenFlow.Connections.OpenFlowListener(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0)));
        var rule = new GroupRule(new VlanId(0), IpAddress.Parse("239.255.0.9"), [1, 2]);
        const ushort flags = OfpBundle.FlagAtomic | OfpBundle.FlagOrdered;
        string open = Shell.Check(ofctl, $"ofp-print {Convert.ToHexString(new BundleControl(42, BundleControlType.OpenRequest, flags) { Xid = 5 }.ToArray())}");
        Assert.Contains("ONFT_BUNDLE_CONTROL (OF1.3) (xid=0x5)", open);
        Assert.Contains("bundle_id=0x2a type=OPEN_REQUEST flags=atomic ordered", open);
        string commit = Shell.Check(ofctl, $"ofp-print {Convert.ToHexString(new BundleControl(42, BundleControlType.CommitRequest, flags) { Xid = 6 }.ToArray())}");
        Assert.Contains("type=COMMIT_REQUEST", commit);
        uint gid = sb.GroupIdFor(rule.Vlan, rule.Group);
        uint xid = 7;
        foreach (var inner in sb.InstallMessages(rule, GroupModCommand.Add).Concat(sb.RemoveMessages(rule)))
        {
            var add = new BundleAdd(42, flags, inner) { Xid = xid++ };
            var (code, text, err) = Shell.Run(ofctl, $"ofp-print {Convert.ToHexString(add.ToArray())}");
            output.WriteLine(text.TrimEnd());
            Assert.True(code == 0, err);
            Assert.StartsWith($"ONFT_BUNDLE_ADD_MESSAGE (OF1.3) (xid=0x{add.Xid:x})", text);
            Assert.Contains($"{OvsNames[inner.Type]} (OF1.3) (xid=0x{add.Xid:x})", text); // the inner xid is the outer one
            Assert.DoesNotContain("decode error", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("***", text);
        }
        Assert.Contains($"group_id={gid}", Shell.Check(ofctl, $"ofp-print {Convert.ToHexString(new BundleAdd(42, flags, sb.InstallMessages(rule, GroupModCommand.Add).First()) { Xid = 9 }.ToArray())}"));
    }
}
