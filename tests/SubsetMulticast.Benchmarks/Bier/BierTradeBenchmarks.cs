using BenchmarkDotNet.Attributes;
using SubsetMulticast.Bier.Binding;
using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.ReferenceGroups;
using SubsetMulticast.Emulator;
using SubsetMulticast.Emulator.Bier;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.Push;

namespace SubsetMulticast.Benchmarks.Bier;

/// <summary>
/// Setup time of the three ways to deliver a 3-member rendezvous group on leaf-spine 2 × 16 × 16 (256 hosts, one
/// BSL 256 SI): BIER (the sender only writes a BitString; no switch state), transactional-group state (the
/// controller's plan, a two-phase apply to the emulated switches, commit, then release), and TSM over BIER's
/// binding (the BitString's tree read off the BIFTs and installed as entries, then aged out). The bytes and
/// entries of the trade table come from <see cref="BierTradeTable"/>.
/// </summary>
[MemoryDiagnoser, MinColumn, MedianColumn]
public class BierTradeBenchmarks
{
    private EmulatedFabric _fabric = null!;
    private BierPlane _plane = null!;
    private GroupLifecycle _lifecycle = null!;
    private EmulatorSouthbound _southbound = null!;
    private CreateGroupRequest _request = null!;
    private EmulatedHost _sender = null!;
    private EmulatedHost[] _members = null!;
    private int[] _memberIds = null!;
    private readonly BitString _bits = new(BitStringLength.Bits256);
    private TsmOverBier _tob = null!;
    private Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = null!;

    [GlobalSetup]
    public void Setup()
    {
        _fabric = new EmulatedFabric(FabricSpec.LeafSpine(2, 16, 16, ipv6: false));
        _fabric.Announce();
        var reference = IpAddress.Parse("239.1.0.1");
        var servers = Enumerable.Range(0, 12).Select(i => _fabric.Hosts[i * 21]).ToArray();
        foreach (var s in servers) _fabric.Join(s, reference);
        var hosts = new HostTable();
        _fabric.ExportHosts(hosts);
        var refs = new ReferenceGroupTable(_fabric.Topology);
        _fabric.ExportReferenceGroups(refs);
        _lifecycle = new GroupLifecycle(new LifecycleOptions().AddVlan(1, "239.255.0.0/16"), refs, hosts, new InMemoryGroupStore(), TimeProvider.System);
        _southbound = new EmulatorSouthbound(_fabric, new PushKeyRing().Add(1, 1, new byte[32]));
        _sender = servers[1];
        _members = [servers[0], servers[5], servers[10]];
        _request = new CreateGroupRequest(1, reference, [.. _members.Select(m => m.Ipv4)]);
        _plane = _fabric.EnableBier();
        _memberIds = [.. _members.Select(_plane.BfrId)];
        _time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        _tob = new TsmOverBier(_fabric, new BitStringBinderOptions { BindAfter = 1, IdleTimeout = TimeSpan.FromSeconds(1) }, _time);
    }

    [Benchmark(Description = "BIER: write the BitString (3 members)")]
    public int BierEncode()
    {
        _bits.Words.Clear();
        foreach (var id in _memberIds) _bits.Set(BfrIds.ToSetBit(id, BitStringLength.Bits256).Bit);
        return (int)_bits.Words[0];
    }

    [Benchmark(Description = "TSM state: plan + apply + commit, release")]
    public async Task<int> TsmCreateRelease()
    {
        var tx = _lifecycle.PrepareCreate(_request).Value!;
        if (!(await _southbound.ApplyAsync(tx.Changes, default)).Succeeded) throw new InvalidOperationException("apply failed");
        _lifecycle.Commit(tx);
        var rel = _lifecycle.PrepareRelease(tx.After!.Id).Value!;
        if (!(await _southbound.ApplyAsync(rel.Changes, default)).Succeeded) throw new InvalidOperationException("release failed");
        _lifecycle.Commit(rel);
        return tx.Changes.Count;
    }

    [Benchmark(Description = "TSM over BIER: bind (tree → entries), age out")]
    public int TsmOverBierBind()
    {
        var (_, viaGroup, newly, _) = _tob.Send(_sender, _members, "x"u8);
        if (!viaGroup || !newly) throw new InvalidOperationException("did not bind");
        _time.Advance(TimeSpan.FromSeconds(2));
        return _tob.Expire().Count;
    }
}
