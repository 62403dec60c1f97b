using System.Net;
using System.Text;
using SubsetMulticast.Snmp.Agent;

namespace SubsetMulticast.Emulator.Snmp;

/// <summary>
/// Every emulated switch as an SNMP agent (v1, v2c, v3/USM) on UDP: switch i listens on the first endpoint's port + i.
/// Each has its own engineID (enterprise format 4, text: "tsm-" + switch name, RFC 3411 §5) and its own MIB
/// (<see cref="EmulatedSwitchMib"/>); a SET on dot1qStaticMulticastTable changes the switch's forwarding.
/// </summary>
public sealed class EmulatedSnmpAgents : IAsyncDisposable
{
    private readonly List<SnmpUdpAgent> _agents = [];

    private EmulatedSnmpAgents() { }

    public IReadOnlyList<SnmpUdpAgent> Agents => _agents;

    public static EmulatedSnmpAgents Start(EmulatedFabric fabric, IPEndPoint first, SnmpAgentOptions template, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        var result = new EmulatedSnmpAgents();
        try
        {
            for (int i = 0; i < fabric.Switches.Count; i++)
            {
                var sw = fabric.Switches[i];
                var name = Encoding.ASCII.GetBytes(sw.Name);
                var options = new SnmpAgentOptions
                {
                    EngineId = [0x80, 0x00, 0x1F, 0x88, 0x04, .. "tsm-"u8, .. name.AsSpan(0, Math.Min(name.Length, 23))],
                    EngineBoots = template.EngineBoots,
                    ReadCommunity = template.ReadCommunity,
                    WriteCommunity = template.WriteCommunity,
                    Users = template.Users,
                    MaxResponseSize = template.MaxResponseSize,
                };
                var agent = new SnmpAgent(options, EmulatedSwitchMib.Build(fabric, sw, time), time);
                int port = first.Port == 0 ? 0 : first.Port + i;
                result._agents.Add(new SnmpUdpAgent(agent, new IPEndPoint(first.Address, port)));
            }
        }
        catch
        {
            result.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var a in _agents) await a.DisposeAsync().ConfigureAwait(false);
        _agents.Clear();
    }
}
