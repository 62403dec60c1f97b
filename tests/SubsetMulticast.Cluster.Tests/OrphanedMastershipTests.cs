using SubsetMulticast.Testing;
using System.Net;
using dotnet_etcd;
using Google.Protobuf;
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
/// A cluster node on a real etcd. etcd names the node master of a switch it does not act as master of — what a claim
/// leaves when its transaction commits but the answer is lost to a gRPC deadline (the node logs the claim as failed).
/// Nobody else claims a switch whose key exists, and the node's applied marks would confirm transactions on it that
/// nobody writes there: tsm cluster-failover found a switch masterless 60 s after the kill, and acknowledged groups
/// missing on switches. The node must drop that key so the switch is claimed again.
/// </summary>
public class OrphanedMastershipTests(EtcdFixture etcd) : IClassFixture<EtcdFixture>
{
    private readonly string _prefix = "/t" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task AKeyNamingTheNode_ThatTheNodeDoesNotActOn_IsDropped()
    {
        var fabric = new TestFabric(2, 3, 4);
        using var store = await EtcdGroupStore.OpenAsync(new EtcdStoreOptions { Endpoints = etcd.Server.ClientUrl, Prefix = _prefix });
        var lifecycle = new GroupLifecycle(new LifecycleOptions { IdPrefix = "rg-n1-" }.AddVlan(1, "239.255.0.0/28"),
            fabric.Reference(IpAddress.Parse("239.1.0.1"), fabric.HostList), fabric.Hosts, store, TimeProvider.System);
        await using var listener = new OpenFlowListener(new IPEndPoint(IPAddress.Loopback, 0));
        using var southbound = new OpenFlowSouthbound(listener);
        var bootstrap = new SwitchBootstrap(listener, []);
        var node = new ClusterNode(new ClusterOptions { NodeId = "n1" }, store, lifecycle, listener, southbound, new StoredGroupRules(store, southbound),
            () => bootstrap, TimeProvider.System, NullLogger<ClusterNode>.Instance);
        await node.StartAsync(CancellationToken.None);
        try
        {
            using var client = new EtcdClient(etcd.Server.ClientUrl);
            string key = $"{_prefix}/masters/0000000000000007";
            await client.PutAsync(new Etcdserverpb.PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8("n1") });
            // The node sees the key (its view names it master) and lets it go; bounded at 10 s.
            await Eventually.UntilAsync(async () => (await client.GetAsync(key)).Count, n => n == 0,
                "etcd to stop naming n1 master of a switch n1 does not act on (nobody else would ever claim it)", 10_000, pollMs: 50);
            Assert.False(node.IsMaster("0000000000000007"));

            // A key naming another node is left alone (that node's to act on).
            string other = $"{_prefix}/masters/0000000000000008";
            await client.PutAsync(new Etcdserverpb.PutRequest { Key = ByteString.CopyFromUtf8(other), Value = ByteString.CopyFromUtf8("n2") });
            await Eventually.UntilAsync(() => node.Masters.ContainsKey("0000000000000008"), "the node's view of n2's key", 4_000);
            Assert.Equal("n2", node.Masters["0000000000000008"].Node);
            Assert.Equal(1, (await client.GetAsync(other)).Count);
        }
        finally { await node.DisposeAsync(); }
    }
}
