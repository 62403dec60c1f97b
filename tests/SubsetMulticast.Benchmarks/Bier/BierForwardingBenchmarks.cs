using BenchmarkDotNet.Attributes;
using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Bier.Encapsulation;
using SubsetMulticast.Bier.Forwarding;
using SubsetMulticast.Bier.Routing;

namespace SubsetMulticast.Benchmarks.Bier;

/// <summary>
/// BSL 256 forwarding decisions (one packet at one BFR: RFC 8279 §6.5 over the BIFT, every copy's BitString
/// written) on a leaf-spine of 8 spines × 32 leaves × 8 hosts = 256 BFERs, ids 1..256, ECMP on. At a spine a
/// packet fans out to up to 32 leaves; at a leaf to its hosts and one spine. The goal: ≥ 10 M
/// decisions/s on one core, nothing allocated. Plus the whole packet path (header read, BIFT lookup, TTL and
/// BSL checks, copies with rewritten headers) and the header codec alone.
/// </summary>
[MemoryDiagnoser, MinColumn, MedianColumn]
public class BierForwardingBenchmarks
{
    private const int Sets = 64;
    private Bift _spine = null!, _leaf = null!;
    private BierRouter _spineRouter = null!;
    private ulong[][] _three = null!, _thirtyTwo = null!, _all = null!;
    private byte[][] _packets = null!;
    private readonly ulong[] _work = new ulong[4];
    private readonly BierCopy[] _copies = new BierCopy[64];
    private readonly ulong[] _copyBits = new ulong[64 * 4];
    private readonly BierCopyList _copyList = new();
    private readonly byte[] _encoded = new byte[BierHeader.LengthFor(BitStringLength.Bits256)];
    private BierHeaderFields _fields;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        const int spines = 8, leaves = 32, hostsPerLeaf = 8;
        var g = new BierGraph();
        for (int s = 0; s < spines; s++) g.AddNode($"spine{s}");
        for (int l = 0; l < leaves; l++) g.AddNode($"leaf{l}");
        var ids = new Dictionary<int, int>();
        for (int l = 0; l < leaves; l++)
            for (int h = 0; h < hostsPerLeaf; h++)
            {
                int host = g.AddNode($"h{l}-{h}");
                g.AddLink(spines + l, (uint)(spines + h + 1), host, 1);
                ids[host] = l * hostsPerLeaf + h + 1;
            }
        for (int s = 0; s < spines; s++)
            for (int l = 0; l < leaves; l++) g.AddLink(s, (uint)(l + 1), spines + l, (uint)(s + 1));
        var domain = BierDomain.Build(g, [new BierSubDomain(0, BitStringLength.Bits256, ids)], ecmp: true);
        _spineRouter = domain.Routers[0];
        _spineRouter.TryGetBift(0, BitStringLength.Bits256, 0, out _spine);
        domain.Routers[spines].TryGetBift(0, BitStringLength.Bits256, 0, out _leaf);
        var rng = new Random(256);
        ulong[] Pick(int k)
        {
            var b = new BitString(BitStringLength.Bits256);
            while (b.PopCount < k) b.Set(rng.Next(1, 257));
            return b.Words.ToArray();
        }
        _three = [.. Enumerable.Range(0, Sets).Select(_ => Pick(3))];
        _thirtyTwo = [.. Enumerable.Range(0, Sets).Select(_ => Pick(32))];
        _all = [.. Enumerable.Range(0, Sets).Select(_ => Pick(256))];
        _fields = BierHeaderFields.Create(BierFrame.CanonicalBiftId(BitStringLength.Bits256, 0, 0), BitStringLength.Bits256, 64, BierNextProtocol.Ipv4, 1);
        _packets = [.. _three.Select(w =>
        {
            var p = new byte[BierHeader.LengthFor(BitStringLength.Bits256) + 64];
            BierHeader.TryWrite(p, _fields, w, out _);
            return p;
        })];
        if (Spine3() == 0 || RouterProcess3() == 0) throw new InvalidOperationException("Setup forwards nothing.");
    }

    private int Decide(Bift bift, ulong[] bits, uint entropy)
    {
        bits.CopyTo(_work, 0);
        return bift.Forward(_work, entropy, _copies, _copyBits, out _, out _);
    }

    [Benchmark(Description = "decision at spine, 3 BFERs")]
    public int Spine3() { int i = _next++ & (Sets - 1); return Decide(_spine, _three[i], (uint)i); }

    [Benchmark(Description = "decision at spine, 32 BFERs")]
    public int Spine32() { int i = _next++ & (Sets - 1); return Decide(_spine, _thirtyTwo[i], (uint)i); }

    [Benchmark(Description = "decision at spine, 256 BFERs")]
    public int Spine256() { int i = _next++ & (Sets - 1); return Decide(_spine, _all[i], (uint)i); }

    [Benchmark(Description = "decision at leaf, 3 BFERs")]
    public int Leaf3() { int i = _next++ & (Sets - 1); return Decide(_leaf, _three[i], (uint)i); }

    [Benchmark(Description = "packet at spine (read, checks, copies), 3 BFERs")]
    public int RouterProcess3() => _spineRouter.Process(_packets[_next++ & (Sets - 1)], _copyList).Copies;

    [Benchmark(Description = "header decode BSL 256")]
    public ulong Decode()
    {
        BierHeader.Read(_packets[_next++ & (Sets - 1)], out var h);
        BitSpan.ReadWire(h.BitString, _work);
        return _work[0] ^ h.Fields.Entropy;
    }

    [Benchmark(Description = "header encode BSL 256")]
    public int Encode()
    {
        BierHeader.TryWrite(_encoded, _fields, _three[_next++ & (Sets - 1)], out int n);
        return n;
    }
}
