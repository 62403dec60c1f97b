using Microsoft.Extensions.Time.Testing;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.Tests.Support;

namespace SubsetMulticast.Core.Tests.Lifecycle;

/// <summary>"Released" means stopped: an address is not handed out again until the hold-down after the switches' confirmation has passed.</summary>
public class ReleaseHoldDownTests
{
    private static readonly IpAddress Reference = IpAddress.Parse("239.1.0.1");
    private readonly TestFabric _fabric = new(2, 3, 4);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly GroupLifecycle _lifecycle;

    public ReleaseHoldDownTests()
    {
        var table = _fabric.Reference(Reference, _fabric.HostList);
        // A one-address block: any reuse is reuse of the address just released.
        _lifecycle = new GroupLifecycle(new LifecycleOptions { ReleaseHoldDown = TimeSpan.FromMilliseconds(20) }.AddVlan(1, "239.255.0.0/32"),
            table, _fabric.Hosts, new InMemoryGroupStore(), _time);
    }

    private CreateGroupRequest Request(IpAddress? group = null) => new(1, Reference, [_fabric.HostList[0].Ip, _fabric.HostList[5].Ip], TimeSpan.FromSeconds(5), group);

    private RendezvousGroup CreateAndRelease()
    {
        var create = _lifecycle.PrepareCreate(Request());
        Assert.True(create.Succeeded, create.Problem?.Detail);
        _lifecycle.Commit(create.Value!);
        var release = _lifecycle.PrepareRelease(create.Value!.After!.Id);
        _lifecycle.Commit(release.Value!);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromMilliseconds(20), release.Value!.ReusableAt);
        return create.Value.After!;
    }

    [Fact]
    public void ReleasedAddress_NotAllocatedUntilHoldDownEnds()
    {
        var old = CreateAndRelease();
        var again = _lifecycle.PrepareCreate(Request());
        Assert.Equal(ProblemKind.BlockExhausted, again.Problem?.Kind);
        Assert.Equal((1, 1), _lifecycle.BlockUsage(1, v4: true));

        _time.Advance(TimeSpan.FromMilliseconds(19.9));
        Assert.Equal(ProblemKind.BlockExhausted, _lifecycle.PrepareCreate(Request()).Problem?.Kind);

        _time.Advance(TimeSpan.FromMilliseconds(0.1));
        var reused = _lifecycle.PrepareCreate(Request());
        Assert.True(reused.Succeeded, reused.Problem?.Detail);
        Assert.Equal(old.Address, reused.Value!.After!.Address);
    }

    [Fact]
    public void ReleasedAddress_NotReservableByNameUntilHoldDownEnds()
    {
        var old = CreateAndRelease();
        var named = _lifecycle.PrepareCreate(Request(old.Address));
        Assert.Equal(ProblemKind.GroupBusy, named.Problem?.Kind);
        Assert.Contains("held down", named.Problem!.Detail);
        _time.Advance(TimeSpan.FromMilliseconds(20));
        Assert.True(_lifecycle.PrepareCreate(Request(old.Address)).Succeeded);
    }

    [Fact]
    public void AbortedCreate_FreesAtOnce()
    {
        // Nothing reached a switch, so there is nothing to forget: no hold-down.
        var create = _lifecycle.PrepareCreate(Request());
        _lifecycle.Abort(create.Value!);
        Assert.True(_lifecycle.PrepareCreate(Request()).Succeeded);
    }

    [Fact]
    public void AddressBlock_HoldDownsReleaseInOrder()
    {
        var block = AddressBlock.Parse("239.255.0.0/30");
        Assert.True(block.TryAllocate(out var a));
        Assert.True(block.TryAllocate(out var b));
        block.Free(a, reusableAt: 100);
        block.Free(b, reusableAt: 200);
        Assert.Equal(2, block.HeldDown);
        Assert.False(block.TryReserve(a));
        block.ReleaseDue(150);
        Assert.True(block.TryReserve(a));
        Assert.False(block.TryReserve(b));
        Assert.True(block.IsHeldDown(b));
        block.ReleaseDue(200);
        Assert.False(block.IsHeldDown(b));
        Assert.True(block.TryFindFreeRun(3, out var run));
        Assert.Equal(b, run);
    }
}

/// <summary>The sweep scans the store only once the earliest lease can have run out; nothing due is ever skipped.</summary>
public class ExpirySweepTests
{
    private static readonly IpAddress Reference = IpAddress.Parse("239.1.0.1");
    private readonly TestFabric _fabric = new(2, 3, 4);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly GroupLifecycle _lifecycle;

    public ExpirySweepTests() =>
        _lifecycle = new GroupLifecycle(new LifecycleOptions().AddVlan(1, "239.255.0.0/24"), _fabric.Reference(Reference, _fabric.HostList), _fabric.Hosts, new InMemoryGroupStore(), _time);

    private string Create(int seconds)
    {
        var tx = _lifecycle.PrepareCreate(new CreateGroupRequest(1, Reference, [_fabric.HostList[0].Ip], TimeSpan.FromSeconds(seconds))).Value!;
        _lifecycle.Commit(tx);
        return tx.After!.Id;
    }

    [Fact]
    public void AbortedExpiry_IsDueAgain_AndLaterLeasesStillExpire()
    {
        var early = Create(5);
        var late = Create(60);
        Assert.Empty(_lifecycle.PrepareExpired());
        _time.Advance(TimeSpan.FromSeconds(5));
        var due = Assert.Single(_lifecycle.PrepareExpired());
        Assert.Equal(early, due.Before!.Id);
        _lifecycle.Abort(due);
        Assert.Equal(early, Assert.Single(_lifecycle.PrepareExpired()).Before!.Id);
        _time.Advance(TimeSpan.FromSeconds(55));
        Assert.Equal(late, Assert.Single(_lifecycle.PrepareExpired()).Before!.Id);
        // A lease committed after a scan is seen by the next one.
        var later = Create(1);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(later, Assert.Single(_lifecycle.PrepareExpired()).Before!.Id);
    }
}
