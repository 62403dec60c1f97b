using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using SubsetMulticast.Cluster.Etcd;
using SubsetMulticast.Controller.OpenFlowFabric;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.Tests.Support;
using SubsetMulticast.OpenFlow.Bootstrap;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Southbound;

namespace SubsetMulticast.Cluster.Tests;

/// <summary>
/// A started cluster node on a real etcd whose OpenFlow listener no switch connects to: for tests of what the node makes
/// of the store (its masters, nodes and groups). VLAN 1 with block 239.255.0.0/28, reference group 239.1.0.1.
/// </summary>
internal sealed class SwitchlessNode(EtcdGroupStore store, OpenFlowListener listener, OpenFlowSouthbound southbound, ClusterNode node)
    : IAsyncDisposable
{
    public EtcdGroupStore Store => store;
    public ClusterNode Node => node;

    public static async Task<SwitchlessNode> StartAsync(string endpoints, string prefix, ClusterOptions options)
    {
        var fabric = new TestFabric(2, 3, 4);
        var store = await EtcdGroupStore.OpenAsync(new EtcdStoreOptions { Endpoints = endpoints, Prefix = prefix });
        var lifecycle = new GroupLifecycle(new LifecycleOptions { IdPrefix = $"rg-{options.NodeId}-" }.AddVlan(1, "239.255.0.0/28"),
            fabric.Reference(IpAddress.Parse("239.1.0.1"), fabric.HostList), fabric.Hosts, store, TimeProvider.System);
        var listener = new OpenFlowListener(new IPEndPoint(IPAddress.Loopback, 0));
        var southbound = new OpenFlowSouthbound(listener);
        var bootstrap = new SwitchBootstrap(listener, []);
        var node = new ClusterNode(options, store, lifecycle, listener, southbound, new StoredGroupRules(store, southbound),
            () => bootstrap, TimeProvider.System, NullLogger<ClusterNode>.Instance);
        await node.StartAsync(CancellationToken.None);
        return new SwitchlessNode(store, listener, southbound, node);
    }

    public async ValueTask DisposeAsync()
    {
        await node.DisposeAsync();
        southbound.Dispose();
        await listener.DisposeAsync();
        store.Dispose();
    }
}
