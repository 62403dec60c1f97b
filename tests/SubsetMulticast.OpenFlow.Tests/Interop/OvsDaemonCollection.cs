namespace SubsetMulticast.OpenFlow.Tests.Interop;

/// <summary>
/// Tests that start their own ovsdb-server and ovs-vswitchd run one at a time: every userspace-datapath
/// ovs-vswitchd in a network namespace creates the same "ovs-netdev" tap device, so a second daemon started
/// beside a running one can come up without a working datapath (and its bridges never reach the controller).
/// </summary>
[CollectionDefinition(Name)]
public sealed class OvsDaemonCollection
{
    public const string Name = "Open vSwitch daemons";
}
