using System.Globalization;
using System.Net;
using System.Net.Sockets;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Emulator;
using SubsetMulticast.Emulator.OpenFlow;
using SubsetMulticast.Emulator.Topology;

namespace SubsetMulticast.Cli.Commands;

/// <summary>
/// <c>tsm emulate</c>: an emulated fabric whose switches are OpenFlow 1.3 switches connected to a controller
/// (e.g. <c>tsm serve --openflow</c> in another terminal), until Ctrl-C. Once the controller has installed
/// its punt flows and probed the links, every host announces itself (gratuitous ARP) and joins the reference
/// group with a real IGMPv3 / MLDv2 report; the joins are repeated as a host answers general queries, and a
/// switch that loses its controller reconnects, as Open vSwitch does.
/// </summary>
internal static class EmulateCommand
{
    public const string Usage =
        "tsm emulate --fabric SPEC --controller HOST:PORT [--join GROUP] [--vlan N] [--no-ipv6] [--wait SECONDS] [--rejoin SECONDS]";

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var a = new Args(args, "--fabric", "--controller", "--join", "--vlan", "--no-ipv6", "--wait", "--rejoin");
        var fabricArg = a.Get("--fabric") ?? throw new UsageException($"--fabric is required. Usage: {Usage}");
        var controllerArg = a.Get("--controller") ?? throw new UsageException($"--controller is required. Usage: {Usage}");
        ushort vlan = (ushort)a.Int("--vlan", 0, 0, VlanId.MaxValue);
        bool ipv6 = !a.Has("--no-ipv6");
        var wait = TimeSpan.FromSeconds(a.Int("--wait", 30, 0, 3600));
        var rejoin = TimeSpan.FromSeconds(a.Int("--rejoin", 60, 1, 3600));
        var joinArg = a.Get("--join") ?? "239.1.0.1";
        if (!IpAddress.TryParse(joinArg, out var group) || !group.IsMulticast || group.IsLinkLocalMulticast)
            throw new UsageException($"--join must be a routable multicast group (e.g. 239.1.0.1 or ff15::1), not '{joinArg}'.");
        if (group.IsV6 && !ipv6) throw new UsageException("--join with an IPv6 group needs IPv6 hosts (drop --no-ipv6).");
        FabricSpec spec;
        try
        {
            spec = FabricSpec.Parse(fabricArg, vlan, ipv6);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or IOException)
        {
            throw new UsageException($"--fabric: {e.Message}");
        }
        var controller = await ResolveAsync(controllerArg, cancellationToken);

        EmulatedFabric fabric;
        try
        {
            fabric = new EmulatedFabric(spec);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--fabric: {e.Message}");
        }

        OpenFlowFabric switches;
        try
        {
            switches = await OpenFlowFabric.ConnectAsync(fabric, controller, cancellationToken: cancellationToken);
        }
        catch (Exception e) when (e is SocketException or TimeoutException or IOException or ArgumentException)
        {
            await stderr.WriteLineAsync($"tsm emulate: cannot connect {fabric.Switches.Count} switches to {controller}: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            return 0;
        }

        await using (switches)
        {
            var inv = CultureInfo.InvariantCulture;
            await stdout.WriteLineAsync(string.Create(inv,
                $"tsm emulate: {fabricArg}: {fabric.Switches.Count} switches connected to {controller} (OpenFlow 1.3), {fabric.Hosts.Count} hosts, VLAN {vlan}"));
            await stdout.FlushAsync(CancellationToken.None);
            try
            {
                await SettleAsync(switches, wait, stdout, cancellationToken);
                fabric.Announce();
                Join(fabric, group);
                await switches.WaitForPacketInsSentAsync(TimeSpan.FromSeconds(30), cancellationToken);
                await stdout.WriteLineAsync(string.Create(inv,
                    $"  {fabric.Hosts.Count} hosts announced and joined {group}; {switches.PacketInsSent} packet-ins sent, {switches.PacketInsDropped} dropped"));
                await stdout.WriteLineAsync("  Ctrl-C stops.");
                await stdout.FlushAsync(CancellationToken.None);
                await RunUntilCancelledAsync(switches, group, rejoin, stdout, cancellationToken);
            }
            catch (OperationCanceledException) { }
            catch (TimeoutException e)
            {
                await stderr.WriteLineAsync($"tsm emulate: {e.Message}");
                return 1;
            }
        }
        await stdout.WriteLineAsync("tsm emulate: stopped.");
        return 0;
    }

    /// <summary>Waits (bounded) for the controller's punt flows and LLDP probes; without them joins would go unseen.</summary>
    private static async Task SettleAsync(OpenFlowFabric switches, TimeSpan wait, TextWriter stdout, CancellationToken ct)
    {
        var fabric = switches.Fabric;
        try
        {
            await OpenFlowFabric.WaitUntilAsync(() => fabric.Switches.All(switches.PuntsIgmp), wait, "punt flows", ct);
            await OpenFlowFabric.WaitUntilAsync(() => switches.ProbedEveryLink, wait, "LLDP probes", ct);
            await switches.WaitForPacketInsSentAsync(wait, ct);
            await stdout.WriteLineAsync("  controller installed its punt flows and probed every link");
        }
        catch (TimeoutException)
        {
            int punting = fabric.Switches.Count(switches.PuntsIgmp);
            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"  warning: after {wait.TotalSeconds:0} s, {punting} of {fabric.Switches.Count} switches punt IGMP to the controller and links are {(switches.ProbedEveryLink ? "" : "not all ")}probed; joining anyway"));
        }
    }

    private static void Join(EmulatedFabric fabric, IpAddress group)
    {
        foreach (var h in fabric.Hosts) fabric.Join(h, group);
    }

    /// <summary>Every second: reconnect switches that lost the controller; every <paramref name="rejoin"/>: hosts report again.</summary>
    private static async Task RunUntilCancelledAsync(OpenFlowFabric switches, IpAddress group, TimeSpan rejoin, TextWriter stdout, CancellationToken ct)
    {
        var fabric = switches.Fabric;
        var nextJoin = DateTime.UtcNow + rejoin;
        using var tick = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await tick.WaitForNextTickAsync(ct))
        {
            foreach (var s in fabric.Switches)
            {
                if (switches.Agent(s).IsConnected) continue;
                try
                {
                    await switches.ReconnectAsync(s, ct);
                    await stdout.WriteLineAsync($"  {s.Name} reconnected to {switches.Controller}");
                }
                catch (Exception e) when (e is SocketException or TimeoutException or IOException)
                {
                    // The controller is away; try again on the next tick, as a switch's connection manager does.
                    break;
                }
            }
            if (DateTime.UtcNow >= nextJoin)
            {
                Join(fabric, group);
                nextJoin = DateTime.UtcNow + rejoin;
            }
        }
    }

    private static async Task<IPEndPoint> ResolveAsync(string text, CancellationToken ct)
    {
        if (IPEndPoint.TryParse(text, out var ep) && ep.Port != 0 && text.Contains(':', StringComparison.Ordinal)) return ep;
        int colon = text.LastIndexOf(':');
        if (colon > 0 && int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is > 0 and <= 65535)
        {
            try
            {
                var addresses = await Dns.GetHostAddressesAsync(text[..colon], ct);
                var address = addresses.FirstOrDefault(x => x.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault();
                if (address is not null) return new IPEndPoint(address, port);
            }
            catch (SocketException) { }
        }
        throw new UsageException($"--controller must be HOST:PORT of an OpenFlow controller (e.g. 127.0.0.1:6653), not '{text}'.");
    }
}
