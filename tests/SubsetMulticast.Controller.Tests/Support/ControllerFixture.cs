using Microsoft.Extensions.Time.Testing;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Push;

namespace SubsetMulticast.Controller.Tests.Support;

/// <summary>A real controller on 127.0.0.1:0 over <see cref="TestFabric"/>, with a recording southbound and an HttpClient.</summary>
public sealed class RunningController : IAsyncDisposable
{
    public static readonly byte[] Key = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];

    /// <summary>A second push key on VLAN 1 (key id 2): another client.</summary>
    public static readonly byte[] Key2 = [.. Enumerable.Range(101, 32).Select(i => (byte)i)];

    private RunningController(TsmControllerHost host, TestFabric fabric, RecordingSouthbound southbound, RecordingPushTarget push, FakeTimeProvider time)
    {
        Host = host;
        Fabric = fabric;
        Southbound = southbound;
        PushTarget = push;
        Time = time;
        Http = new HttpClient { BaseAddress = host.ApiUrl, Timeout = TimeSpan.FromSeconds(30) };
    }

    public TsmControllerHost Host { get; }
    public TestFabric Fabric { get; }
    public RecordingSouthbound Southbound { get; }
    public RecordingPushTarget PushTarget { get; }
    public FakeTimeProvider Time { get; }
    public HttpClient Http { get; }

    /// <param name="block">VLAN 1's IPv4 block; VLAN 2 is allowed too (with no reference group on it).</param>
    public static async Task<RunningController> StartAsync(ApplyMode mode = ApplyMode.Computed, string block = "239.255.0.0/24", bool push = true,
        ILoggerProvider? logs = null, Action<ControllerOptions>? configure = null)
    {
        var fabric = new TestFabric();
        var southbound = new RecordingSouthbound();
        var target = new RecordingPushTarget();
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));
        var options = new ControllerOptions
        {
            ApiUrl = "http://127.0.0.1:0",
            PushUdp = push ? new IPEndPoint(IPAddress.Loopback, 0) : null,
            Mode = mode,
            Lifecycle = new LifecycleOptions().AddVlan(1, block).AddVlan(2, "239.254.0.0/24"),
            PushKeys = new PushKeyRing().Add(1, 1, Key).Add(2, 1, Key).Add(1, 2, Key2),
            ConfigureLogging = l => { l.ClearProviders(); if (logs is not null) l.AddProvider(logs); },
        };
        configure?.Invoke(options);
        var host = await TsmControllerHost.StartAsync(options, fabric.Topology, fabric.Hosts, fabric.References, southbound, target, time);
        return new RunningController(host, fabric, southbound, target, time);
    }

    public Task<HttpResponseMessage> CreateAsync(string json) =>
        Http.PostAsync("api/v1/groups", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

    public async Task<JsonElement> CreateOkAsync(string members = "\"10.0.1.1\",\"10.0.2.1\"", string extra = "")
    {
        using var response = await CreateAsync($$"""{"vlan":1,"reference":"239.1.0.1","members":[{{members}}],"ttlMs":5000{{extra}}}""");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public async Task<string> GroupsJsonAsync() => await Http.GetStringAsync("api/v1/groups");

    public async Task<JsonElement[]> GroupsAsync() =>
        [.. (await Http.GetFromJsonAsync<JsonElement>("api/v1/groups")).EnumerateArray()];

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Host.DisposeAsync();
    }
}

public static class Wait
{
    /// <summary>Polls <paramref name="condition"/> for up to 10 s of real time.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        for (int i = 0; i < 500; i++)
        {
            if (await condition()) return;
            await Task.Delay(20);
        }
        Assert.Fail($"Timed out waiting until {what}.");
    }
}
