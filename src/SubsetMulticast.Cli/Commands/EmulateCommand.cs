using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using SubsetMulticast.Cli.CommandLine;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Emulator;
using SubsetMulticast.Emulator.OpenFlow;
using SubsetMulticast.Emulator.Switching;
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
    public static Command Create()
    {
        var fabric = OptionKinds.Text("--fabric", "The emulated fabric: single:HOSTS, leaf-spine:SPINES:LEAVES:HOSTS, fat-tree:K or file:PATH.", "SPEC");
        var controller = OptionKinds.Text("--controller", "The OpenFlow controller to connect every switch to (e.g. tsm serve --openflow).", "HOST:PORT");
        var join = OptionKinds.Address("--join", "The group every host joins (default 239.1.0.1).",
            ip => ip.IsMulticast && !ip.IsLinkLocalMulticast, "must be a routable multicast group (e.g. 239.1.0.1 or ff15::1)");
        var vlan = OptionKinds.Int("--vlan", "The hosts' VLAN (0: untagged).", 0, VlanId.MaxValue, 0);
        var noIpv6 = OptionKinds.Flag("--no-ipv6", "IPv4 hosts only.");
        var wait = OptionKinds.WholeSeconds("--wait", "How long to wait for the controller's punt flows and LLDP probes before the hosts join anyway.", 0, 3600, 30);
        var rejoin = OptionKinds.WholeSeconds("--rejoin", "How often the hosts report their membership again.", 1, 3600, 60);
        var snmp = OptionKinds.EndPoint("--snmp", "Serve every switch as an SNMP agent instead (v2c, and v3 with --snmp-user): switch i on this port + i.", allowOff: false, "127.0.0.1:16100");
        var snmpUser = OptionKinds.Text("--snmp-user", "A v3 user NAME:AUTH:PRIV (e.g. ops:SHA-256:AES-256); keys from TSM_SNMP_AUTH_KEY and TSM_SNMP_PRIV_KEY.", "NAME:AUTH:PRIV");
        fabric.CompletionSources.Add("single:4", "leaf-spine:2:4:8", "fat-tree:4", "file:");
        var command = new Command("emulate", "An emulated fabric whose switches are OpenFlow 1.3 switches connected to a controller, until Ctrl-C.")
        {
            fabric, controller, join, vlan, noIpv6, wait, rejoin, snmp, snmpUser,
        };
        command.AddCheck(r =>
        {
            if (r.GetValue(fabric) is null) r.AddError("--fabric is required.");
            else if (r.GetValue(controller) is null && r.GetValue(snmp) is null) r.AddError("--controller (OpenFlow) or --snmp is required.");
            else if (r.GetValue(controller) is not null && r.GetValue(snmp) is not null) r.AddError("--controller and --snmp are two ways to run the switches: give one.");
            else if (r.GetValue(join) is { IsV6: true } && r.GetValue(noIpv6)) r.AddError("--join with an IPv6 group needs IPv6 hosts (drop --no-ipv6).");
        });
        command.SetAction(async (r, ct) =>
        {
            ushort v = (ushort)r.GetValue(vlan);
            bool ipv6 = !r.GetValue(noIpv6);
            string fabricArg = r.GetValue(fabric)!;
            FabricSpec spec;
            try
            {
                spec = FabricSpec.Parse(fabricArg, v, ipv6);
            }
            catch (Exception e) when (e is FormatException or ArgumentException or IOException)
            {
                throw new UsageException($"--fabric: {e.Message}");
            }
            if (r.GetValue(snmp)?.EndPoint is { } snmpAt)
                return await EmulateSnmp.RunAsync(fabricArg, spec, snmpAt, r.GetValue(snmpUser), r.GetValue(join) ?? IpAddress.Parse("239.1.0.1"),
                    r.InvocationConfiguration.Output, r.InvocationConfiguration.Error, ct);
            var at = await ResolveAsync(r.GetValue(controller)!, ct);
            var session = new OpenFlowFabricSessionOptions
            {
                Group = r.GetValue(join) ?? IpAddress.Parse("239.1.0.1"),
                SettleTimeout = TimeSpan.FromSeconds(r.GetValue(wait)),
                RejoinInterval = TimeSpan.FromSeconds(r.GetValue(rejoin)),
            };
            return await RunAsync(fabricArg, spec, v, at, session, r.InvocationConfiguration.Output, r.InvocationConfiguration.Error, ct);
        });
        return command;
    }

    private static async Task<int> RunAsync(string fabricArg, FabricSpec spec, ushort vlan, IPEndPoint controller, OpenFlowFabricSessionOptions session,
        TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
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
            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"tsm emulate: {fabricArg}: {fabric.Switches.Count} switches connected to {controller} (OpenFlow 1.3), {fabric.Hosts.Count} hosts, VLAN {vlan}"));
            await stdout.FlushAsync(CancellationToken.None);
            try
            {
                await OpenFlowFabricSession.RunAsync(switches, session, new ConsoleEvents(stdout, switches), cancellationToken: cancellationToken);
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

    /// <summary>The session's events as the lines <c>tsm emulate</c> prints.</summary>
    private sealed class ConsoleEvents(TextWriter stdout, OpenFlowFabric switches) : IOpenFlowFabricEvents
    {
        public void ControllerReady(bool ready, int puntingSwitches, bool probedEveryLink, TimeSpan waited)
        {
            stdout.WriteLine(ready
                ? "  controller installed its punt flows and probed every link"
                : string.Create(CultureInfo.InvariantCulture,
                    $"  warning: after {waited.TotalSeconds:0} s, {puntingSwitches} of {switches.Fabric.Switches.Count} switches punt IGMP to the controller and links are {(probedEveryLink ? "" : "not all ")}probed; joining anyway"));
            stdout.Flush();
        }

        public void Joined(int hosts, IpAddress group, long packetInsSent, long packetInsDropped)
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {hosts} hosts announced and joined {group}; {packetInsSent} packet-ins sent, {packetInsDropped} dropped"));
            stdout.WriteLine("  Ctrl-C stops.");
            stdout.Flush();
        }

        public void Reconnected(EmulatedSwitch sw)
        {
            stdout.WriteLine($"  {sw.Name} reconnected to {switches.Controller}");
            stdout.Flush();
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
