using System.Globalization;
using System.Net;
using System.Net.Sockets;
using SubsetMulticast.Cli.CommandLine;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Emulator;
using SubsetMulticast.Emulator.Snmp;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.Snmp.Agent;
using SubsetMulticast.Snmp.Security;

namespace SubsetMulticast.Cli.Commands;

/// <summary>
/// <c>tsm emulate --snmp ADDR:PORT</c>: the emulated fabric's switches as SNMP agents (<see cref="EmulatedSnmpAgents"/>),
/// the hosts announced and joined to the reference group, until Ctrl-C. Communities from TSM_SNMP_COMMUNITY (read,
/// default public) and TSM_SNMP_WRITE_COMMUNITY (default private); v3 keys from TSM_SNMP_AUTH_KEY / TSM_SNMP_PRIV_KEY.
/// </summary>
internal static class EmulateSnmp
{
    public static async Task<int> RunAsync(string fabricArg, FabricSpec spec, IPEndPoint at, string? user, IpAddress join, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        EmulatedFabric fabric;
        try { fabric = new EmulatedFabric(spec); }
        catch (ArgumentException e) { throw new UsageException($"--fabric: {e.Message}"); }
        var users = new List<UsmUser>();
        if (user is not null)
        {
            var parts = user.Split(':');
            if (parts.Length != 3 || !UsmProtocols.TryParseAuth(parts[1], out var auth) || !UsmProtocols.TryParsePriv(parts[2], out var priv))
                throw new UsageException("--snmp-user must be NAME:AUTH:PRIV, e.g. ops:SHA-256:AES-256 (AUTH: MD5, SHA, SHA-224…SHA-512; PRIV: DES, AES, AES-192, AES-256, AES-192-C, AES-256-C).");
            try
            {
                users.Add(new UsmUser(parts[0], auth, Environment.GetEnvironmentVariable("TSM_SNMP_AUTH_KEY"), priv, Environment.GetEnvironmentVariable("TSM_SNMP_PRIV_KEY")));
            }
            catch (ArgumentException e) { throw new UsageException($"--snmp-user: {e.Message} (keys come from TSM_SNMP_AUTH_KEY and TSM_SNMP_PRIV_KEY)"); }
        }
        var options = new SnmpAgentOptions
        {
            ReadCommunity = Environment.GetEnvironmentVariable("TSM_SNMP_COMMUNITY") ?? "public",
            WriteCommunity = Environment.GetEnvironmentVariable("TSM_SNMP_WRITE_COMMUNITY") ?? "private",
            Users = users,
        };
        fabric.Announce();
        foreach (var h in fabric.Hosts) if (join.IsV4 || h.Ipv6 is not null) fabric.Join(h, join);
        EmulatedSnmpAgents agents;
        try { agents = EmulatedSnmpAgents.Start(fabric, at, options); }
        catch (SocketException e)
        {
            await stderr.WriteLineAsync($"tsm emulate: cannot listen on {at} and the {fabric.Switches.Count - 1} ports after it: {e.Message}");
            return 1;
        }
        await using (agents)
        {
            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"tsm emulate: {fabricArg}: {fabric.Switches.Count} switches as SNMP agents (v1/v2c{(users.Count > 0 ? ", v3 user " + users[0] : "")}), {fabric.Hosts.Count} hosts joined {join}"));
            for (int i = 0; i < agents.Agents.Count; i++)
                await stdout.WriteLineAsync($"  {fabric.Switches[i].Name,-12} udp:{agents.Agents[i].Endpoint}");
            await stdout.WriteLineAsync("  Ctrl-C stops.");
            await stdout.FlushAsync(CancellationToken.None);
            try { await Task.Delay(Timeout.Infinite, ct); }
            catch (OperationCanceledException) { }
        }
        await stdout.WriteLineAsync("tsm emulate: stopped.");
        return 0;
    }
}
