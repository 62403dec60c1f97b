using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Packets.Arp;

namespace SubsetMulticast.Emulator.Tests;

public sealed class ScaleTests
{
    /// <summary>1,000 switches and 20,580 hosts in one process: a rendezvous group still reaches exactly its members.</summary>
    [Fact]
    public async Task ThousandSwitchFabricDeliversOnlyToMembers()
    {
        var spec = Topology.FabricSpec.LeafSpine(20, 980, 21, ipv6: false);
        var fabric = new EmulatedFabric(spec);
        Assert.Equal(1000, fabric.Switches.Count);
        Assert.True(fabric.Hosts.Count >= 20_000);
        var servers = Enumerable.Range(0, 12).Select(i => fabric.Hosts[i * 1709 % fabric.Hosts.Count]).ToArray();
        var client = fabric.Hosts[^1];
        // The hosts that take part announce themselves (gratuitous ARP); the other 20,567 stay silent, as idle hosts do,
        // but are still on every flood path. Announcing all of them was 20,580 broadcasts each reaching every host
        // (4·10⁸ deliveries, the suite's slowest test at ~40 s), and nothing below depends on it: the controller takes
        // the host table from the spec and the rules only from the group's reference-group ports.
        var frame = new byte[128];
        foreach (var h in servers.Append(client)) fabric.Send(h, frame.AsSpan(0, ArpPacket.WriteGratuitousFrame(frame, h.Mac, h.Ipv4, h.Vlan)));
        var (lifecycle, southbound) = SubsetPropertyTests.Scenario.Controller(fabric, IpAddress.Parse("239.1.0.1"), [.. servers.Select(s => s.Name)], announceEveryHost: false);
        var chosen = new[] { servers[1], servers[6], servers[11] };
        var tx = lifecycle.PrepareCreate(new CreateGroupRequest(1, IpAddress.Parse("239.1.0.1"), [.. chosen.Select(h => h.Ipv4)])).Value!;
        Assert.True((await southbound.ApplyAsync(tx.Changes, default)).Succeeded);
        lifecycle.Commit(tx);
        Assert.InRange(tx.Changes.Count, 2, 8); // rules only on the group's subtree, not on 1,000 switches
        var report = fabric.SendUdp(client, tx.After!.Address, "chunk"u8);
        Assert.Equal(chosen.Select(h => h.Index).Order(), report.HostsReached().Order());
        Assert.Equal(1, report.MaxCopiesPerLinkPerFrame);
    }
}
