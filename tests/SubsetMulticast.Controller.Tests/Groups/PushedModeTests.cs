using System.Net;
using System.Text.Json;
using SubsetMulticast.Controller.Tests.Support;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.Push;

namespace SubsetMulticast.Controller.Tests.Groups;

public sealed class PushedModeTests : IAsyncLifetime
{
    private RunningController _c = null!;

    public async Task InitializeAsync() => _c = await RunningController.StartAsync(ApplyMode.Pushed, push: false);
    public async Task DisposeAsync() => await _c.DisposeAsync();

    [Fact]
    public async Task Create_PushedMode_SendsOneSignedInstructionWithTheEffectiveMembers()
    {
        var body = await _c.CreateOkAsync("\"10.0.1.1\",\"10.0.1.3\",\"10.0.2.2\"", ",\"group\":\"239.255.0.7\"");
        var instruction = Assert.Single(_c.PushTarget.Pushed);
        var verifier = new PushVerifier(new PushKeyRing().Add(1, 1, RunningController.Key));
        Assert.Equal(PushVerdict.Accepted, verifier.Verify(instruction, out var read, out _));
        Assert.Equal(PushOpcode.PushMembership, read.Opcode);
        Assert.Equal("239.1.0.1", read.Reference.ToString());
        Assert.Equal("239.255.0.7", read.Group.ToString());
        Assert.Equal(5000u, read.LeaseMs);
        var members = new List<string>();
        for (int i = 0; i < read.MemberCount; i++) members.Add(read.MemberAt(i).ToString());
        Assert.Equal(["10.0.1.1", "10.0.2.2"], members);
        Assert.Equal(0, _c.Southbound.Transactions);
        // The controller keeps the bookkeeping either way: the plan is reported as computed.
        Assert.Equal(2, body.GetProperty("switches").GetArrayLength());
    }

    [Fact]
    public async Task RefreshAndRelease_PushedMode_AreInstructionsWithRisingSequences()
    {
        var id = (await _c.CreateOkAsync()).GetProperty("id").GetString()!;
        using (var r = await _c.Http.PostAsync($"api/v1/groups/{id}/refresh", null)) r.EnsureSuccessStatusCode();
        using (var r = await _c.Http.DeleteAsync($"api/v1/groups/{id}")) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        var verifier = new PushVerifier(new PushKeyRing().Add(1, 1, RunningController.Key));
        var opcodes = new List<PushOpcode>();
        foreach (var i in _c.PushTarget.Pushed)
        {
            Assert.Equal(PushVerdict.Accepted, verifier.Verify(i, out var read, out _)); // also proves the sequences rise
            opcodes.Add(read.Opcode);
        }
        Assert.Equal([PushOpcode.PushMembership, PushOpcode.Refresh, PushOpcode.Release], opcodes);
    }

    [Fact]
    public async Task Create_AgentRefuses_Returns502AndKeepsNoGroup()
    {
        _c.PushTarget.FailWith = new SwitchFailure("s2", "agent has no key 1");
        using var response = await _c.CreateAsync("""{"vlan":1,"reference":"239.1.0.1","members":["10.0.1.1"]}""");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains("s2: agent has no key 1", body.GetProperty("detail").GetString());
        Assert.Empty(await _c.GroupsAsync());
    }
}
