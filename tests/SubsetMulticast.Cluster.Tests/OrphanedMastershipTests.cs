using SubsetMulticast.Testing;
using dotnet_etcd;
using Google.Protobuf;

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
        await using var n1 = await SwitchlessNode.StartAsync(etcd.Server.ClientUrl, _prefix, new ClusterOptions { NodeId = "n1" });
        var node = n1.Node;
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
}
