using System.Diagnostics;
using dotnet_etcd;
using Microsoft.Extensions.Time.Testing;
using SubsetMulticast.Cluster.Etcd;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.Tests.Support;
using SubsetMulticast.OpenFlow.Tests.Interop;
using SubsetMulticast.Testing;

namespace SubsetMulticast.Cluster.Tests;

/// <summary>One real etcd (Debian's etcd-server) for the class; every test has its own key prefix.</summary>
public sealed class EtcdFixture : IAsyncLifetime
{
    public EtcdServer Server { get; private set; } = null!;
    public async Task InitializeAsync() => Server = await EtcdServer.StartAsync();
    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// The etcd group store against a real etcd: what one controller records, a restarted one loads back; a group's
/// lease deletes it with no controller alive; two controllers never hold one address; an unreachable etcd is a
/// quick 503-kind problem; a hostile record is skipped, not thrown.
/// </summary>
public class EtcdGroupStoreTests(EtcdFixture etcd) : IClassFixture<EtcdFixture>
{
    private static readonly IpAddress Reference = IpAddress.Parse("239.1.0.1");
    private readonly TestFabric _fabric = new(2, 3, 4);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly string _prefix = "/t" + Guid.NewGuid().ToString("N")[..8];

    // A real etcd on a loaded 2-core machine (three test assemblies at once) can take seconds to answer; only the test of
    // an unreachable etcd wants the short deadline it measures.
    private Task<EtcdGroupStore> OpenAsync(string? endpoints = null, double callTimeoutSeconds = 15) =>
        EtcdGroupStore.OpenAsync(new EtcdStoreOptions { Endpoints = endpoints ?? etcd.Server.ClientUrl, Prefix = _prefix, CallTimeout = TimeSpan.FromSeconds(callTimeoutSeconds) }, _time);

    private GroupLifecycle LifecycleOn(IGroupStore store, string prefix = "rg-") => new(
        new LifecycleOptions { ReleaseHoldDown = TimeSpan.Zero, IdPrefix = prefix }.AddVlan(1, "239.255.0.0/28"),
        _fabric.Reference(Reference, _fabric.HostList), _fabric.Hosts, store, _time);

    private static async Task<GroupTransaction> CommittedAsync(GroupLifecycle lifecycle, EtcdGroupStore store, CreateGroupRequest request)
    {
        var prepared = lifecycle.PrepareCreate(request);
        Assert.True(prepared.Succeeded, prepared.Problem?.Detail);
        Assert.Null(await store.RecordAsync(prepared.Value!, CancellationToken.None));
        lifecycle.Commit(prepared.Value!);
        return prepared.Value!;
    }

    private CreateGroupRequest Request(TimeSpan ttl, params int[] hosts) => new(1, Reference, [.. hosts.Select(h => _fabric.HostList[h].Ip)], ttl);

    [Fact]
    public async Task Recorded_Groups_AreLoadedBack_ByARestartedController_WithEveryField()
    {
        using var store = await OpenAsync();
        var lifecycle = LifecycleOn(store);
        var a = await CommittedAsync(lifecycle, store, Request(TimeSpan.FromMinutes(10), 0, 5, 9) with { Owner = "storage-a" });
        var b = await CommittedAsync(lifecycle, store, Request(TimeSpan.FromMinutes(10), 1, 2));
        var refresh = lifecycle.PrepareRefresh(b.After!.Id).Value!;
        Assert.Null(await store.RecordAsync(refresh, CancellationToken.None));
        lifecycle.Commit(refresh);

        using var restarted = await OpenAsync();
        Assert.Equal(2, restarted.Count);
        foreach (var want in new[] { a.After!, refresh.After! })
        {
            Assert.True(restarted.TryGet(want.Id, out var got));
            Assert.Equal(want.Address, got.Address);
            Assert.Equal(want.Members, got.Members);
            Assert.Equal(want.Effective, got.Effective);
            Assert.Equal(want.Switches.Select(s => (s.SwitchId, string.Join(',', s.Ports))), got.Switches.Select(s => (s.SwitchId, string.Join(',', s.Ports))));
            Assert.Equal(want.Expires, got.Expires);
            Assert.Equal(want.Version, got.Version);
            Assert.Equal(want.Owner, got.Owner); // whose group it is survives the restart (storage-a's, and nobody's)
        }
        // Ids go on after the reloaded ones.
        var next = LifecycleOn(restarted).PrepareCreate(Request(TimeSpan.FromMinutes(1), 3)).Value!;
        Assert.DoesNotContain(next.After!.Id, new[] { a.After!.Id, b.After!.Id });

        var release = lifecycle.PrepareRelease(a.After!.Id).Value!;
        Assert.Null(await store.RecordAsync(release, CancellationToken.None));
        lifecycle.Commit(release);
        Assert.Equal(1, (await OpenAsync()).Count);
    }

