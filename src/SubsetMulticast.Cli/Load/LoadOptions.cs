using SubsetMulticast.Core.Lifecycle;

namespace SubsetMulticast.Cli.Load;

/// <summary>How a load client reaches the controller.</summary>
public enum LoadPath
{
    /// <summary>In-process calls to the <c>GroupCoordinator</c> (what the controller itself can do).</summary>
    Coordinator,

    /// <summary>REST over HTTP/1.1 keep-alive on loopback, one connection per client.</summary>
    Rest,

    /// <summary>REST over HTTP/2 (cleartext, prior knowledge) on loopback, multiplexed.</summary>
    Rest2,

    /// <summary>
    /// No group at all: each "create" and "release" is only the switch exchanges one would make — an empty write
    /// (just the barrier) to every switch the planner names for the members, awaited together, through the same
    /// session pump and batching. The floor under <see cref="Coordinator"/> on OpenFlow switches: what the TCP round
    /// trips with the switches cost before any group is stored, encoded, decoded or applied.
    /// </summary>
    Exchanges,
}

/// <summary>What the controller programs.</summary>
public enum LoadSwitches
{
    /// <summary>Emulated switches, each an OpenFlow 1.3 agent on its own TCP connection to the controller.</summary>
    OpenFlow,

    /// <summary>The in-process emulator's southbound (no OpenFlow, no TCP).</summary>
    Emulator,
}

/// <summary>One load run: N concurrent clients doing create → release against a controller and its switches.</summary>
public sealed record LoadOptions
{
    /// <summary>Emulated fabric spec (<c>leaf-spine:S:L:H</c>, <c>fat-tree:K</c>, …); leaf-spine 4 × 96 × 4 is 100 switches, 384 hosts.</summary>
    public string Fabric { get; init; } = "leaf-spine:4:96:4";
    public LoadSwitches Switches { get; init; } = LoadSwitches.OpenFlow;
    public LoadPath Path { get; init; } = LoadPath.Coordinator;
    public int Clients { get; init; } = 32;
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(3);
    public SetupMode Setup { get; init; } = SetupMode.Confirmed;

    /// <summary>Members per group, picked at random from the fabric's hosts (all in the reference group).</summary>
    public int Members { get; init; } = 3;
    public int Seed { get; init; } = 1;

    /// <summary>Groups created and kept before the cycles start (scale: live groups and their memory).</summary>
    public int LiveGroups { get; init; }

    /// <summary>IPv6 members, reference group and block (<c>ff15::/105</c>: 2^23 addresses) instead of IPv4.</summary>
    public bool Ipv6 { get; init; }


    /// <summary>Every switch refuses GROUP_MOD ADDs for one group id in this many (0: none): refused transactions must leave nothing.</summary>
    public int RefuseOneIn { get; init; }

    /// <summary>Release hold-down (0 for pure throughput runs of small blocks; the default is the controller's).</summary>
    public TimeSpan? HoldDown { get; init; }

    /// <summary>Cycles stop after this many (0: run for <see cref="Duration"/>).</summary>
    public long MaxCycles { get; init; }

    /// <summary>
    /// Runs on the emulated OpenFlow switches after the clients stop and before the table audit (null: nothing).
    /// For the audit's own test: a switch made to lose or gain a rule must make the audit fail.
    /// </summary>
    public Action<IReadOnlyList<SubsetMulticast.OpenFlow.Agent.OpenFlowSwitchAgent>>? BeforeAudit { get; init; }
}
