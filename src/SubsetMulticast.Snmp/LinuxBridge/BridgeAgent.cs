using System.Net;
using System.Net.Sockets;
using SubsetMulticast.Snmp.AgentX;

namespace SubsetMulticast.Snmp.LinuxBridge;

/// <summary>
/// <c>tsm bridge-agent</c>: serves one Linux bridge's Q-BRIDGE tables to net-snmp's snmpd over AgentX until cancelled,
/// reconnecting (every second) when the master is not there yet or restarts.
/// </summary>
public static class BridgeAgent
{
    public static async Task RunAsync(string bridge, string master, (IPAddress Base, int Prefix) groupBlock, TextWriter log, TimeProvider? time = null, CancellationToken ct = default)
    {
        time ??= TimeProvider.System;
        var state = new LinuxBridgeState(bridge);
        _ = state.Ports();   // fails now, with the bridge's name, if it is not a bridge
        var mib = new BridgeAgentMib(state, groupBlock, time);
        bool announcedWait = false;
        while (!ct.IsCancellationRequested)
        {
            AgentXSubagent session;
            try
            {
                session = await AgentXSubagent.ConnectAsync(master, mib.Tree, [BridgeAgentMib.Subtree], $"tsm bridge-agent {bridge}", time, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or IOException or TimeoutException)
            {
                if (!announcedWait) { await log.WriteLineAsync($"tsm bridge-agent: waiting for the AgentX master at {master} ({e.Message})").ConfigureAwait(false); announcedWait = true; }
                try { await Task.Delay(TimeSpan.FromSeconds(1), time, ct).ConfigureAwait(false); } catch (OperationCanceledException) { return; }
                continue;
            }
            catch (OperationCanceledException) { return; }
            announcedWait = false;
            await log.WriteLineAsync($"tsm bridge-agent: {bridge} registered at {master} (BRIDGE-MIB and Q-BRIDGE-MIB under .{BridgeAgentMib.Subtree}; groups in {groupBlock.Base}/{groupBlock.Prefix} as IP entries)").ConfigureAwait(false);
            await log.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            await using (session)
            {
                try { await session.Completion.WaitAsync(ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
            await log.WriteLineAsync($"tsm bridge-agent: the master at {master} closed the session; reconnecting").ConfigureAwait(false);
        }
    }
}