    [Fact]
    public async Task GroupLease_RunsOut_InEtcd_WithNoControllerAlive()
    {
        using (var store = await OpenAsync())
        {
            var lifecycle = LifecycleOn(store);
            await CommittedAsync(lifecycle, store, Request(TimeSpan.FromSeconds(2), 0));
            await CommittedAsync(lifecycle, store, Request(TimeSpan.FromMinutes(10), 1));
        }
        // The controller is gone; etcd alone expires the short group (2 s lease; bounded wait).
        var clock = Stopwatch.StartNew();
        int count = 2;
        for (int i = 0; i < 200 && count == 2; i++)
        {
            await Task.Delay(100);
            using var look = await OpenAsync();
            count = look.Count;
        }
        Assert.Equal(1, count);
        Assert.InRange(clock.Elapsed.TotalSeconds, 1.0, 6.0);
    }

    [Fact]
    public async Task TwoControllers_NeverHoldOneAddress_TheSecondIsRefusedBusy()
    {
        using var one = await OpenAsync();
        using var two = await OpenAsync();
        var first = LifecycleOn(one, "rg-a-");
        var second = LifecycleOn(two, "rg-b-"); // does not see the first's groups: both allocate the block's first address
        var a = await CommittedAsync(first, one, Request(TimeSpan.FromMinutes(1), 0));
        var b = second.PrepareCreate(Request(TimeSpan.FromMinutes(1), 1)).Value!;
        Assert.Equal(a.After!.Address, b.After!.Address);
        var refused = await two.RecordAsync(b, CancellationToken.None);
        Assert.NotNull(refused);
        Assert.Equal(ProblemKind.GroupBusy, refused.Kind);
        second.Abort(b);
        using var look = await OpenAsync();
        Assert.Equal([a.After.Id], look.All().Select(g => g.Id));
    }

    [Fact]
    public async Task SwitchesRefused_Undo_LeavesEtcdAsBefore()
    {
        using var store = await OpenAsync();
        var lifecycle = LifecycleOn(store);
        var kept = await CommittedAsync(lifecycle, store, Request(TimeSpan.FromMinutes(1), 0));
        // A supersede at the same address that the switches refuse: the old record comes back, on its lease.
        var supersede = lifecycle.PrepareCreate(Request(TimeSpan.FromMinutes(1), 1) with { Group = kept.After!.Address }).Value!;
        Assert.Equal(TransactionKind.Supersede, supersede.Kind);
        Assert.Null(await store.RecordAsync(supersede, CancellationToken.None));
        await store.UndoAsync(supersede, CancellationToken.None);
        lifecycle.Abort(supersede);
        var fresh = lifecycle.PrepareCreate(Request(TimeSpan.FromMinutes(1), 2)).Value!;
        Assert.Null(await store.RecordAsync(fresh, CancellationToken.None));
        await store.UndoAsync(fresh, CancellationToken.None);
        lifecycle.Abort(fresh);
        using var look = await OpenAsync();
        Assert.Equal([kept.After.Id], look.All().Select(g => g.Id));
        Assert.True(look.TryGet(kept.After.Id, out var back));
        Assert.Equal(kept.After.Members, back.Members);
    }

    [Fact]
    public async Task UnreachableEtcd_IsRefusedQuickly_AsStoreUnavailable()
    {
        // A closed loopback port: nobody listens.
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        int port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAsync<EtcdUnavailableException>(() => OpenAsync($"http://127.0.0.1:{port}", callTimeoutSeconds: 2));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");

        // A store whose etcd goes away after it opened: the transaction is refused with nothing changed.
        using var store = await OpenAsync();
        var lifecycle = LifecycleOn(store);
        var tx = lifecycle.PrepareCreate(Request(TimeSpan.FromMinutes(1), 0)).Value!;
        using var dead = await EtcdGroupStoreFor(port);
        var problem = await dead.RecordAsync(tx, CancellationToken.None);
        Assert.NotNull(problem);
        Assert.Equal(ProblemKind.StoreUnavailable, problem.Kind);
        lifecycle.Abort(tx);
    }

