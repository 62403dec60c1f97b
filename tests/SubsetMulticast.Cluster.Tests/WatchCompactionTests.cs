using SubsetMulticast.Testing;
using System.Net;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using SubsetMulticast.Cluster.Etcd;

namespace SubsetMulticast.Cluster.Tests;

/// <summary>
/// A node cut off from a real etcd (a TCP gate between them) while the cluster goes on, and etcd compacts its history
/// past the revision the node's watch resumes from — a partition longer than the compaction interval. Resuming there
/// is refused ("required revision has been compacted") every time, so a node that only retried froze its view for good.
/// The node must catch up from the store: what appeared meanwhile is in its view, what went is gone.
/// </summary>
public class WatchCompactionTests(EtcdFixture etcd) : IClassFixture<EtcdFixture>
{
    private readonly string _prefix = "/c" + Guid.NewGuid().ToString("N")[..8];

    private ByteString Key(string rest) => ByteString.CopyFromUtf8($"{_prefix}/{rest}");

    private PutRequest Group(string id, string address) => new()
    {
        Key = Key($"groups/{id}"),
        Value = ByteString.CopyFrom(new StoredGroup(id, 1, "239.1.0.1", address, [], [], [], [], 60_000,
            DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(1), 1, false, "n2").ToJson()),
    };

    [Fact]
    public async Task HistoryCompactedWhileCutOff_NodeCatchesUpFromTheStore()
    {
        await using var gate = new TcpGate(new IPEndPoint(IPAddress.Loopback, new Uri(etcd.Server.ClientUrl).Port));
        // A lease long enough that the cut does not also end the node's membership (that path is another test's).
        await using var n1 = await SwitchlessNode.StartAsync($"http://127.0.0.1:{gate.Endpoint.Port}", _prefix, new ClusterOptions { NodeId = "n1", NodeTtlSeconds = 30 });
        var (node, store) = (n1.Node, n1.Store);
        using var client = new EtcdClient(etcd.Server.ClientUrl);
        // Before the cut the node sees, through its watch, n2 master of switch 8 and n2's group rg-n2-2.
        await client.PutAsync(new PutRequest { Key = Key("masters/0000000000000008"), Value = ByteString.CopyFromUtf8("n2") });
        await client.PutAsync(Group("rg-n2-2", "239.255.0.2"));
        await Eventually.UntilAsync(() => node.Masters.ContainsKey("0000000000000008") && store.TryGet("rg-n2-2", out _),
            "the node's watch to deliver switch 8's master and group rg-n2-2", 10_000);

        gate.Close();
        // Meanwhile: switch 8 changes hands, switch 10 gets a master, rg-n2-2 is released and rg-n2-1 created; then
        // etcd compacts everything up to now.
        await client.DeleteAsync(new DeleteRangeRequest { Key = Key("masters/0000000000000008") });
        await client.PutAsync(new PutRequest { Key = Key("masters/0000000000000010"), Value = ByteString.CopyFromUtf8("n2") });
        await client.DeleteAsync(new DeleteRangeRequest { Key = Key("groups/rg-n2-2") });
        long now = (await client.PutAsync(Group("rg-n2-1", "239.255.0.1"))).Header.Revision;
        await client.CompactAsync(new CompactionRequest { Revision = now, Physical = true });
        gate.Open();

        await Eventually.UntilAsync(
            () => node.Masters.ContainsKey("0000000000000010") && !node.Masters.ContainsKey("0000000000000008")
                && store.TryGet("rg-n2-1", out _) && !store.TryGet("rg-n2-2", out _),
            "the node to catch up after the compaction", 15_000,
            () => $"masters {string.Join(",", node.Masters.Keys)}; groups {string.Join(",", store.All().Select(g => g.Id))}");

        // And the watch goes on from there: a change after the catch-up arrives as usual.
        await client.PutAsync(new PutRequest { Key = Key("masters/0000000000000011"), Value = ByteString.CopyFromUtf8("n2") });
        await Eventually.UntilAsync(() => node.Masters.ContainsKey("0000000000000011"), "a change after the catch-up", 10_000);
        Assert.Equal("n2", node.Masters["0000000000000010"].Node);
    }
}
