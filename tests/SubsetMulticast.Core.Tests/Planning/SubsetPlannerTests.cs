using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Planning;
using SubsetMulticast.Core.Tests.Support;

namespace SubsetMulticast.Core.Tests.Planning;

public class SubsetPlannerTests
{
    private static readonly IpAddress Group = IpAddress.Parse("239.1.0.1");

    // 2 spines, 3 leaves, 4 hosts a leaf: hosts sit on leaf ports 3..6, uplinks are ports 1 (spine0, the
    // root) and 2 (spine1, blocked by the tree). Joined: leaf0 h0 h1, leaf1 h0, leaf2 h2.
    private static (TestFabric, Core.ReferenceGroups.ReferenceGroup) Fixture()
    {
        var f = new TestFabric(2, 3, 4);
        var joined = new[] { f.HostList[0], f.HostList[1], f.HostList[4], f.HostList[10] };
        var table = f.Reference(Group, joined);
        Assert.True(table.TryGet(1, Group, out var reference));
        return (f, reference);
    }

    [Fact]
    public void Portsets_FollowTheTree_StayInsideTheReferenceGroup_AndSkipUnregisteredDefaults()
    {
        var (f, reference) = Fixture();
        var planner = new SubsetPlanner(f.Topology, f.Hosts);
        var buffer = new PlanBuffer();
        var outsider = f.HostList[7].Ip;               // leaf1 h3: never joined
        var unknown = IpAddress.Parse("10.99.0.1");
        planner.Plan(reference, [f.HostList[0].Ip, f.HostList[10].Ip, outsider, unknown, f.HostList[0].Ip], buffer);

        var rules = Enumerable.Range(0, buffer.SwitchCount)
            .ToDictionary(i => f.Topology.Switches[buffer.SwitchAt(i)].Id, i => buffer.PortsAt(i).ToArray());
        // Hand-derived: spine0 toward leaf0 (1) and leaf2 (3); each member leaf to its member and up;
        // leaf1 would send only up its root port, which is what it does for an unregistered group: no rule;
        // spine1 is off the tree and has no entry: no rule.
        Assert.Equal(["leaf0", "leaf2", "spine0"], rules.Keys.Order());
        Assert.Equal([1u, 3u], rules["spine0"]);
        Assert.Equal([1u, 3u], rules["leaf0"]);
        Assert.Equal([1u, 5u], rules["leaf2"]);

        Assert.Equal([f.HostList[0].Ip, f.HostList[10].Ip], buffer.Effective.ToArray());
        var ignored = buffer.Ignored.ToArray();
        Assert.Equal(2, ignored.Length);
        Assert.Contains((outsider, IgnoreReason.NotInReferenceGroup), ignored);
        Assert.Contains((unknown, IgnoreReason.UnknownHost), ignored);
    }

    [Fact]
    public void NoEffectiveMember_NoRules()
    {
        var (f, reference) = Fixture();
        var buffer = new PlanBuffer();
        new SubsetPlanner(f.Topology, f.Hosts).Plan(reference, [f.HostList[7].Ip], buffer);
        Assert.Equal(0, buffer.SwitchCount);
        Assert.Equal(0, buffer.EffectiveCount);
        Assert.Equal(1, buffer.IgnoredCount);
    }

    [Fact]
    public void Planning_AllocatesNothing_OnceTheBufferHasGrown()
    {
        var (f, reference) = Fixture();
        var planner = new SubsetPlanner(f.Topology, f.Hosts);
        var buffer = new PlanBuffer();
        IpAddress[] members = [f.HostList[0].Ip, f.HostList[4].Ip, f.HostList[10].Ip, f.HostList[7].Ip];
        planner.Plan(reference, members, buffer);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) planner.Plan(reference, members, buffer);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(3, buffer.EffectiveCount);
    }
}
