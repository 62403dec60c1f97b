using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Snooping;

namespace SubsetMulticast.Learning;

/// <summary>Settings of a <see cref="FabricLearner"/>.</summary>
public sealed class FabricLearnerOptions
{
    /// <summary>Timers and limits of every switch's snooper (one per switch, all with these options).</summary>
    public SnoopingOptions Snooping { get; init; } = new();

    /// <summary>At most this many switches are learned; further ones are refused (counted) so a rogue peer cannot grow the topology without bound.</summary>
    public int MaxSwitches { get; init; } = 4096;

    /// <summary>At most this many ports per switch are taken from a switch's description.</summary>
    public int MaxPortsPerSwitch { get; init; } = 1024;

    /// <summary>At most this many (VLAN, MAC) host entries; further hosts are refused (counted).</summary>
    public int MaxHosts { get; init; } = 262_144;

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Snooping);
        if (MaxSwitches < 1) throw new ArgumentOutOfRangeException(nameof(MaxSwitches));
        if (MaxPortsPerSwitch < 1) throw new ArgumentOutOfRangeException(nameof(MaxPortsPerSwitch));
        if (MaxHosts < 1) throw new ArgumentOutOfRangeException(nameof(MaxHosts));
    }
}

/// <summary>A port named by its switch's id (as the southbound names switches) and the switch's own port number.</summary>
public readonly record struct SwitchPort(string SwitchId, uint Port)
{
    public override string ToString() => $"{SwitchId}:{Port}";
}

/// <summary>A query our querier sends: <see cref="Frame"/> (a whole Ethernet frame) out of these ports of one switch.</summary>
public sealed record QueryOut(string SwitchId, uint[] Ports, VlanId Vlan, byte[] Frame);

/// <summary>A port as a switch describes it.</summary>
public readonly record struct SwitchPortInfo(uint Port, string Name);

/// <summary>What <see cref="FabricLearner.FrameIn"/> did with a punted frame.</summary>
public enum PuntOutcome
{
    /// <summary>The switch's snooper applied it (membership, query, or a host's location).</summary>
    Applied,
    /// <summary>Not a snooping message; at most its source MAC was noted.</summary>
    Ignored,
    /// <summary>Malformed: the snooper counted it and nothing changed.</summary>
    Dropped,
    /// <summary>From a switch that never came up: nothing changed.</summary>
    UnknownSwitch,
    /// <summary>From a port the switch did not describe (LOCAL, or a port not yet announced): nothing changed.</summary>
    UnknownPort,
}
