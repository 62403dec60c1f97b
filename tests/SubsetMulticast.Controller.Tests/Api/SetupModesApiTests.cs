using System.Net;
using System.Text;
using System.Text.Json;
using SubsetMulticast.Controller.Tests.Support;

namespace SubsetMulticast.Controller.Tests.Api;

/// <summary>The three setup modes a client picks per request, persistent sets, the release report and the bounded listing.</summary>
public sealed class SetupModesApiTests : IAsyncLifetime
{
    private RunningController _c = null!;

    public async Task InitializeAsync() => _c = await RunningController.StartAsync();
    public async Task DisposeAsync() => await _c.DisposeAsync();

    private Task<HttpResponseMessage> PostAsync(string path, string json) =>
        _c.Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    [Theory]
    [InlineData("confirmed")]
    [InlineData("optimistic")]
    public async Task Setup_IsAnsweredWithTheModeThatApplied(string mode)
    {
        var body = await _c.CreateOkAsync(extra: $$""","setup":"{{mode}}" """);
        Assert.Equal(mode, body.GetProperty("setup").GetString());
        var group = body.GetProperty("group").GetString()!;
        Assert.Equal([1u, 4u], _c.Southbound.PortsOf("s1", 1, group));
    }

    [Fact]
    public async Task Setup_Unknown_Is400()
    {
        using var r = await _c.CreateAsync("""{"vlan":1,"reference":"239.1.0.1","members":["10.0.1.1"],"setup":"eventually"}""");
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("eventually", await r.Content.ReadAsStringAsync());
        Assert.Equal(0, _c.Southbound.Transactions);
    }

    [Fact]
    public async Task PersistentSet_InstallsEverySubsetAhead_SetupTouchesNoSwitch()
    {
        using var made = await PostAsync("api/v1/persistent-sets",
            """{"vlan":1,"reference":"239.1.0.1","members":["10.0.1.1","10.0.1.2","10.0.2.1","10.0.2.2"],"k":2}""");
        var text = await made.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Created, made.StatusCode);
        var set = JsonDocument.Parse(text).RootElement;
        Assert.Equal(6, set.GetProperty("count").GetInt64()); // C(4,2)
        Assert.Equal(6, _c.Southbound.Transactions);
        var first = set.GetProperty("first").GetString()!;

        var body = await _c.CreateOkAsync("\"10.0.2.2\",\"10.0.1.1\"", extra: ""","setup":"persistent" """);
        Assert.Equal("persistent", body.GetProperty("setup").GetString());
        Assert.True(body.GetProperty("persistent").GetBoolean());
        Assert.Equal(6, _c.Southbound.Transactions); // no switch work
        // Colex rank of positions {0, 3} is C(0,1) + C(3,2) = 3: the fourth address of the run.
        var address = Core.Addressing.IpAddress.Parse(body.GetProperty("group").GetString()!);
        Assert.Equal(Core.Addressing.IpAddress.Parse(first).Add(3), address);
        Assert.Equal([1u, 4u], _c.Southbound.PortsOf("s1", 1, address.ToString()));
        Assert.Equal([2u, 4u], _c.Southbound.PortsOf("s2", 1, address.ToString()));

        // The set's groups stay installed: a client's DELETE is refused; deleting the set releases all six.
        using (var del = await _c.Http.DeleteAsync($"api/v1/groups/{body.GetProperty("id").GetString()}"))
            Assert.Equal(HttpStatusCode.Conflict, del.StatusCode);
        using (var del = await _c.Http.DeleteAsync($"api/v1/persistent-sets/{set.GetProperty("id").GetString()}"))
            Assert.Equal(HttpStatusCode.NoContent, del.StatusCode);
        Assert.Empty(await _c.GroupsAsync());
        Assert.Empty(_c.Southbound.PortsOf("s1", 1, address.ToString()));
    }

    [Fact]
    public async Task Persistent_SubsetNoSetCovers_FallsBackToConfirmed()
    {
        var body = await _c.CreateOkAsync(extra: ""","setup":"persistent" """);
        Assert.Equal("confirmed", body.GetProperty("setup").GetString());
        Assert.Equal(1, _c.Southbound.Transactions);
    }

    [Fact]
    public async Task Delete_SaysWhenDeliveryStopped()
    {
        var body = await _c.CreateOkAsync();
        using var del = await _c.Http.DeleteAsync($"api/v1/groups/{body.GetProperty("id").GetString()}");
        Assert.Equal(HttpStatusCode.NoContent, del.StatusCode);
        var confirmed = DateTimeOffset.Parse(Assert.Single(del.Headers.GetValues("Tsm-Confirmed-At")), System.Globalization.CultureInfo.InvariantCulture);
        var stopped = DateTimeOffset.Parse(Assert.Single(del.Headers.GetValues("Tsm-Delivery-Stopped-By")), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(TimeSpan.FromMilliseconds(20), stopped - confirmed);
    }

    [Fact]
    public async Task List_IsPaginated_WithALinkToTheNextPage()
    {
        var ids = new List<string>();
        for (int i = 0; i < 5; i++) ids.Add((await _c.CreateOkAsync()).GetProperty("id").GetString()!);
        var seen = new List<string>();
        string? next = "api/v1/groups?limit=2";
        int pages = 0;
        while (next is not null && pages++ < 10)
        {
            using var r = await _c.Http.GetAsync(next);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            var page = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.EnumerateArray().Select(g => g.GetProperty("id").GetString()!).ToList();
            Assert.True(page.Count <= 2);
            seen.AddRange(page);
            next = r.Headers.TryGetValues("Link", out var links) ? links.Single().Split('>')[0].TrimStart('<').TrimStart('/') : null;
        }
        Assert.Equal(ids.Order(StringComparer.Ordinal), seen);
        Assert.Equal(3, pages);
        using var bad = await _c.Http.GetAsync("api/v1/groups?limit=0");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }
}