    /// <summary>A store that loaded fine from the real etcd but whose later calls go to a dead port.</summary>
    private async Task<EtcdGroupStore> EtcdGroupStoreFor(int deadPort)
    {
        var store = await OpenAsync();
        return store.WithEndpointForTest($"http://127.0.0.1:{deadPort}");
    }

    [Fact]
    public async Task LeaseRunsOut_WhileEtcdIsUnreachable_TheGroupStaysUntilTheReleaseIsRecorded_ThenGoes()
    {
        // The controller's clock (fake) passes the group's TTL while its etcd is cut off (a TCP gate); etcd's own lease
        // (60 s of wall clock) does not run out meanwhile, so only the controller's expiry can remove the group.
        await using var gate = new TcpGate(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, new Uri(etcd.Server.ClientUrl).Port));
        using var store = await OpenAsync($"http://127.0.0.1:{gate.Endpoint.Port}", callTimeoutSeconds: 2);
        var lifecycle = LifecycleOn(store);
        var group = (await CommittedAsync(lifecycle, store, Request(TimeSpan.FromSeconds(60), 0, 5))).After!;
        using var direct = new EtcdClient(etcd.Server.ClientUrl);
        string key = $"{_prefix}/groups/{group.Id}";

        gate.Close();
        _time.Advance(TimeSpan.FromSeconds(61));
        var due = lifecycle.PrepareExpired();
        Assert.Equal([group.Id], due.Select(tx => tx.Before!.Id));
        var refused = await store.RecordAsync(due[0], CancellationToken.None);
        Assert.Equal(ProblemKind.StoreUnavailable, refused?.Kind);
        lifecycle.Abort(due[0]);
        // Not released anywhere: still listed, its address still held, its record still in etcd (what the switches keep
        // forwarding is what the store says is live — nothing is reported released that is not).
        Assert.True(lifecycle.TryFindByAddress(group.Vlan, group.Address, out var holder) && holder == group.Id);
        Assert.True(store.TryGet(group.Id, out _));
        Assert.Equal(1, (await direct.GetAsync(key)).Count);

        gate.Open();
        // The store's channel reconnects in its own time (gRPC backs off after the refused connections): wait until it
        // reads through the gate again, bounded, before the sweep that must be recorded.
        await Eventually.UntilAsync(async () => (await store.Client.GetAsync(key, deadline: DateTime.UtcNow.AddSeconds(2))).Count, n => n == 1,
            "the store to reach etcd through the gate again", 15_000, notYet: e => e is Grpc.Core.RpcException);
        // Due again at its old time: the next sweep releases it, recorded this time.
        var again = lifecycle.PrepareExpired();
        Assert.Equal([group.Id], again.Select(tx => tx.Before!.Id));
        Assert.Null(await store.RecordAsync(again[0], CancellationToken.None));
        lifecycle.Commit(again[0]);
        Assert.False(store.TryGet(group.Id, out _));
        Assert.Equal(0, (await direct.GetAsync(key)).Count);
        Assert.Empty(lifecycle.PrepareExpired());
    }

    [Fact]
    public async Task HostileRecords_AreSkipped_NotThrown()
    {
        using var client = new EtcdClient(etcd.Server.ClientUrl);
        var random = new Random(12);
        for (int i = 0; i < 50; i++)
        {
            var bytes = new byte[random.Next(0, 200)];
            random.NextBytes(bytes);
            await client.PutAsync(new Etcdserverpb.PutRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8($"{_prefix}/groups/junk{i}"), Value = Google.Protobuf.ByteString.CopyFrom(bytes) });
        }
        await client.PutAsync($"{_prefix}/groups/json", """{"id":"rg-x","vlan":9999,"reference":"239.1.0.1","address":"239.255.0.1"}""");
        await client.PutAsync($"{_prefix}/groups/null", "null");
        await client.PutAsync($"{_prefix}/groups/wrongkey", """{"id":"rg-other","vlan":1,"reference":"239.1.0.1","address":"239.255.0.1","members":[],"effective":[],"ignored":[],"switches":[],"ttlMs":1000,"created":"2026-01-01T00:00:00Z","expires":"2026-01-01T00:00:01Z","version":1,"pinned":false}""");
        using var store = await OpenAsync();
        Assert.Equal(0, store.Count);
    }
}
