using System.Collections.Concurrent;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Emulator.OpenFlow;
using SubsetMulticast.Emulator.Switching;
using SubsetMulticast.Emulator.Topology;

namespace SubsetMulticast.Emulator.Tests.OpenFlow;

/// <summary>
/// The emulated fabric's life with its controller, as the library runs it for <c>tsm emulate</c>: it waits for the
/// controller's punt flows and probes, the hosts join (and the controller learns the group), and a switch that
/// loses its controller connects again on its own.
/// </summary>
public sealed class OpenFlowFabricSessionTests
{
    private sealed class Recorder : IOpenFlowFabricEvents
    {
        public readonly TaskCompletionSource<bool> Ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource<int> JoinedHosts = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly ConcurrentQueue<string> ReconnectedSwitches = new();
        public readonly SemaphoreSlim AnyReconnect = new(0);

        public void ControllerReady(bool ready, int puntingSwitches, bool probedEveryLink, TimeSpan waited) => Ready.TrySetResult(ready);
        public void Joined(int hosts, IpAddress group, long packetInsSent, long packetInsDropped) => JoinedHosts.TrySetResult(hosts);
        public void Reconnected(EmulatedSwitch sw) { ReconnectedSwitches.Enqueue(sw.Name); AnyReconnect.Release(); }
    }

    [Fact]
    public async Task Session_SettlesJoins_AndReconnectsASwitchThatLostItsController()
    {
        await using var service = await TestController.StartAsync();
        var fabric = new EmulatedFabric(FabricSpec.Parse("leaf-spine:1:2:2", vlan: 0, ipv6: false));
        await using var switches = await OpenFlowFabric.ConnectAsync(fabric, service.Listener.LocalEndpoint);
        var events = new Recorder();
        var group = IpAddress.Parse("239.1.0.9");
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var run = OpenFlowFabricSession.RunAsync(switches, new OpenFlowFabricSessionOptions
        {
            Group = group,
            SettleTimeout = TimeSpan.FromSeconds(30),
            ReconnectInterval = TimeSpan.FromMilliseconds(100),
        }, events, cancellationToken: stop.Token);

        Assert.True(await events.Ready.Task.WaitAsync(TimeSpan.FromSeconds(60)), "the controller's punt flows and LLDP probes within 30 s");
        Assert.Equal(fabric.Hosts.Count, await events.JoinedHosts.Task.WaitAsync(TimeSpan.FromSeconds(60)));
        await EmulatorOpenFlowWait.UntilAsync(() => service.References.TryGet(0, group, out _), "the hosts' group learned by the controller");

        var victim = fabric.Switches[^1];
        await switches.DisconnectAsync(victim);
        Assert.True(await events.AnyReconnect.WaitAsync(TimeSpan.FromSeconds(60)), "a reconnect within 60 s");
        Assert.Contains(victim.Name, events.ReconnectedSwitches);
        Assert.True(switches.Agent(victim).IsConnected);
        Assert.DoesNotContain(events.ReconnectedSwitches, n => n != victim.Name);

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }
}

/// <summary>Bounded polling on the controller's state (what it learned has no event to wait on).</summary>
internal static class EmulatorOpenFlowWait
{
    public static Task UntilAsync(Func<bool> condition, string what) =>
        OpenFlowFabric.WaitUntilAsync(condition, TimeSpan.FromSeconds(30), what);
}
