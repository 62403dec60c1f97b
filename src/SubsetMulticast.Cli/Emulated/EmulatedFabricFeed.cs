using SubsetMulticast.Emulator;
using SubsetMulticast.Emulator.Switching;
using SubsetMulticast.Learning;

namespace SubsetMulticast.Cli.Emulated;

/// <summary>
/// Feeds a <see cref="FabricLearner"/> from an in-process <see cref="EmulatedFabric"/>, as
/// OpenFlowFabricFeed does from OpenFlow: every switch comes up with its ports (ids are the switch names,
/// as <see cref="EmulatorSouthbound"/> addresses them), every link is announced in both directions, and the
/// fabric's <see cref="EmulatedFabric.ControlTap"/> hands each received IGMP/MLD, ARP and ND frame to
/// <see cref="FabricLearner.FrameIn"/> with its switch and in-port. So the controller learns reference
/// groups and host locations from the hosts' real frames, and a Leave reaches it.
/// </summary>
/// <remarks>
/// Links are told, not discovered: in this mode the emulated switches run no LLDP (the wiring is the spec's,
/// and OpenFlow mode is where discovery is exercised). Create the feed before hosts send anything; frames
/// sent earlier are not replayed. The learner's timers are its owner's: call <see cref="FabricLearner.Tick"/>
/// periodically. One feed per fabric.
/// </remarks>
public sealed class EmulatedFabricFeed : IDisposable
{
    private readonly EmulatedFabric _fabric;
    private readonly FabricLearner _learner;
    private readonly ControlFrameTap _tap;
    private long _frames;
    private int _disposed;

    public EmulatedFabricFeed(EmulatedFabric fabric, FabricLearner learner)
    {
        ArgumentNullException.ThrowIfNull(fabric);
        ArgumentNullException.ThrowIfNull(learner);
        if (fabric.ControlTap is not null) throw new InvalidOperationException("The fabric already has a control-frame tap (one feed per fabric).");
        _fabric = fabric;
        _learner = learner;
        // In index order: a fresh learner then gives every switch the emulator's own index.
        foreach (var s in fabric.Switches)
        {
            var ports = new SwitchPortInfo[s.PortCount];
            for (uint p = 1; p <= s.PortCount; p++) ports[p - 1] = new SwitchPortInfo(p, $"{s.Name}-p{p}");
            if (!learner.SwitchUp(s.Name, s.BridgeId, ports))
                throw new InvalidOperationException($"The learner refused switch '{s.Name}' (switch limit reached).");
        }
        foreach (var link in fabric.Topology.Links)
        {
            var a = new SwitchPort(fabric.Switches[link.A.Switch].Name, link.A.Port);
            var b = new SwitchPort(fabric.Switches[link.B.Switch].Name, link.B.Port);
            learner.LinkUp(a, b);
            learner.LinkUp(b, a);
        }
        _tap = OnControlFrame;
        fabric.ControlTap = _tap;
    }

    public FabricLearner Learner => _learner;

    /// <summary>Control frames handed to the learner (one per switch a frame reached).</summary>
    public long FramesFed => Interlocked.Read(ref _frames);

    private void OnControlFrame(EmulatedSwitch at, uint inPort, ReadOnlySpan<byte> frame)
    {
        Interlocked.Increment(ref _frames);
        _learner.FrameIn(at.Name, inPort, frame);
    }

    /// <summary>Removes the tap; the learner keeps what it learned.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (ReferenceEquals(_fabric.ControlTap, _tap)) _fabric.ControlTap = null;
    }
}
