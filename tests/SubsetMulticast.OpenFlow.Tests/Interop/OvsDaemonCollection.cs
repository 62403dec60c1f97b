namespace SubsetMulticast.OpenFlow.Tests.Interop;

/// <summary>
/// The tests that start an Open vSwitch lab run one at a time within this assembly. Each lab's ovs-vswitchd has a
/// switch namespace of its own (<see cref="OvsNamespace"/>), so labs can no longer collide on the "ovs-netdev" device
/// and run beside other assemblies' labs; the collection only bounds how much of a 2-core machine this assembly's
/// labs (daemons, controllers, namespace hosts) take at once, so their handshakes are not starved.
/// </summary>
[CollectionDefinition(Name)]
public sealed class OvsDaemonCollection
{
    public const string Name = "Open vSwitch daemons";
}
