namespace SubsetMulticast.Core.Fabric;

/// <summary>A switch as the controller knows it. <see cref="Index"/> is its dense position in the topology.</summary>
public sealed record SwitchInfo(int Index, string Id, ulong BridgeId, IReadOnlyList<uint> Ports);

/// <summary>A port of a switch, by switch index and the switch's own port number.</summary>
public readonly record struct PortRef(int Switch, uint Port);

/// <summary>An inter-switch link; both ends are switch ports.</summary>
public readonly record struct SwitchLink(PortRef A, PortRef B);

/// <summary>
/// The switches and inter-switch links of one L2 fabric, plus the loop-free forwarding tree over them.
/// Immutable: a topology change makes a new one.
/// </summary>
public sealed class FabricTopology
{
    private readonly Dictionary<string, int> _byId;

    public FabricTopology(IReadOnlyList<SwitchInfo> switches, IReadOnlyList<SwitchLink> links)
    {
        Switches = switches;
        Links = links;
        _byId = new Dictionary<string, int>(switches.Count, StringComparer.Ordinal);
        for (int i = 0; i < switches.Count; i++)
        {
            if (switches[i].Index != i) throw new ArgumentException($"Switch '{switches[i].Id}' has index {switches[i].Index}, expected {i}.", nameof(switches));
            if (!_byId.TryAdd(switches[i].Id, i)) throw new ArgumentException($"Switch id '{switches[i].Id}' appears twice.", nameof(switches));
        }
        foreach (var l in links)
        {
            CheckPort(l.A);
            CheckPort(l.B);
            if (l.A.Switch == l.B.Switch) throw new ArgumentException($"Link {l} loops back to its own switch.", nameof(links));
        }
        Tree = SpanningTree.Build(this);
    }

    public IReadOnlyList<SwitchInfo> Switches { get; }
    public IReadOnlyList<SwitchLink> Links { get; }

    /// <summary>The loop-free tree that every "port toward a host" is taken along (see <see cref="SpanningTree"/>).</summary>
    public SpanningTree Tree { get; }

    public bool TryGetIndex(string switchId, out int index) => _byId.TryGetValue(switchId, out index);

    private void CheckPort(PortRef p)
    {
        if ((uint)p.Switch >= (uint)Switches.Count) throw new ArgumentException($"Link end {p} names no switch.");
        if (!Switches[p.Switch].Ports.Contains(p.Port)) throw new ArgumentException($"Link end {p}: switch '{Switches[p.Switch].Id}' has no port {p.Port}.");
    }
}
