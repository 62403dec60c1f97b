using Microsoft.Extensions.Time.Testing;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.Tests.Support;

namespace SubsetMulticast.Core.Tests.Lifecycle;

/// <summary>
/// Two controllers of a cluster, each with its own lifecycle and view, told of each other's commits through
/// <see cref="GroupLifecycle.Observe"/> / <see cref="GroupLifecycle.ObserveRemoved"/> (what the etcd watch does).
/// The shared store's rule that an address has one holder is played by a map both consult before committing
/// (etcd's create-if-absent transaction).
/// </summary>
public class ObservedGroupsTests
{
    private static readonly IpAddress Reference = IpAddress.Parse("239.1.0.1");

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void TwoNodes_RandomCreatesAndReleases_AgreeOnEveryGroupAndNeverShareAnAddress(int seed)
    {
        var fabric = new TestFabric(2, 3, 4);
        var table = fabric.Reference(Reference, fabric.HostList);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero));
        var nodes = new[] { "a", "b" }.Select(n => new GroupLifecycle(
            new LifecycleOptions { ReleaseHoldDown = TimeSpan.Zero, IdPrefix = $"rg-{n}-" }.AddVlan(1, "239.255.0.0/28"),
            table, fabric.Hosts, new InMemoryGroupStore(), time)).ToArray();
        var holders = new Dictionary<IpAddress, string>(); // the shared store's address keys
        var random = new Random(seed);
        int created = 0, released = 0, conflicts = 0;
        for (int step = 0; step < 400; step++)
        {
            int me = random.Next(2), other = 1 - me;
            var live = nodes[me].Store.All();
            if (live.Count > 0 && random.Next(3) == 0)
            {
                var victim = live[random.Next(live.Count)];
                var rel = nodes[me].PrepareRelease(victim.Id);
                Assert.True(rel.Succeeded, rel.Problem?.Detail);
                holders.Remove(victim.Address);
                nodes[me].Commit(rel.Value!);
                Assert.True(nodes[other].ObserveRemoved(victim.Id));
                released++;
                continue;
            }
            var members = fabric.HostList.OrderBy(_ => random.Next()).Take(1 + random.Next(3)).Select(h => h.Ip).ToArray();
            var prep = nodes[me].PrepareCreate(new CreateGroupRequest(1, Reference, members, TimeSpan.FromMinutes(5)));
            if (!prep.Succeeded) { Assert.Equal(ProblemKind.BlockExhausted, prep.Problem!.Kind); continue; }
            var tx = prep.Value!;
            if (holders.ContainsKey(tx.After!.Address))
            {
                // The store refuses: the other node holds it (the view here is always in step, so this never happens).
                conflicts++;
                nodes[me].Abort(tx);
                continue;
            }
            holders[tx.After.Address] = tx.After.Id;
            nodes[me].Commit(tx);
            Assert.True(nodes[other].Observe(tx.After));
            Assert.False(nodes[other].Observe(tx.After)); // the same record again: already held
            created++;
        }
        // Both views agree, ids are unique, and no address has two groups.
        var a = nodes[0].Store.All().Select(g => g.Id).Order(StringComparer.Ordinal).ToList();
        var b = nodes[1].Store.All().Select(g => g.Id).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(a, b);
        Assert.Equal(a.Count, nodes[0].Store.All().Select(g => g.Address).Distinct().Count());
        Assert.Equal(holders.Count, a.Count);
        Assert.Equal(0, conflicts);
        Assert.True(created > 50 && released > 20, $"created {created}, released {released}");
        foreach (var g in nodes[0].Store.All())
        {
            Assert.True(nodes[1].TryFindByAddress(g.Vlan, g.Address, out var id));
            Assert.Equal(g.Id, id);
        }
    }

    [Fact]
    public void Observe_IsIgnoredWhileALocalTransactionHoldsTheGroup_AndForOlderVersions()
    {
        var fabric = new TestFabric(2, 3, 4);
        var table = fabric.Reference(Reference, fabric.HostList);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero));
        var lifecycle = new GroupLifecycle(new LifecycleOptions { ReleaseHoldDown = TimeSpan.Zero }.AddVlan(1, "239.255.0.0/28"), table, fabric.Hosts, new InMemoryGroupStore(), time);
        var tx = lifecycle.PrepareCreate(new CreateGroupRequest(1, Reference, [fabric.HostList[0].Ip], TimeSpan.FromMinutes(1))).Value!;
        Assert.False(lifecycle.Observe(tx.After!));     // in flight here: its commit settles it
        Assert.False(lifecycle.ObserveRemoved(tx.After!.Id));
        lifecycle.Commit(tx);
        Assert.False(lifecycle.Observe(tx.After!));     // same version
        var refreshed = tx.After! with { Version = 2, Expires = tx.After.Expires.AddMinutes(1) };
        Assert.True(lifecycle.Observe(refreshed));
        Assert.False(lifecycle.Observe(tx.After!));     // older
        Assert.True(lifecycle.Store.TryGet(tx.After.Id, out var held));
        Assert.Equal(2, held.Version);
        Assert.True(lifecycle.ObserveRemoved(tx.After.Id));
        Assert.Empty(lifecycle.Store.All());
        Assert.False(lifecycle.TryFindByAddress(tx.After.Vlan, tx.After.Address, out _));
    }

    /// <summary>
    /// Issue 12's "node n3 lost acknowledged groups": node a releases group A (its transaction waits for the masters'
    /// confirmation), node b has already seen the release and creates group E at A's address; a's watch delivers E's
    /// record while a's release of A still holds the address. E must be listed by a once that release settles — either
    /// way it settles — not dropped for good (the watch does not deliver it again).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Observe_OfAnAddressOurReleaseStillHolds_IsTakenInWhenTheReleaseSettles(bool commit)
    {
        var fabric = new TestFabric(2, 3, 4);
        var table = fabric.Reference(Reference, fabric.HostList);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero));
        var (a, b) = (Node("a"), Node("b"));
        var first = b.PrepareCreate(new CreateGroupRequest(1, Reference, [fabric.HostList[0].Ip], TimeSpan.FromMinutes(5))).Value!;
        b.Commit(first);
        Assert.True(a.Observe(first.After!));
        var address = first.After!.Address;

        var release = a.PrepareRelease(first.After.Id).Value!; // recorded in the store; a waits for the masters
        Assert.True(b.ObserveRemoved(first.After.Id));         // b saw the delete at once
        var reuse = b.PrepareCreate(new CreateGroupRequest(1, Reference, [fabric.HostList[1].Ip], TimeSpan.FromMinutes(5), address)).Value!;
        Assert.Equal(TransactionKind.Create, reuse.Kind);
        b.Commit(reuse);
        var e = reuse.After!;
        Assert.False(a.Observe(e));                              // a's release still holds the address: not yet
        if (commit) a.Commit(release); else a.Abort(release);

        Assert.True(a.Store.TryGet(e.Id, out _), $"node a dropped {e.Id}, created by b at {address} while a's release of the old holder was in flight");
        Assert.False(a.Store.TryGet(first.After.Id, out _));
        Assert.True(a.TryFindByAddress(e.Vlan, address, out var holder));
        Assert.Equal(e.Id, holder);
        Assert.Equal(b.Store.All().Select(g => g.Id), a.Store.All().Select(g => g.Id));

        GroupLifecycle Node(string n) => new(new LifecycleOptions { ReleaseHoldDown = TimeSpan.Zero, IdPrefix = $"rg-{n}-" }.AddVlan(1, "239.255.0.0/28"),
            table, fabric.Hosts, new InMemoryGroupStore(), time);
    }

    /// <summary>
    /// Node a released the only address of a block and holds it down; node b's hold-down ran out first and it gave the
    /// address to a new group, which a takes in. a's hold-down running out must not free the address: it has a holder.
    /// </summary>
    [Fact]
    public void Observe_OfAnAddressHeldDownHere_KeepsItInUseAfterTheHoldDown()
    {
        var fabric = new TestFabric(2, 3, 4);
        var table = fabric.Reference(Reference, fabric.HostList);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero));
        var a = new GroupLifecycle(new LifecycleOptions { ReleaseHoldDown = TimeSpan.FromSeconds(1), IdPrefix = "rg-a-" }.AddVlan(1, "239.255.0.0/32"),
            table, fabric.Hosts, new InMemoryGroupStore(), time);
        var tx = a.PrepareCreate(new CreateGroupRequest(1, Reference, [fabric.HostList[0].Ip], TimeSpan.FromMinutes(5))).Value!;
        a.Commit(tx);
        var rel = a.PrepareRelease(tx.After!.Id).Value!;
        a.Commit(rel); // held down for 1 s here
        var other = tx.After with { Id = "rg-b-00000001", Members = [fabric.HostList[1].Ip] };
        Assert.True(a.Observe(other));
        time.Advance(TimeSpan.FromSeconds(2));
        var again = a.PrepareCreate(new CreateGroupRequest(1, Reference, [fabric.HostList[2].Ip], TimeSpan.FromMinutes(5)));
        Assert.False(again.Succeeded, $"allocated {again.Value?.After?.Address}, which rg-b-00000001 holds");
        Assert.Equal(ProblemKind.BlockExhausted, again.Problem!.Kind);
        Assert.Equal((1, 1), a.BlockUsage(1, v4: true));
    }
}
