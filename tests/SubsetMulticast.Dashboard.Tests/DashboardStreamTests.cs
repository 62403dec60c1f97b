using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Controller;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.ReferenceGroups;
using SubsetMulticast.Emulator;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.Push;

namespace SubsetMulticast.Dashboard.Tests;

/// <summary>The event stream itself, read as a client reads it, on the in-process controller over an emulated fabric.</summary>
public sealed class DashboardStreamTests
{
    [Fact]
    public async Task Stream_SendsSnapshot_ThenEachGroupChange_ThenTheFabricWhenAReferenceGroupChanges()
    {
        var fabric = new EmulatedFabric(FabricSpec.Parse("leaf-spine:2:2:4"));
        var reference = IpAddress.Parse("239.1.0.1");
        foreach (var h in fabric.Hosts) fabric.Join(h, reference);
        var hosts = new HostTable();
        fabric.ExportHosts(hosts);
        var references = new ReferenceGroupTable(fabric.Topology);
        fabric.ExportReferenceGroups(references);
        var keys = new PushKeyRing().Add(1, 1, new byte[32]);
        var southbound = new EmulatorSouthbound(fabric, keys);
        await using var host = await TsmControllerHost.StartAsync(new ControllerOptions
        {
            ApiUrl = "http://127.0.0.1:0",
            PushUdp = null,
            Lifecycle = new LifecycleOptions().AddVlan(1, "239.255.0.0/24"),
            ConfigureLogging = l => l.ClearProviders(),
        }, fabric.Topology, hosts, references, southbound, southbound, TimeProvider.System);
        using var http = new HttpClient { BaseAddress = host.ApiUrl, Timeout = TimeSpan.FromSeconds(30) };
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var events = await http.GetAsync("dashboard/events", HttpCompletionOption.ResponseHeadersRead, cts.Token);
        using var reader = new StreamReader(await events.Content.ReadAsStreamAsync(cts.Token));

        async Task<(string Name, JsonElement Data)> NextAsync(params string[] skip)
        {
            string? name = null;
            while (true)
            {
                var line = await reader.ReadLineAsync(cts.Token) ?? throw new Xunit.Sdk.XunitException("the stream ended");
                if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line[7..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal) && name is not null)
                {
                    if (skip.Contains(name)) { name = null; continue; }
                    return (name, JsonDocument.Parse(line[6..]).RootElement.Clone());
                }
            }
        }

        var (first, snapshot) = await NextAsync();
        Assert.Equal("snapshot", first);
        Assert.Equal(fabric.Switches.Count, snapshot.GetProperty("topology").GetProperty("switches").GetArrayLength());
        Assert.Equal(1, snapshot.GetProperty("references").GetArrayLength());

        string[] members = [fabric.Hosts[0].Ipv4.ToString(), fabric.Hosts[^1].Ipv4.ToString(), "10.0.9.9"];
        using var created = await http.PostAsJsonAsync("api/v1/groups", new { vlan = 1, reference = "239.1.0.1", members, ttlMs = 60_000 }, cts.Token);
        var rest = JsonDocument.Parse(await created.Content.ReadAsStringAsync(cts.Token)).RootElement;
        var (name, change) = await NextAsync("figures");
        Assert.Equal("group", name);
        Assert.Equal("created", change.GetProperty("kind").GetString());
        var group = change.GetProperty("group");
        Assert.Equal(rest.GetProperty("id").GetString(), group.GetProperty("id").GetString());
        Assert.Equal(rest.GetProperty("switches").GetRawText(), group.GetProperty("switches").GetRawText());
        Assert.Equal(rest.GetProperty("setupMicros").GetInt64(), group.GetProperty("setupMicros").GetInt64());
        Assert.Equal("unknownHost", group.GetProperty("ignored")[0].GetProperty("reason").GetString());
        Assert.Equal(1, change.GetProperty("figures").GetProperty("groupsLive").GetInt32());

        using (await http.PostAsync($"api/v1/groups/{rest.GetProperty("id").GetString()}/refresh", null, cts.Token)) { }
        (name, change) = await NextAsync("figures");
        Assert.Equal("refreshed", change.GetProperty("kind").GetString());
        using (await http.DeleteAsync($"api/v1/groups/{rest.GetProperty("id").GetString()}", cts.Token)) { }
        (name, change) = await NextAsync("figures");
        Assert.Equal("released", change.GetProperty("kind").GetString());
        Assert.Equal(0, change.GetProperty("figures").GetProperty("groupsLive").GetInt32());

        // A reference group changes (as snooping would change it): the stream sends the fabric again, within its 1-s check.
        references.SetMemberPorts(1, IpAddress.Parse("239.2.0.2"), fabric.Hosts[0].Switch, [fabric.Hosts[0].Port]);
        (name, change) = await NextAsync("figures");
        Assert.Equal("fabric", name);
        Assert.Contains(change.GetProperty("references").EnumerateArray(), r => r.GetProperty("group").GetString() == "239.2.0.2");
    }
}
