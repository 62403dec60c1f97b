using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.Transfer.Sending;
using SubsetMulticast.Transfer.Storage;
using SubsetMulticast.Transfer.Wire;

namespace SubsetMulticast.Transfer.Tests.Emulated;

public sealed class PutOnEmulatorTests
{
    private static byte[] Bytes(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    [Fact]
    public async Task Put_ThreeOfTwelve_StoredOnExactlyTheTargets_NobodyElseSeesPayload()
    {
        await using var c = await EmulatedCluster.StartAsync(FabricSpec.LeafSpine(2, 4, 4), servers: 12);
        var chunk = Bytes(300_000, 1);
        var r = await c.PutAsync(chunk, new PutOptions { Push = new PushOptions { Vlan = c.Vlan } });

        Assert.True(r.Success, string.Join(", ", r.Targets.Select(t => $"{t.Target}={t.Outcome}")) + " " + r.FallbackReason);
        Assert.True(r.UsedMulticast);
        Assert.Null(r.FallbackReason);
        Assert.Equal(3, r.Targets.Count);
        Assert.All(r.Targets, t => Assert.Equal(TargetOutcome.Stored, t.Outcome));
        var id = ChunkId.Of(chunk);
        Assert.Equal(id.Hex, r.ChunkId);
        var targets = r.Targets.Select(t => t.Target).ToHashSet();
        for (int i = 0; i < c.Servers.Count; i++)
        {
            var held = c.Stores[i].Read(id);
            if (targets.Contains(c.Servers[i].Address)) Assert.Equal(chunk, held);
            else Assert.Null(held);
        }
        Assert.Subset(targets, c.HostsThatSawPayload().ToHashSet());
        Assert.Equal(targets, c.HostsThatSawPayload().ToHashSet());
        Assert.Equal(0, r.RepairRounds);
        // One copy of each datagram left the client: the chunk went out once.
        Assert.Equal((chunk.Length + 1399) / 1400, r.DatagramsSent);
    }

    [Fact]
    public async Task Push_IsPacedOnTheClientsClock()
    {
        // 2 MB at 10 MB/s: 200 ms on the client's (fake) clock, whatever the machine; the pacer waits on that clock only.
        await using var c = await EmulatedCluster.StartAsync(FabricSpec.LeafSpine(1, 2, 4), servers: 4);
        var chunk = Bytes(2_000_000, 6);
        var r = await c.PushAsync(chunk, [c.Servers[0].Address, c.Servers[1].Address], new PushOptions { Vlan = c.Vlan, RateBytesPerSecond = 10_000_000 });
        Assert.True(r.Success);
        Assert.Equal(0, r.RepairRounds);
        // The last datagram goes out at most the pacer's slack early. (Not an upper bound: a round whose answer is
        // already queued can still end on its timer while the client waits for a thread; the answer counts, the
        // fake clock has moved on.)
        Assert.True(r.Transfer >= TimeSpan.FromMilliseconds(198), $"{r.Transfer.TotalMilliseconds} ms on the fake clock");
        Assert.True(c.Clock.Jumps >= 50, $"{c.Clock.Jumps} waits on the clock for 1,429 datagrams");
    }

    [Fact]
    public async Task Put_AlreadyStoredEverywhere_EndsWithoutTransfer()
    {
        await using var c = await EmulatedCluster.StartAsync(FabricSpec.LeafSpine(1, 2, 4), servers: 4);
        var chunk = Bytes(5000, 2);
        foreach (var s in c.Stores) await s.WriteAsync(ChunkId.Of(chunk), chunk, default);
        c.ClearSeen();
        var r = await c.PutAsync(chunk, new PutOptions { Replicas = 2, Push = new PushOptions { Vlan = c.Vlan } });
        Assert.True(r.Success);
        Assert.All(r.Targets, t => Assert.Equal(TargetOutcome.AlreadyHeld, t.Outcome));
        Assert.Empty(c.HostsThatSawPayload());
    }

    [Fact]
    public async Task Push_MemberOutsideReference_IsNotInReference_OthersStored()
    {
        await using var c = await EmulatedCluster.StartAsync(FabricSpec.LeafSpine(1, 2, 5), servers: 4);
        var outsider = c.Fabric.Hosts.First(h => c.Servers.All(s => s.Address != h.Ipv4) && h != c.ClientHost);
        var to = new List<IpAddress> { c.Servers[0].Address, c.Servers[3].Address, outsider.Ipv4 };
        var chunk = Bytes(20_000, 3);
        var r = await c.PushAsync(chunk, to, new PushOptions { Vlan = c.Vlan, MinAcks = 2 });
        Assert.True(r.Success);
        Assert.Equal(TargetOutcome.NotInReference, r.Targets.Single(t => t.Target == outsider.Ipv4).Outcome);
        Assert.Equal(2, r.Targets.Count(t => t.Outcome == TargetOutcome.Stored));
        Assert.DoesNotContain(outsider.Ipv4, c.HostsThatSawPayload());
    }

    [Fact]
    public async Task Push_ControllerUnreachable_FallsBackToUnicast_AndSaysSo()
    {
        await using var c = await EmulatedCluster.StartAsync(FabricSpec.LeafSpine(1, 2, 4), servers: 4, controller: false);
        var to = new List<IpAddress> { c.Servers[1].Address, c.Servers[2].Address };
        var chunk = Bytes(50_000, 4);
        var r = await c.PushAsync(chunk, to, new PushOptions { Vlan = c.Vlan });
        Assert.True(r.Success);
        Assert.False(r.UsedMulticast);
        Assert.Contains("unreachable", r.FallbackReason);
        Assert.Equal(chunk, c.Stores[1].Read(ChunkId.Of(chunk)));
        Assert.Equal(chunk, c.Stores[2].Read(ChunkId.Of(chunk)));
        Assert.Equal(to.ToHashSet(), c.HostsThatSawPayload().ToHashSet());
    }

    [Fact]
    public async Task GroupHandle_ReusedForSeveralPushes_ThenReleased()
    {
        await using var c = await EmulatedCluster.StartAsync(FabricSpec.LeafSpine(1, 2, 4), servers: 4);
        var to = new List<IpAddress> { c.Servers[0].Address, c.Servers[2].Address };
        string group;
        await using (var handle = await c.Drive(() => c.Client.OpenAsync(to, EmulatedCluster.Negotiating, new PushOptions { Vlan = c.Vlan })))
        {
            group = handle.Lease.Group.ToString();
            for (int i = 0; i < 3; i++)
            {
                var chunk = Bytes(10_000 + i, 10 + i);
                var r = await c.Drive(() => handle.PushAsync(chunk));
                Assert.True(r.Success);
                Assert.Equal(group, r.Group);
                Assert.Equal(chunk, c.Stores[2].Read(ChunkId.Of(chunk)));
            }
            var live = await c.Http.GetFromJsonAsync<JsonArray>("api/v1/groups");
            Assert.Single(live!);
        }
        Assert.Empty((await c.Http.GetFromJsonAsync<JsonArray>("api/v1/groups"))!);
    }

    [Fact]
    public async Task Get_ReturnsTheStoredBytes_VerifiedByHash()
    {
        await using var c = await EmulatedCluster.StartAsync(FabricSpec.LeafSpine(1, 2, 4), servers: 4);
        var chunk = Bytes(123_457, 5);
        var r = await c.PutAsync(chunk, new PutOptions { Replicas = 2, Push = new PushOptions { Vlan = c.Vlan } });
        Assert.True(r.Success);
        var got = await c.GetAsync(ChunkId.Of(chunk));
        Assert.Equal(chunk, got);
        Assert.Null(await c.GetAsync(ChunkId.Of([1, 2, 3]), TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task Controller_NeverLearnsABlockAddress_EvenWhenAHostJoinsIt()
    {
        await using var c = await EmulatedCluster.StartAsync(FabricSpec.LeafSpine(1, 2, 4), servers: 4);
        var rogue = IpAddress.Parse("239.255.0.9");
        c.Fabric.Join(c.Fabric.Hosts[1], rogue);
        c.Fabric.Join(c.Fabric.Hosts[2], IpAddress.Parse("239.2.0.1"));
        var refs = await c.Http.GetFromJsonAsync<JsonArray>("api/v1/reference-groups");
        var groups = refs!.Select(g => g!["group"]!.GetValue<string>()).ToList();
        Assert.Contains("239.2.0.1", groups);          // the filter is live: an ordinary join is learned
        Assert.Contains("239.1.0.1", groups);
        Assert.DoesNotContain("239.255.0.9", groups);
        Assert.True(c.Learner.References.RefusedTransactional > 0);
    }

    [Fact]
    public async Task Push_Encrypted_StoredAndPayloadIsNotPlaintext()
    {
        await using var c = await EmulatedCluster.StartAsync(FabricSpec.LeafSpine(1, 2, 4), servers: 4);
        var chunk = new byte[30_000];
        Array.Fill(chunk, (byte)'A');
        var to = new List<IpAddress> { c.Servers[0].Address, c.Servers[1].Address };
        bool plaintextSeen = false;
        var observer = c.Network.Observer;
        c.Network.Observer = (h, s, d, p, payload) =>
        {
            observer!(h, s, d, p, payload);
            if (payload.Length > 100 && payload[3] == (byte)MessageType.Data && payload[20..80].IndexOfAnyExcept((byte)'A') < 0) plaintextSeen = true;
        };
        var r = await c.PushAsync(chunk, to, new PushOptions { Vlan = c.Vlan, Encrypt = true, Fec = new FecOptions() });
        Assert.True(r.Success);
        Assert.False(plaintextSeen);
        Assert.Equal(chunk, c.Stores[0].Read(ChunkId.Of(chunk)));
    }
}
