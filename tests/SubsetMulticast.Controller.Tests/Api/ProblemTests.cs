using System.Net;
using System.Text.Json;
using SubsetMulticast.Controller.Tests.Support;
using SubsetMulticast.Core.Southbound;

namespace SubsetMulticast.Controller.Tests.Api;

/// <summary>Every refusal is problem+json with its status and slug, installs nothing and changes no state.</summary>
public sealed class ProblemTests : IAsyncLifetime
{
    private RunningController _c = null!;

    public async Task InitializeAsync() => _c = await RunningController.StartAsync(block: "239.255.0.0/30");
    public async Task DisposeAsync() => await _c.DisposeAsync();

    public static TheoryData<string, string, int, string> BadCreates => new()
    {
        { "not JSON", "{\"vlan\":1,", 400, "malformed-json" },
        { "JSON null", "null", 400, "malformed-json" },
        { "bytes after the object", """{"vlan":1,"reference":"239.1.0.1","members":["10.0.1.1"]} x""", 400, "malformed-json" },
        { "two objects", """{"vlan":1,"reference":"239.1.0.1","members":["10.0.1.1"]}{}""", 400, "malformed-json" },
        { "empty body", "", 400, "malformed-json" },
        { "vlan of the wrong type", """{"vlan":"one","reference":"239.1.0.1","members":["10.0.1.1"]}""", 400, "malformed-json" },
        { "members not an array", """{"vlan":1,"reference":"239.1.0.1","members":"10.0.1.1"}""", 400, "malformed-json" },
        { "no vlan", """{"reference":"239.1.0.1","members":["10.0.1.1"]}""", 400, "missing-field" },
        { "no reference", """{"vlan":1,"members":["10.0.1.1"]}""", 400, "missing-field" },
        { "no members", """{"vlan":1,"reference":"239.1.0.1"}""", 400, "missing-field" },
        { "vlan out of range", """{"vlan":5000,"reference":"239.1.0.1","members":["10.0.1.1"]}""", 400, "invalid-request" },
        { "reference shorthand", """{"vlan":1,"reference":"239.1.0","members":["10.0.1.1"]}""", 400, "malformed-address" },
        { "reference not multicast", """{"vlan":1,"reference":"10.0.0.1","members":["10.0.1.1"]}""", 400, "malformed-address" },
        { "member garbage", """{"vlan":1,"reference":"239.1.0.1","members":["10.0.1.1","10.0.1.x"]}""", 400, "malformed-address" },
        { "member null", """{"vlan":1,"reference":"239.1.0.1","members":[null]}""", 400, "malformed-address" },
        { "group garbage", """{"vlan":1,"reference":"239.1.0.1","members":["10.0.1.1"],"group":"nope"}""", 400, "malformed-address" },
        { "group unicast", """{"vlan":1,"reference":"239.1.0.1","members":["10.0.1.1"],"group":"10.1.1.1"}""", 400, "malformed-address" },
        { "empty members", """{"vlan":1,"reference":"239.1.0.1","members":[]}""", 400, "empty-member-list" },
        { "zero ttl", """{"vlan":1,"reference":"239.1.0.1","members":["10.0.1.1"],"ttlMs":0}""", 400, "invalid-request" },
        { "ttl beyond maximum", """{"vlan":1,"reference":"239.1.0.1","members":["10.0.1.1"],"ttlMs":9223372036854775807}""", 400, "invalid-request" },
        { "VLAN not allowed", """{"vlan":7,"reference":"239.1.0.1","members":["10.0.1.1"]}""", 422, "vlan-not-allowed" },
        { "reference unknown on an allowed VLAN", """{"vlan":2,"reference":"239.1.0.1","members":["10.0.1.1"]}""", 422, "unknown-reference-group" },
        { "reference unknown", """{"vlan":1,"reference":"239.9.9.9","members":["10.0.1.1"]}""", 422, "unknown-reference-group" },
        { "no member in the reference group", """{"vlan":1,"reference":"239.1.0.1","members":["10.0.1.3","10.0.2.3"]}""", 422, "no-member-in-reference-group" },
        { "unknown hosts only", """{"vlan":1,"reference":"239.1.0.1","members":["10.9.9.9"]}""", 422, "no-member-in-reference-group" },
        { "multicast member", """{"vlan":1,"reference":"239.1.0.1","members":["239.0.0.1"]}""", 422, "address-family-mismatch" },
        { "IPv6 member of an IPv4 reference", """{"vlan":1,"reference":"239.1.0.1","members":["2001:db8::1"]}""", 422, "address-family-mismatch" },
        { "group outside the block", """{"vlan":1,"reference":"239.1.0.1","members":["10.0.1.1"],"group":"239.1.2.3"}""", 422, "address-outside-block" },
    };

    [Theory]
    [MemberData(nameof(BadCreates))]
    public async Task Create_BadRequest_ReturnsProblemAndChangesNothing(string why, string json, int status, string slug)
    {
        await _c.CreateOkAsync();
        var before = await Snapshot();
        using var response = await _c.CreateAsync(json);
        await AssertProblem(response, status, slug, why);
        Assert.Equal(before, await Snapshot());
    }

