using System.Net;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.OpenFlow.Agent;
using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.OpenFlow.Tests;

/// <summary>
/// A test switch: <see cref="OpenFlowSwitchAgent"/> (the emulator's switch side) plus a record of every
/// message received and a simple fault switch.
/// </summary>
public sealed class FakeSwitch : IAsyncDisposable
{
    private readonly OpenFlowSwitchAgent _agent;

    public FakeSwitch(ulong dpid, int ports = 4)
    {
        DatapathId = dpid;
        _agent = new OpenFlowSwitchAgent(dpid, Enumerable.Range(1, ports)
            .Select(i => new OfpPort((uint)i, new MacAddress(0x020000000000UL | (uint)i), $"p{i}")));
        _agent.MessageReceived += m => { lock (Gate) Received.Add(m); };
        _agent.Refuse = m => m is GroupMod g && FailGroup is { } f && f.GroupId == g.GroupId
            ? new ErrorMessage(OfpErrorNames.GroupModFailed, f.Code, g.ToArray()) : null;
    }

    public ulong DatapathId { get; }
    public string SwitchId => _agent.SwitchId;
    public OpenFlowSwitchAgent Agent => _agent;
    public IReadOnlyDictionary<uint, GroupMod> Groups => _agent.Groups;
    public IReadOnlyList<FlowMod> Flows => _agent.Flows;
    public List<OfpMessage> Received { get; } = [];
    public readonly object Gate = new();

    /// <summary>When set, a GROUP_MOD for this group id is refused with GROUP_MOD_FAILED/this code.</summary>
    public (uint GroupId, ushort Code)? FailGroup { get; set; }

    public TimeSpan BarrierDelay { get => _agent.BarrierDelay; set => _agent.BarrierDelay = value; }

    /// <summary>Stop answering echoes (keepalive test).</summary>
    public bool Mute { get => !_agent.AnswerEchoes; set => _agent.AnswerEchoes = !value; }

    public Task ConnectAsync(IPEndPoint controller) => _agent.ConnectAsync(controller);
    public Task SendRawAsync(byte[] bytes) => _agent.SendRawAsync(bytes);
    public Task SendAsync(OfpMessage m) => _agent.SendAsync(m);
    public void Mutate(Action<Dictionary<uint, GroupMod>, List<FlowMod>> change) => _agent.Mutate(change);

    public int CountReceived<T>() where T : OfpMessage { lock (Gate) return Received.OfType<T>().Count(); }

    public ValueTask DisposeAsync() => _agent.DisposeAsync();
}
