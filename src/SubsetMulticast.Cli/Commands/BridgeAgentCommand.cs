using System.CommandLine;
using System.Net;
using SubsetMulticast.Cli.CommandLine;
using SubsetMulticast.Snmp.LinuxBridge;

namespace SubsetMulticast.Cli.Commands;

/// <summary>
/// <c>tsm bridge-agent --bridge BR [--agentx SOCKET]</c>: an AgentX subagent of net-snmp's snmpd that serves a Linux
/// bridge's BRIDGE-MIB port table and Q-BRIDGE-MIB FDB, learned-group and read-write static-multicast tables (the
/// static rows are permanent mdb entries), until Ctrl-C. The behaviour is the library's (<see cref="BridgeAgent"/>).
/// </summary>
internal static class BridgeAgentCommand
{
    public static Command Create()
    {
        var bridge = OptionKinds.Text("--bridge", "The Linux bridge to serve (IGMP/MLD snooping on).", "BR");
        var agentx = OptionKinds.Text("--agentx", "The snmpd AgentX master socket: a Unix path or tcp:HOST:PORT (default /var/agentx/master).", "SOCKET");
        var block = OptionKinds.Parsed<(IPAddress, int)>("--block", "The rendezvous block: a group MAC inside it is written as that IPv4 group (default 239.255.0.0/16).", "CIDR", t =>
        {
            int slash = t.IndexOf('/', StringComparison.Ordinal);
            return slash > 0 && IPAddress.TryParse(t[..slash], out var a) && a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
                && int.TryParse(t[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture, out int p) && p is >= 9 and <= 32 ? (a, p) : null;
        }, "must be an IPv4 block of /9 or longer, like 239.255.0.0/16");
        var command = new Command("bridge-agent", "An AgentX subagent for snmpd serving a Linux bridge's Q-BRIDGE-MIB tables (static multicast read-write), until Ctrl-C.")
        {
            bridge, agentx, block,
        };
        command.AddCheck(r => { if (r.GetValue(bridge) is null) r.AddError("--bridge is required."); });
        command.SetAction(async (r, ct) =>
        {
            var name = r.GetValue(bridge)!;
            var master = r.GetValue(agentx) ?? "/var/agentx/master";
            var groups = r.GetResult(block) is { Implicit: false } ? r.GetValue(block) : (IPAddress.Parse("239.255.0.0"), 16);
            try
            {
                await BridgeAgent.RunAsync(name, master, groups, r.InvocationConfiguration.Output, ct: ct);
            }
            catch (IOException e)
            {
                await r.InvocationConfiguration.Error.WriteLineAsync($"tsm bridge-agent: {e.Message}");
                return 1;
            }
            return 0;
        });
        return command;
    }
}
