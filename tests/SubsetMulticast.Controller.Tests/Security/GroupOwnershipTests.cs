using Microsoft.Extensions.Time.Testing;
using SubsetMulticast.Controller.Dashboard;
using SubsetMulticast.Controller.Security;
using SubsetMulticast.Controller.Tests.Support;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;

namespace SubsetMulticast.Controller.Tests.Security;

/// <summary>
/// Whose group is whose survives the controller: the owner is written into the group record, so a controller started
/// on a store that already holds groups (a restart on etcd, another cluster node) knows each one's creator and counts
/// it against that creator's quota.
/// </summary>
public sealed class GroupOwnershipTests
{
    private static readonly IpAddress Reference = IpAddress.Parse(TestFabric.Reference);
    private readonly TestFabric _fabric = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 4, 0, 0, TimeSpan.Zero));

    private GroupLifecycle LifecycleOn(IGroupStore store) =>
        new(new LifecycleOptions().AddVlan(1, "239.255.0.0/24"), _fabric.References, _fabric.Hosts, store, _time);

    private static void Create(GroupLifecycle lifecycle, string? owner, params string[] members)
    {
        var tx = lifecycle.PrepareCreate(new CreateGroupRequest(1, Reference, [.. members.Select(IpAddress.Parse)], TimeSpan.FromMinutes(5)) { Owner = owner });
        Assert.True(tx.Succeeded, tx.Problem?.Detail);
        lifecycle.Commit(tx.Value!);
    }

    [Fact]
    public void ARestartedController_KnowsEachGroupsOwner_AndCountsItAgainstTheQuota()
    {
        var store = new InMemoryGroupStore(); // what a durable store hands the next controller
        var first = LifecycleOn(store);
        Create(first, "alice", "10.0.1.1");
        Create(first, "alice", "10.0.1.2");
        Create(first, "bob", "10.0.2.1");
        Create(first, null, "10.0.2.2"); // created by the library directly: nobody's
        var ids = store.All().ToDictionary(g => g.Members[0].ToString(), g => g.Id);
        Assert.Equal("alice", store.All().Single(g => g.Id == ids["10.0.1.1"]).Owner); // recorded with the group

        var feed = new GroupChangeFeed();
        var restarted = new GroupOwnership(feed, LifecycleOn(store));
        Assert.Equal("alice", restarted.OwnerOf(ids["10.0.1.1"]));
        Assert.Equal("bob", restarted.OwnerOf(ids["10.0.2.1"]));
        Assert.Null(restarted.OwnerOf(ids["10.0.2.2"]));
        Assert.Equal(2, restarted.CountOf("alice"));
        Assert.Equal([ids["10.0.1.1"], ids["10.0.1.2"]], restarted.GroupsOf("alice").Order());

        // alice is at a quota of 2; bob is not; superseding her own group needs no room.
        Assert.Equal(QuotaRefusal.Client, restarted.TryReserve("alice", 1, Reference, 2, 0, out _));
        Assert.Equal(QuotaRefusal.None, restarted.TryReserve("alice", 1, Reference, 2, 0, out var supersede, replacing: ids["10.0.1.1"]));
        restarted.Cancel(supersede);
        Assert.Equal(QuotaRefusal.None, restarted.TryReserve("bob", 1, Reference, 2, 0, out var bob));
        restarted.Cancel(bob);
        // The reference group holds 3 owned groups: a quota of 3 is full for anyone.
        Assert.Equal(QuotaRefusal.ReferenceGroup, restarted.TryReserve("carol", 1, Reference, 0, 3, out _));
    }

    [Fact]
    public void AGroupRecordedAfterStart_ByAnotherNode_IsLookedUpInTheStore()
    {
        var store = new InMemoryGroupStore();
        var ownership = new GroupOwnership(new GroupChangeFeed(), LifecycleOn(store));
        Assert.Equal(0, ownership.CountOf("alice")); // seeded from an empty store
        Create(LifecycleOn(store), "alice", "10.0.1.1"); // another node, same store
        Assert.Equal("alice", ownership.OwnerOf(Assert.Single(store.All()).Id));
    }

    [Fact]
    public void ACommit_OfAGroupAlreadyCountedFromTheStore_CountsItOnce()
    {
        var store = new InMemoryGroupStore();
        var lifecycle = LifecycleOn(store);
        Create(lifecycle, "alice", "10.0.1.1");
        var ownership = new GroupOwnership(new GroupChangeFeed(), lifecycle);
        Assert.Equal(QuotaRefusal.None, ownership.TryReserve("alice", 1, Reference, 0, 0, out var r)); // seeds alice's recorded group, then reserves
        ownership.Commit(r, store.All()[0].Id);
        Assert.Equal(1, ownership.CountOf("alice"));
    }
}
