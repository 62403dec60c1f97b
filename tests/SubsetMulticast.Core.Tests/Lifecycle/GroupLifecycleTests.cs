using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.Tests.Support;

namespace SubsetMulticast.Core.Tests.Lifecycle;

public class GroupLifecycleTests
{
    private static readonly IpAddress Reference = IpAddress.Parse("239.1.0.1");
    private readonly TestFabric _fabric = new(2, 3, 4);
    private readonly ManualTime _time = new(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero));
    private readonly InMemoryGroupStore _store = new();
    private readonly GroupLifecycle _lifecycle;

    public GroupLifecycleTests()
    {
        // Everyone but leaf1's hosts joined the reference group.
        var table = _fabric.Reference(Reference, _fabric.HostList.Where(h => h.Port.Switch != _fabric.Leaf(1)));
        // No hold-down here: these tests reuse addresses at once (the hold-down has its own tests, ReleaseHoldDownTests).
        _lifecycle = new GroupLifecycle(new LifecycleOptions { MaxMembers = 8, ReleaseHoldDown = TimeSpan.Zero }.AddVlan(1, "239.255.0.0/30"), table, _fabric.Hosts, _store, _time);
    }

    private IpAddress Host(int i) => _fabric.HostList[i].Ip;
    private CreateGroupRequest Request(params IpAddress[] members) => new(1, Reference, members, TimeSpan.FromSeconds(5));

    public static TheoryData<string, ProblemKind> BadRequests => new()
    {
        { "vlan 2", ProblemKind.VlanNotAllowed },
        { "no members", ProblemKind.EmptyMemberList },
        { "9 members", ProblemKind.TooManyMembers },
        { "ttl 0", ProblemKind.InvalidRequest },
        { "ttl 2h", ProblemKind.InvalidRequest },
        { "ipv6 reference", ProblemKind.AddressFamilyMismatch },
        { "multicast member", ProblemKind.AddressFamilyMismatch },
        { "group outside block", ProblemKind.AddressOutsideBlock },
        { "unknown reference", ProblemKind.UnknownReferenceGroup },
        { "only outsiders", ProblemKind.NoMemberInReferenceGroup },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public void BadRequest_IsRefusedWithItsKind_AndChangesNothing(string what, ProblemKind kind)
    {
        var ok = new[] { Host(0), Host(9) };
        CreateGroupRequest request = what switch
        {
            "vlan 2" => new(2, Reference, ok),
            "no members" => new(1, Reference, []),
            "9 members" => new(1, Reference, [.. Enumerable.Range(0, 9).Select(Host)]),
            "ttl 0" => new(1, Reference, ok, TimeSpan.Zero),
            "ttl 2h" => new(1, Reference, ok, TimeSpan.FromHours(2)),
            "ipv6 reference" => new(1, IpAddress.Parse("ff15::1"), [IpAddress.Parse("fd00::1")]),
            "multicast member" => new(1, Reference, [Host(0), IpAddress.Parse("239.9.9.9")]),
            "group outside block" => new(1, Reference, ok, null, IpAddress.Parse("239.255.1.0")),
            "unknown reference" => new(1, IpAddress.Parse("239.1.0.2"), ok),
            "only outsiders" => new(1, Reference, [Host(4), Host(5), IpAddress.Parse("10.99.0.1")]),
            _ => throw new ArgumentOutOfRangeException(nameof(what)),
        };
        var outcome = _lifecycle.PrepareCreate(request);
        Assert.False(outcome.Succeeded);
        Assert.Equal(kind, outcome.Problem!.Kind);
        Assert.False(string.IsNullOrWhiteSpace(outcome.Problem.Detail));
        Assert.Empty(_store.All());
        Assert.Equal((0, 4), _lifecycle.BlockUsage(1, v4: true));
    }

    [Fact]
    public void Create_Commit_Release_Commit_ReturnsTheAddress()
    {
        var create = _lifecycle.PrepareCreate(Request(Host(0), Host(9), Host(4)));
        Assert.True(create.Succeeded);
        var tx = create.Value!;
        Assert.Equal(TransactionKind.Create, tx.Kind);
        Assert.NotEmpty(tx.Changes);
        Assert.All(tx.Changes, c => Assert.Null(c.Previous));
        var group = tx.After!;
        Assert.Equal([Host(0), Host(9)], group.Effective);
        Assert.Equal(Host(4), Assert.Single(group.Ignored).Member);
        Assert.Equal((1, 4), _lifecycle.BlockUsage(1, true));
        Assert.Empty(_store.All()); // nothing is visible before the switches confirmed
        _lifecycle.Commit(tx);
        Assert.True(_store.TryGet(group.Id, out _));
        Assert.True(_lifecycle.TryFindByAddress(1, group.Address, out var id) && id == group.Id);

        var release = _lifecycle.PrepareRelease(group.Id).Value!;
        Assert.All(release.Changes, c => Assert.Null(c.Next));
        Assert.Equal(tx.Changes.Count, release.Changes.Count);
        _lifecycle.Commit(release);
        Assert.Empty(_store.All());
        Assert.Equal((0, 4), _lifecycle.BlockUsage(1, true));
        Assert.Equal(ProblemKind.GroupNotFound, _lifecycle.PrepareRelease(group.Id).Problem!.Kind);
    }

    [Fact]
    public void Abort_LeavesNoTrace()
    {
        var tx = _lifecycle.PrepareCreate(Request(Host(0))).Value!;
        _lifecycle.Abort(tx);
        Assert.Empty(_store.All());
        Assert.Equal((0, 4), _lifecycle.BlockUsage(1, true));
        Assert.Throws<InvalidOperationException>(() => _lifecycle.Commit(tx));
    }

    [Fact]
    public void ExhaustedBlock_IsAClearError_AndFreesOnRelease()
    {
        var ids = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            var tx = _lifecycle.PrepareCreate(Request(Host(i))).Value!;
            _lifecycle.Commit(tx);
            ids.Add(tx.After!.Id);
        }
        var full = _lifecycle.PrepareCreate(Request(Host(0)));
        Assert.Equal(ProblemKind.BlockExhausted, full.Problem!.Kind);
        Assert.Contains("239.255.0.0/30", full.Problem.Detail);
        _lifecycle.Commit(_lifecycle.PrepareRelease(ids[2]).Value!);
        Assert.True(_lifecycle.PrepareCreate(Request(Host(0))).Succeeded);
    }

    [Fact]
    public void PushToAnAddressInUse_Supersedes()
    {
        var first = _lifecycle.PrepareCreate(Request(Host(0), Host(1))).Value!;
        _lifecycle.Commit(first);
        var address = first.After!.Address;
        var second = _lifecycle.PrepareCreate(new CreateGroupRequest(1, Reference, [Host(9)], TimeSpan.FromSeconds(5), address)).Value!;
        Assert.Equal(TransactionKind.Supersede, second.Kind);
        Assert.Same(first.After, second.Before);
        // While the supersede is in flight the old group is busy.
        Assert.Equal(ProblemKind.GroupBusy, _lifecycle.PrepareRelease(first.After.Id).Problem!.Kind);
        _lifecycle.Commit(second);
        Assert.False(_store.TryGet(first.After.Id, out _));
        Assert.True(_lifecycle.TryFindByAddress(1, address, out var id) && id == second.After!.Id);
        Assert.Equal((1, 4), _lifecycle.BlockUsage(1, true));
    }

    [Fact]
    public void Lease_ExpiresOnTheInjectedClock()
    {
        var tx = _lifecycle.PrepareCreate(Request(Host(0))).Value!;
        _lifecycle.Commit(tx);
        _time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.Empty(_lifecycle.PrepareExpired());
        _time.Advance(TimeSpan.FromSeconds(0.2));
        var expired = Assert.Single(_lifecycle.PrepareExpired());
        Assert.Equal(TransactionKind.Expire, expired.Kind);
        Assert.Empty(_lifecycle.PrepareExpired()); // already being expired: not handed out twice
        _lifecycle.Commit(expired);
        Assert.Equal((0, 4), _lifecycle.BlockUsage(1, true));
    }

    [Fact]
    public void Refresh_ReResolvesAMovedHost_AndExtendsTheLease()
    {
        var tx = _lifecycle.PrepareCreate(Request(Host(0), Host(9))).Value!;
        _lifecycle.Commit(tx);
        var before = tx.After!;
        // Host 0 moves from leaf0 port 3 to leaf0 port 6 (a port that is a member port: host 3 joined there).
        var h = _fabric.HostList[0];
        _fabric.Hosts.Learn(h with { Port = new PortRef(h.Port.Switch, 6) });
        _time.Advance(TimeSpan.FromSeconds(2));
        var refresh = _lifecycle.PrepareRefresh(before.Id).Value!;
        Assert.Equal(TransactionKind.Refresh, refresh.Kind);
        var change = Assert.Single(refresh.Changes);
        Assert.Contains(6u, change.Next!.Ports);
        Assert.DoesNotContain(3u, change.Next.Ports);
        Assert.Equal(before.Expires + TimeSpan.FromSeconds(2), refresh.After!.Expires);
        _lifecycle.Commit(refresh);
        Assert.True(_store.TryGet(before.Id, out var now) && now.Version == 2);
    }

    [Fact]
    public void NewLifecycleOnAStore_ContinuesIdsAndKeepsAddressesTaken()
    {
        var tx = _lifecycle.PrepareCreate(Request(Host(0))).Value!;
        _lifecycle.Commit(tx);
        var table = _fabric.Reference(Reference, _fabric.HostList);
        var restarted = new GroupLifecycle(new LifecycleOptions().AddVlan(1, "239.255.0.0/30"), table, _fabric.Hosts, _store, _time);
        Assert.Equal((1, 4), restarted.BlockUsage(1, true));
        var next = restarted.PrepareCreate(Request(Host(1))).Value!;
        Assert.NotEqual(tx.After!.Id, next.After!.Id);
        Assert.NotEqual(tx.After.Address, next.After.Address);
    }
}
