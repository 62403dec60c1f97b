namespace SubsetMulticast.Core.Planning;

/// <summary>
/// The draft's per-switch rule (§7.1), shared by the controller's planner and each switch's forwarding
/// control agent so that both modes compute the same thing: portset = ∪ (port toward each member),
/// keeping only ports in the reference group's forwarding set on this switch.
/// </summary>
public static class PortsetRule
{
    /// <summary>
    /// Adds <paramref name="port"/> to the sorted set <paramref name="set"/>[..<paramref name="count"/>]
    /// if it is in <paramref name="referencePorts"/> (sorted) and not already present. Returns the new count.
    /// </summary>
    public static int AddIfReferenced(Span<uint> set, int count, uint port, ReadOnlySpan<uint> referencePorts)
    {
        if (port == 0) return count;
        // The set first: it holds a port or two, while a spine's reference ports are dozens, and most members of a
        // group lie the same way from most switches (the planner asks once per switch and member).
        int at = set[..count].BinarySearch(port);
        if (at >= 0 || referencePorts.BinarySearch(port) < 0) return count;
        at = ~at;
        set[at..count].CopyTo(set[(at + 1)..]);
        set[at] = port;
        return count + 1;
    }

    /// <summary>
    /// True when the computed set is what the switch would do anyway for an unregistered group (send to
    /// its router ports), so no rule needs installing there.
    /// </summary>
    public static bool IsUnregisteredDefault(ReadOnlySpan<uint> portset, ReadOnlySpan<uint> routerPorts) =>
        portset.SequenceEqual(routerPorts);
}
