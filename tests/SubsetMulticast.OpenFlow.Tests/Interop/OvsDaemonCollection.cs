namespace SubsetMulticast.OpenFlow.Tests.Interop;

/// <summary>
/// The tests that start an Open vSwitch lab run one at a time within each of three lanes, this one,
/// <see cref="OvsSecondLaneCollection"/> and <see cref="OvsThirdLaneCollection"/>, so at most three of this assembly's labs
/// run at once. Each lab's ovs-vswitchd
/// has a switch namespace of its own (<see cref="OvsNamespace"/>), so labs cannot collide on the "ovs-netdev" device
/// and run beside other assemblies' labs; the lanes only bound how much of a 2-core machine this assembly's labs
/// (daemons, controllers, namespace hosts) take at once, so their handshakes are not starved. One lane held every
/// lab until 2026-12-02, which made this assembly the suite's long pole (about 2 minutes of labs back to back), and
/// two lanes still kept it at 111–115 s. Balanced by their times in a CI run (2026-12-02 08:24): this lane hold-down
/// (40 s), fabric (25 s), durable restart (16 s); the second TLS (44 s before its PKIs were shared), interop (23 s),
/// audit and throughput (7 s each); the third cluster (50 s) and hitless reconcile (14 s).
/// </summary>
[CollectionDefinition(Name)]
public sealed class OvsDaemonCollection
{
    public const string Name = "Open vSwitch daemons";
}

/// <summary>The second lane of Open vSwitch labs: see <see cref="OvsDaemonCollection"/>.</summary>
[CollectionDefinition(Name)]
public sealed class OvsSecondLaneCollection
{
    public const string Name = "Open vSwitch daemons, second lane";
}

/// <summary>The third lane of Open vSwitch labs: see <see cref="OvsDaemonCollection"/>.</summary>
[CollectionDefinition(Name)]
public sealed class OvsThirdLaneCollection
{
    public const string Name = "Open vSwitch daemons, third lane";
}
