using System.Buffers;
using BenchmarkDotNet.Attributes;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.Benchmarks.OpenFlow;

/// <summary>
/// What an emulated switch reads for its part of one create + release under <c>tsm load</c>: GROUP_MOD ADD (3 buckets),
/// FLOW_MOD ADD (eth_type + ipv4_dst → group), BARRIER, then FLOW_MOD DELETE_STRICT, GROUP_MOD DELETE, BARRIER — framed
/// and decoded from one buffer as the agent's read loop does. The bytes are the controller's own encoding of the rule
/// (<c>OpenFlowSouthbound</c>'s messages), so the figure is the switch side's decode cost per switch and cycle.
/// </summary>
[MemoryDiagnoser]
public class SwitchSideDecodeBenchmarks
{
    private ReadOnlySequence<byte> _create, _release;

    [GlobalSetup]
    public void Setup()
    {
        var rule = new GroupRule(new VlanId(0), IpAddress.Parse("239.255.1.7"), [1, 5, 9]);
        var match = new OfpMatch { EthType = 0x0800, Ipv4Dst = rule.Group.V4 };
        const uint gid = 0x53_12_34_56;
        var buckets = rule.Ports.Select(p => new OfpBucket([new OutputAction(p)])).ToArray();
        OfpMessage[] create =
        [
            new GroupMod(GroupModCommand.Add, GroupType.All, gid, buckets) { Xid = 1 },
            new FlowMod(FlowModCommand.Add, match, [new ApplyActions([new GroupAction(gid)])]) { Xid = 2, Cookie = 0x534D_0000_0000_0000 | gid, Priority = 1000 },
            new BarrierRequest { Xid = 3 },
        ];
        OfpMessage[] release =
        [
            new FlowMod(FlowModCommand.DeleteStrict, match, []) { Xid = 4, Cookie = 0x534D_0000_0000_0000 | gid, CookieMask = ulong.MaxValue, Priority = 1000 },
            new GroupMod(GroupModCommand.Delete, GroupType.All, gid, []) { Xid = 5 },
            new BarrierRequest { Xid = 6 },
        ];
        _create = new ReadOnlySequence<byte>(create.SelectMany(m => m.ToArray()).ToArray());
        _release = new ReadOnlySequence<byte>(release.SelectMany(m => m.ToArray()).ToArray());
    }

    [Benchmark(Description = "switch side: frame + decode one create and one release (6 messages)")]
    public int DecodeCycle()
    {
        int n = 0;
        var buffer = _create;
        while (OpenFlowFramer.TryReadMessage(ref buffer, Ofp.MaxMessageLength, out var m)) n += (int)m!.Xid;
        buffer = _release;
        while (OpenFlowFramer.TryReadMessage(ref buffer, Ofp.MaxMessageLength, out var m)) n += (int)m!.Xid;
        return n;
    }
}