    [Fact]
    public async Task Create_NotJsonContentType_Returns415Problem()
    {
        var before = await Snapshot();
        using var response = await _c.Http.PostAsync("api/v1/groups", new StringContent("vlan=1", System.Text.Encoding.UTF8, "text/plain"));
        await AssertProblem(response, 415, "unsupported-media-type", "text/plain body");
        Assert.Equal(before, await Snapshot());
    }

    [Fact]
    public async Task Create_BlockExhausted_Returns409AndChangesNothing()
    {
        for (int i = 0; i < 4; i++) await _c.CreateOkAsync();
        var before = await Snapshot();
        using var response = await _c.CreateAsync("""{"vlan":1,"reference":"239.1.0.1","members":["10.0.1.1"]}""");
        var detail = await AssertProblem(response, 409, "block-exhausted", "a /30 holds four groups");
        Assert.Contains("239.255.0.0/30", detail);
        Assert.Equal(before, await Snapshot());
    }

    [Theory]
    [InlineData("GET", "api/v1/groups/rg-nope")]
    [InlineData("POST", "api/v1/groups/rg-nope/refresh")]
    [InlineData("DELETE", "api/v1/groups/rg-nope")]
    public async Task UnknownGroup_Returns404Problem(string method, string path)
    {
        await _c.CreateOkAsync();
        var before = await Snapshot();
        using var response = await _c.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        var detail = await AssertProblem(response, 404, "group-not-found", path);
        Assert.Contains("rg-nope", detail);
        Assert.Equal(before, await Snapshot());
    }

    [Fact]
    public async Task UnknownRouteAndWrongMethod_AreProblemsToo()
    {
        using var route = await _c.Http.GetAsync("api/v2/nothing");
        await AssertProblem(route, 404, "not-found", "unknown route");
        using var method = await _c.Http.PutAsync("api/v1/groups", new StringContent("{}"));
        await AssertProblem(method, 405, "method-not-allowed", "PUT on the collection");
    }

    [Fact]
    public async Task GroupWithTransactionInProgress_Returns409Busy()
    {
        var created = await _c.CreateOkAsync(extra: ",\"group\":\"239.255.0.2\"");
        var id = created.GetProperty("id").GetString()!;
        _c.Southbound.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = _c.Http.DeleteAsync($"api/v1/groups/{id}");
        await _c.Southbound.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));

        using (var refresh = await _c.Http.PostAsync($"api/v1/groups/{id}/refresh", null))
            await AssertProblem(refresh, 409, "group-busy", "refresh during a release");
        using (var supersede = await _c.CreateAsync("""{"vlan":1,"reference":"239.1.0.1","members":["10.0.1.1"],"group":"239.255.0.2"}"""))
            await AssertProblem(supersede, 409, "group-busy", "supersede during a release");

        _c.Southbound.Gate.SetResult();
        using var released = await release;
        Assert.Equal(HttpStatusCode.NoContent, released.StatusCode);
        Assert.Empty(await _c.GroupsAsync());
    }

    [Fact]
    public async Task SouthboundRefusal_Returns502NamingTheSwitchAndChangesNothing()
    {
        var existing = await _c.CreateOkAsync(extra: ",\"group\":\"239.255.0.1\"");
        var before = await Snapshot();
        _c.Southbound.FailWith = new SwitchFailure("s2", "multicast table full");

        using (var create = await _c.CreateAsync("""{"vlan":1,"reference":"239.1.0.1","members":["10.0.1.2","10.0.2.2"],"group":"239.255.0.3"}"""))
        {
            var detail = await AssertProblem(create, 502, "southbound-failed", "create refused by s2");
            Assert.Contains("s2: multicast table full", detail);
        }
        using (var delete = await _c.Http.DeleteAsync($"api/v1/groups/{existing.GetProperty("id").GetString()}"))
            await AssertProblem(delete, 502, "southbound-failed", "release refused by s2");
        Assert.Equal(before, await Snapshot());

        // The refused create's address was given back: it can be had now.
        _c.Southbound.FailWith = null;
        var retried = await _c.CreateOkAsync("\"10.0.1.2\",\"10.0.2.2\"", ",\"group\":\"239.255.0.3\"");
        Assert.Equal("239.255.0.3", retried.GetProperty("group").GetString());
    }

    private async Task<string> Snapshot()
    {
        var rules = string.Join(";", _c.Southbound.Rules.OrderBy(r => r.Key.Switch).ThenBy(r => r.Key.Group)
            .Select(r => $"{r.Key.Switch}/{r.Key.Group}={string.Join(",", r.Value.Ports)}"));
        return $"{await _c.GroupsJsonAsync()}|{rules}|{_c.Southbound.Transactions}";
    }

    private static async Task<string> AssertProblem(HttpResponseMessage response, int status, string slug, string why)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"{why}: expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal("urn:tsm:problem:" + slug, body.GetProperty("type").GetString());
        Assert.Equal(status, body.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("title").GetString()), why);
        var detail = body.GetProperty("detail").GetString();
        Assert.False(string.IsNullOrWhiteSpace(detail), why);
        return detail!;
    }
}
