using System.Net;
using System.Text.Json;
using SubsetMulticast.Controller.Tests.Support;

namespace SubsetMulticast.Controller.Tests.Groups;

public sealed class ConcurrencyTests : IAsyncLifetime
{
    private RunningController _c = null!;

    public async Task InitializeAsync() => _c = await RunningController.StartAsync();
    public async Task DisposeAsync() => await _c.DisposeAsync();

    [Fact]
    public async Task Create_ManyInParallel_GetDistinctAddressesAndAllCommit()
    {
        string[] members = ["10.0.1.1", "10.0.1.2", "10.0.2.1", "10.0.2.2"];
        var tasks = Enumerable.Range(0, 64).Select(async i =>
        {
            using var r = await _c.CreateAsync($$"""{"vlan":1,"reference":"239.1.0.1","members":["{{members[i % 4]}}","{{members[(i + 1) % 4]}}"],"ttlMs":60000}""");
            var text = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == HttpStatusCode.Created, text);
            return JsonDocument.Parse(text).RootElement.GetProperty("group").GetString()!;
        }).ToArray();
        var groups = await Task.WhenAll(tasks);
        Assert.Equal(64, groups.Distinct().Count());
        Assert.Equal(64, (await _c.GroupsAsync()).Length);
        Assert.Equal(64, _c.Southbound.Transactions);
    }

    [Fact]
    public async Task Create_SouthboundSlow_TransactionsOverlapInsteadOfQueueingBehindOneLock()
    {
        _c.Southbound.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, 8).Select(_ => _c.CreateAsync("""{"vlan":1,"reference":"239.1.0.1","members":["10.0.1.1"]}""")).ToArray();
        await Wait.UntilAsync(() => Task.FromResult(_c.Southbound.InFlight == 8), "eight creates are inside the southbound at once");
        _c.Southbound.Gate.SetResult();
        foreach (var t in tasks)
        {
            using var r = await t;
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }
    }
}
