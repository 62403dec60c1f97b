using System.Net;
using System.Text.Json;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.OpenFlow.Agent;
using SubsetMulticast.OpenFlow.Discovery;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.Packets;
using SubsetMulticast.Packets.Arp;
using SubsetMulticast.Packets.Igmp;
using SubsetMulticast.Packets.Lldp;

namespace SubsetMulticast.Controller.Tests.Support;

/// <summary>
/// One spine and two leaves of OpenFlow switch agents (the switch side of OpenFlow 1.3) that connect to a
/// controller over TCP. Cables are emulated: an LLDP packet-out on a wired port arrives as a packet-in at the
/// other end. Hosts h1..h3 on leaf 1 ports 1..3 and h4..h6 on leaf 2; leaf uplinks are port 10, the spine's
/// ports are 1 and 2. A host's IGMP/ARP frame is punted the way a switch forwarding it normally punts it:
/// at its leaf, at the spine, and at the other leaf.
/// </summary>
internal sealed class AgentFabric : IAsyncDisposable
{
    public const ulong SpineDpid = 0x10, Leaf1Dpid = 0x11, Leaf2Dpid = 0x12;
    public readonly OpenFlowSwitchAgent Spine, Leaf1, Leaf2;
    private readonly Dictionary<(OpenFlowSwitchAgent, uint), (OpenFlowSwitchAgent, uint)> _cables = [];

    public AgentFabric()
    {
        Spine = new OpenFlowSwitchAgent(SpineDpid, Ports(1, 2));
        Leaf1 = new OpenFlowSwitchAgent(Leaf1Dpid, Ports(1, 2, 3, 10));
        Leaf2 = new OpenFlowSwitchAgent(Leaf2Dpid, Ports(1, 2, 3, 10));
        Cable(Leaf1, 10, Spine, 1);
        Cable(Leaf2, 10, Spine, 2);
        foreach (var agent in All)
        {
            var self = agent;
            agent.PacketOut += (ports, frame) =>
            {
                if (frame.Length < 14 || ((frame[12] << 8) | frame[13]) != Lldp.EtherType) return;
                foreach (var p in ports)
                    if (_cables.TryGetValue((self, p), out var peer) && peer.Item1.IsConnected)
                        _ = peer.Item1.SendPacketInAsync(peer.Item2, frame);
            };
        }
    }

    public IEnumerable<OpenFlowSwitchAgent> All => [Spine, Leaf1, Leaf2];

    public static string Id(ulong dpid) => dpid.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    public static MacAddress Mac(int host) => new(0x02_00_00_00_00_00UL | (uint)host);
    public static IpAddress Ip(int host) => IpAddress.Parse($"10.0.{(host - 1) / 3 + 1}.{(host - 1) % 3 + 1}");

    private static IEnumerable<OfpPort> Ports(params uint[] numbers) =>
        numbers.Select(n => new OfpPort(n, new MacAddress(0x02_AA_00_00_00_00UL | n), $"eth{n}"));

    private void Cable(OpenFlowSwitchAgent a, uint pa, OpenFlowSwitchAgent b, uint pb)
    {
        _cables[(a, pa)] = (b, pb);
        _cables[(b, pb)] = (a, pa);
    }

    public async Task ConnectAsync(IPEndPoint controller)
    {
        foreach (var a in All) await a.ConnectAsync(controller);
    }

    /// <summary>Punts a frame from host <paramref name="host"/> (1..6) at every switch that forwards it.</summary>
    public async Task EmitAsync(int host, byte[] frame)
    {
        var (own, other, spinePort) = host <= 3 ? (Leaf1, Leaf2, 1u) : (Leaf2, Leaf1, 2u);
        await own.SendPacketInAsync((uint)((host - 1) % 3 + 1), frame);
        await Spine.SendPacketInAsync(spinePort, frame);
        await other.SendPacketInAsync(10, frame);
    }

    /// <summary>
    /// True when GET /api/v1/reference-groups shows one group holding every port a join of all six hosts comes
    /// in on: each leaf's host ports and uplink, both spine ports.
    /// </summary>
    public static bool EveryJoinLearned(JsonElement referenceGroups)
    {
        if (referenceGroups.GetArrayLength() != 1) return false;
        var want = new Dictionary<string, uint[]> { [Id(SpineDpid)] = [1, 2], [Id(Leaf1Dpid)] = [1, 2, 3, 10], [Id(Leaf2Dpid)] = [1, 2, 3, 10] };
        var switches = referenceGroups[0].GetProperty("switches");
        return switches.GetArrayLength() == 3 && switches.EnumerateArray().All(s =>
            want.TryGetValue(s.GetProperty("id").GetString()!, out var ports) &&
            ports.All(p => s.GetProperty("memberPorts").EnumerateArray().Any(x => x.GetUInt32() == p)));
    }

    public static byte[] Join(int host, IpAddress group)
    {
        var b = new byte[256];
        return b[..IgmpFrames.WriteV3Report(b, Mac(host), default, Ip(host), [new GroupRecord(GroupRecordType.ChangeToExclude, group)])];
    }

    public static byte[] Arp(int host)
    {
        var b = new byte[128];
        return b[..ArpPacket.WriteGratuitousFrame(b, Mac(host), Ip(host), default)];
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var a in All) await a.DisposeAsync();
    }
}
