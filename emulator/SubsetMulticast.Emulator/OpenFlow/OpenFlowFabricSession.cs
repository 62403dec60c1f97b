using System.Net.Sockets;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Emulator.Switching;

namespace SubsetMulticast.Emulator.OpenFlow;

/// <summary>What <see cref="OpenFlowFabricSession"/> reports as it runs (the CLI prints it).</summary>
public interface IOpenFlowFabricEvents
{
    void ControllerReady(bool ready, int puntingSwitches, bool probedEveryLink, TimeSpan waited);
    void Joined(int hosts, IpAddress group, long packetInsSent, long packetInsDropped);
    void Reconnected(EmulatedSwitch sw);
}

/// <summary>Settings of <see cref="OpenFlowFabricSession"/>.</summary>
public sealed class OpenFlowFabricSessionOptions
{
    /// <summary>The group every host joins.</summary>
    public IpAddress Group { get; set; } = IpAddress.Parse("239.1.0.1");

    /// <summary>How long to wait for the controller's punt flows and LLDP probes before the hosts join anyway.</summary>
    public TimeSpan SettleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the hosts report their membership again (as a querier's general query would make them).</summary>
    public TimeSpan RejoinInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often a switch that lost its controller tries to connect again (Open vSwitch backs off to 8 s; we keep it short).</summary>
    public TimeSpan ReconnectInterval { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// An emulated OpenFlow fabric's life with its controller, as a fabric of Open vSwitch bridges with hosts lives it:
/// wait (bounded) for the controller's punt flows and LLDP probes, then every host announces itself and joins
/// the group; from then on a switch that lost its controller reconnects, as a switch's connection manager does,
/// and the hosts report again every <see cref="OpenFlowFabricSessionOptions.RejoinInterval"/>. Runs until cancelled.
/// </summary>
public static class OpenFlowFabricSession
{
    public static async Task RunAsync(OpenFlowFabric switches, OpenFlowFabricSessionOptions options, IOpenFlowFabricEvents events, TimeProvider? time = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(switches);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(events);
        time ??= TimeProvider.System;
        var fabric = switches.Fabric;
        await SettleAsync(switches, options.SettleTimeout, events, cancellationToken).ConfigureAwait(false);
        fabric.Announce();
        Join(fabric, options.Group);
        await switches.WaitForPacketInsSentAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        events.Joined(fabric.Hosts.Count, options.Group, switches.PacketInsSent, switches.PacketInsDropped);

        var nextJoin = time.GetUtcNow() + options.RejoinInterval;
        using var tick = new PeriodicTimer(options.ReconnectInterval, time);
        while (await tick.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            await ReconnectLostAsync(switches, events, cancellationToken).ConfigureAwait(false);
            if (time.GetUtcNow() >= nextJoin)
            {
                Join(fabric, options.Group);
                nextJoin = time.GetUtcNow() + options.RejoinInterval;
            }
        }
    }

    /// <summary>Waits (bounded) for the controller's punt flows and LLDP probes; without them joins would go unseen.</summary>
    private static async Task SettleAsync(OpenFlowFabric switches, TimeSpan wait, IOpenFlowFabricEvents events, CancellationToken ct)
    {
        var fabric = switches.Fabric;
        try
        {
            await OpenFlowFabric.WaitUntilAsync(() => fabric.Switches.All(switches.PuntsIgmp), wait, "punt flows", ct).ConfigureAwait(false);
            await OpenFlowFabric.WaitUntilAsync(() => switches.ProbedEveryLink, wait, "LLDP probes", ct).ConfigureAwait(false);
            await switches.WaitForPacketInsSentAsync(wait, ct).ConfigureAwait(false);
            events.ControllerReady(true, fabric.Switches.Count, true, wait);
        }
        catch (TimeoutException)
        {
            events.ControllerReady(false, fabric.Switches.Count(switches.PuntsIgmp), switches.ProbedEveryLink, wait);
        }
    }

    private static async Task ReconnectLostAsync(OpenFlowFabric switches, IOpenFlowFabricEvents events, CancellationToken ct)
    {
        foreach (var s in switches.Fabric.Switches)
        {
            if (switches.Agent(s).IsConnected) continue;
            try
            {
                await switches.ReconnectAsync(s, ct).ConfigureAwait(false);
                events.Reconnected(s);
            }
            catch (Exception e) when (e is SocketException or TimeoutException or IOException)
            {
                return; // the controller is away; try again on the next tick, as a switch's connection manager does
            }
        }
    }

    private static void Join(EmulatedFabric fabric, IpAddress group)
    {
        foreach (var h in fabric.Hosts) fabric.Join(h, group);
    }
}
