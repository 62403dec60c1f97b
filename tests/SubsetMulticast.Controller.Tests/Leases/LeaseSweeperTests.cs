using SubsetMulticast.Controller.Tests.Support;

namespace SubsetMulticast.Controller.Tests.Leases;

public sealed class LeaseSweeperTests : IAsyncLifetime
{
    private RunningController _c = null!;

    public async Task InitializeAsync() => _c = await RunningController.StartAsync();
    public async Task DisposeAsync() => await _c.DisposeAsync();

    [Fact]
    public async Task Sweeper_LeaseRunsOut_ReleasesTheGroupAndItsRules()
    {
        await _c.CreateOkAsync();
        _c.Time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.Equal(0, await _c.Host.Groups.ExpireDueAsync(100, 1));
        Assert.Single(await _c.GroupsAsync());

        _c.Time.Advance(TimeSpan.FromSeconds(0.2));
        await Wait.UntilAsync(async () =>
        {
            _c.Time.Advance(TimeSpan.FromMilliseconds(100)); // keep the sweeper's timer firing
            return (await _c.GroupsAsync()).Length == 0;
        }, "the sweeper releases the expired group");
        Assert.Empty(_c.Southbound.Rules);
    }

    [Fact]
    public async Task Sweeper_RefreshedGroup_LivesAnotherTtl()
    {
        var id = (await _c.CreateOkAsync()).GetProperty("id").GetString()!;
        _c.Time.Advance(TimeSpan.FromSeconds(4));
        using (var r = await _c.Http.PostAsync($"api/v1/groups/{id}/refresh", null)) r.EnsureSuccessStatusCode();
        _c.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(0, await _c.Host.Groups.ExpireDueAsync(100, 1));
        Assert.Single(await _c.GroupsAsync());
        _c.Time.Advance(TimeSpan.FromSeconds(1.1)); // the background sweeper or this test's sweep, whichever comes first
        await Wait.UntilAsync(async () =>
        {
            await _c.Host.Groups.ExpireDueAsync(100, 1);
            return (await _c.GroupsAsync()).Length == 0;
        }, "the refreshed group expires at its renewed time");
    }

    [Fact]
    public async Task ExpireDue_MoreThanTheBatch_ReleasesAtMostABatchAndLeavesTheRestForLater()
    {
        for (int i = 0; i < 5; i++) await _c.CreateOkAsync();
        _c.Time.Advance(TimeSpan.FromSeconds(6)); // the background sweeper may take some too; each call still takes at most 2
        await Wait.UntilAsync(async () =>
        {
            Assert.InRange(await _c.Host.Groups.ExpireDueAsync(2, 2), 0, 2);
            return (await _c.GroupsAsync()).Length == 0;
        }, "every expired group is released");
        Assert.Empty(_c.Southbound.Rules);
    }

    [Fact]
    public async Task Sweeper_SouthboundRefusesTheRelease_KeepsTheGroupAndRetries()
    {
        await _c.CreateOkAsync();
        _c.Southbound.FailWith = new Core.Southbound.SwitchFailure("s1", "busy");
        _c.Time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(0, await _c.Host.Groups.ExpireDueAsync(100, 1));
        Assert.Single(await _c.GroupsAsync());
        _c.Southbound.FailWith = null;
        await Wait.UntilAsync(async () =>
        {
            _c.Time.Advance(TimeSpan.FromMilliseconds(100));
            return (await _c.GroupsAsync()).Length == 0;
        }, "the retried expiry succeeds");
    }
}
