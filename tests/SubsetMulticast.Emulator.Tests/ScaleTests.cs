using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;

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
        var (lifecycle, southbound) = SubsetPropertyTests.Scenario.Controller(fabric, IpAddress.Parse("239.1.0.1"), [.. servers.Select(s => s.Name)]);
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
