using System.Net;
using System.Text.Json;
using SubsetMulticast.Controller.Tests.Support;

namespace SubsetMulticast.Controller.Tests.Api;

public sealed class GroupsApiTests : IAsyncLifetime
{
    private RunningController _c = null!;

    public async Task InitializeAsync() => _c = await RunningController.StartAsync();
    public async Task DisposeAsync() => await _c.DisposeAsync();

    [Fact]
    public async Task Create_ValidRequest_Returns201WithLocationPlanAndInstalledRules()
    {
        using var response = await _c.CreateAsync("""{"vlan":1,"reference":"239.1.0.1","members":["10.0.1.1","10.0.2.1"],"ttlMs":5000,"group":"239.255.0.7"}""");
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(text).RootElement;
        var id = body.GetProperty("id").GetString()!;
        Assert.Equal($"/api/v1/groups/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("239.255.0.7", body.GetProperty("group").GetString());
        Assert.Equal("01:00:5e:7f:00:07", body.GetProperty("mac").GetString());
        Assert.Empty(body.GetProperty("ignored").EnumerateArray());
        Assert.True(body.GetProperty("setupMicros").GetInt64() >= 0);
        Assert.Equal(new DateTimeOffset(2025, 6, 1, 12, 0, 5, TimeSpan.Zero), body.GetProperty("expiresAt").GetDateTimeOffset());
        var switches = body.GetProperty("switches").EnumerateArray()
            .ToDictionary(s => s.GetProperty("id").GetString()!, s => s.GetProperty("ports").EnumerateArray().Select(p => p.GetUInt32()).ToArray());
        // draft §7.1 example: A on s1 and C on s2 → s1 {A, hub→s2}, s2 {hub→s1, C}.
        Assert.Equal([1u, 4u], switches["s1"]);
        Assert.Equal([1u, 4u], switches["s2"]);
        Assert.Equal([1u, 4u], _c.Southbound.PortsOf("s1", 1, "239.255.0.7"));
        Assert.Equal([1u, 4u], _c.Southbound.PortsOf("s2", 1, "239.255.0.7"));
        Assert.Equal(1, _c.Southbound.Transactions);
    }

    [Fact]
    public async Task Create_MemberOutsideReferenceGroup_IsIgnoredAndReported()
    {
        var body = await _c.CreateOkAsync("\"10.0.1.1\",\"10.0.1.3\"");
        var ignored = Assert.Single(body.GetProperty("ignored").EnumerateArray());
        Assert.Equal("10.0.1.3", ignored.GetProperty("member").GetString());
        Assert.Equal("notInReferenceGroup", ignored.GetProperty("reason").GetString());
        Assert.Equal(["10.0.1.1"], body.GetProperty("effective").EnumerateArray().Select(e => e.GetString()));
        Assert.Empty(_c.Southbound.PortsOf("s2", 1, body.GetProperty("group").GetString()!));
    }

    [Fact]
    public async Task GetAndList_AfterCreate_ReturnTheGroup()
    {
        var created = await _c.CreateOkAsync();
        var id = created.GetProperty("id").GetString()!;
        var one = JsonDocument.Parse(await _c.Http.GetStringAsync($"api/v1/groups/{id}")).RootElement;
        Assert.Equal(created.GetProperty("group").GetString(), one.GetProperty("group").GetString());
        Assert.False(one.TryGetProperty("setupMicros", out _));
        var all = await _c.GroupsAsync();
        Assert.Equal(id, Assert.Single(all).GetProperty("id").GetString());
    }

    [Fact]
    public async Task Refresh_ExistingGroup_RenewsLeaseAndBumpsVersion()
    {
        var id = (await _c.CreateOkAsync()).GetProperty("id").GetString()!;
        _c.Time.Advance(TimeSpan.FromSeconds(2));
        using var response = await _c.Http.PostAsync($"api/v1/groups/{id}/refresh", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(2, body.GetProperty("version").GetInt64());
        Assert.Equal(new DateTimeOffset(2025, 6, 1, 12, 0, 7, TimeSpan.Zero), body.GetProperty("expiresAt").GetDateTimeOffset());
        Assert.True(body.TryGetProperty("setupMicros", out _));
        Assert.Equal(1, _c.Southbound.Transactions); // nothing moved: no switch change, no southbound round trip
    }

    [Fact]
    public async Task Delete_ExistingGroup_Returns204AndRemovesEveryRule()
    {
        var created = await _c.CreateOkAsync();
        var id = created.GetProperty("id").GetString()!;
        using var response = await _c.Http.DeleteAsync($"api/v1/groups/{id}");
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Empty(_c.Southbound.Rules);
        Assert.Empty(await _c.GroupsAsync());
        using var gone = await _c.Http.GetAsync($"api/v1/groups/{id}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Create_AtAnAddressInUse_SupersedesTheOlderGroup()
    {
        var first = await _c.CreateOkAsync("\"10.0.1.1\",\"10.0.2.1\"", ",\"group\":\"239.255.0.9\"");
        var second = await _c.CreateOkAsync("\"10.0.1.2\"", ",\"group\":\"239.255.0.9\"");
        Assert.NotEqual(first.GetProperty("id").GetString(), second.GetProperty("id").GetString());
        var all = await _c.GroupsAsync();
        Assert.Equal(second.GetProperty("id").GetString(), Assert.Single(all).GetProperty("id").GetString());
        Assert.Equal([2u], _c.Southbound.PortsOf("s1", 1, "239.255.0.9"));
        Assert.Empty(_c.Southbound.PortsOf("s2", 1, "239.255.0.9"));
        using var old = await _c.Http.GetAsync($"api/v1/groups/{first.GetProperty("id").GetString()}");
        Assert.Equal(HttpStatusCode.NotFound, old.StatusCode);
    }

    [Fact]
    public async Task Topology_ListsSwitchesLinksAndHosts()
    {
        var body = JsonDocument.Parse(await _c.Http.GetStringAsync("api/v1/topology")).RootElement;
        Assert.Equal(["s1", "s2"], body.GetProperty("switches").EnumerateArray().Select(s => s.GetProperty("id").GetString()));
        Assert.True(body.GetProperty("switches")[0].GetProperty("root").GetBoolean());
        var link = Assert.Single(body.GetProperty("links").EnumerateArray());
        Assert.False(link.GetProperty("blocked").GetBoolean());
        Assert.Equal(6, body.GetProperty("hosts").GetArrayLength());
        Assert.Equal("10.0.1.1", body.GetProperty("hosts")[0].GetProperty("ip").GetString());
    }

    [Fact]
    public async Task ReferenceGroups_ListPerSwitchMemberPorts()
    {
        var body = JsonDocument.Parse(await _c.Http.GetStringAsync("api/v1/reference-groups")).RootElement;
        var group = Assert.Single(body.EnumerateArray());
        Assert.Equal(1, group.GetProperty("vlan").GetInt32());
        Assert.Equal("239.1.0.1", group.GetProperty("group").GetString());
        var s2 = group.GetProperty("switches").EnumerateArray().Single(s => s.GetProperty("id").GetString() == "s2");
        Assert.Equal([1u, 2u], s2.GetProperty("memberPorts").EnumerateArray().Select(p => p.GetUInt32()));
    }
}
