using System.Net;
using System.Text.Json;
using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Controller.Tests.Support;

namespace SubsetMulticast.Controller.Tests.Api;

/// <summary>POST /groups with "delivery":"bier": answered with BitStrings, nothing installed, nothing stored.</summary>
public sealed class BierDeliveryApiTests : IAsyncLifetime
{
    private RunningController _c = null!;

    public async Task InitializeAsync() => _c = await RunningController.StartAsync();
    public async Task DisposeAsync() => await _c.DisposeAsync();

    [Fact]
    public async Task Create_DeliveryBier_AnswersBitStringsAndTouchesNoSwitch()
    {
        using var response = await _c.CreateAsync("""{"vlan":1,"reference":"239.1.0.1","members":["10.0.1.1","10.0.2.1","10.0.1.3"],"delivery":"bier"}""");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Null(response.Headers.Location);
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal("bier", body.GetProperty("delivery").GetString());
        Assert.Equal(256, body.GetProperty("bsl").GetInt32());
        Assert.Equal(["10.0.1.1", "10.0.2.1"], body.GetProperty("effective").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("notInReferenceGroup", Assert.Single(body.GetProperty("ignored").EnumerateArray()).GetProperty("reason").GetString());
        var ids = body.GetProperty("bfrIds").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal(2, ids.Length);
        var set = Assert.Single(body.GetProperty("sets").EnumerateArray());
        Assert.Equal(0, set.GetProperty("si").GetInt32());
        Assert.Equal(ids, set.GetProperty("bits").EnumerateArray().Select(e => e.GetInt32()));
        // The hex is the wire BitString of exactly those bits.
        Assert.Equal(BitString.Of(BitStringLength.Bits256, ids).ToHex(), set.GetProperty("hex").GetString());
        Assert.Equal(0, _c.Southbound.Transactions);
        Assert.Empty(await _c.GroupsAsync());

        // The same host keeps its BFR-id in the next answer.
        using var again = await _c.CreateAsync("""{"vlan":1,"reference":"239.1.0.1","members":["10.0.2.1"],"delivery":"bier"}""");
        var b2 = JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(ids[1], Assert.Single(b2.GetProperty("bfrIds").EnumerateArray()).GetInt32());
    }

    [Fact]
    public async Task Create_DeliveryUnknown_Is400ProblemJson()
    {
        using var response = await _c.CreateAsync("""{"vlan":1,"reference":"239.1.0.1","members":["10.0.1.1"],"delivery":"carrier-pigeon"}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("carrier-pigeon", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Create_DeliveryBierNoMemberInReference_Is422AndNothingInstalled()
    {
        using var response = await _c.CreateAsync("""{"vlan":1,"reference":"239.1.0.1","members":["10.0.1.3"],"delivery":"bier"}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, _c.Southbound.Transactions);
    }
}
