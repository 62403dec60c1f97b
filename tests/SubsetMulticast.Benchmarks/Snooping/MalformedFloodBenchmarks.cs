using BenchmarkDotNet.Attributes;
using SubsetMulticast.Snooping;

namespace SubsetMulticast.Benchmarks.Snooping;

/// <summary>
/// A malformed-frame flood against the same reports valid: 4,096 frames (IGMPv2, IGMPv3 with two records, MLDv2),
/// 1,024 groups on 8 ports. The malformed set is the valid set spoiled as an attacker or a broken NIC would: IGMP
/// checksum, IPv4 header checksum, TTL 2, MLD checksum, in rotation. Each is dropped with its reason; the row shows
/// the drop path allocation-free and no slower per frame than a valid report (the readers return a status: no
/// exception per bad frame).
/// </summary>
[MemoryDiagnoser]
public class MalformedFloodBenchmarks : SteadyStateSnooping
{
    private byte[][] _valid = [];
    private byte[][] _malformed = [];

    [GlobalSetup]
    public void Setup()
    {
        _valid = CreateSnooper(new SnoopingOptions());
        _malformed = new byte[Frames][];
        for (int i = 0; i < Frames; i++)
        {
            var bad = _valid[i].ToArray();
            // IPv4 frames: 14 Ethernet + 24 IP (Router Alert), IGMP at 38; MLD: 14 + 40 + 8 Hop-by-Hop, ICMPv6 at 62.
            if (i % 3 == 2) bad[62 + 2] ^= 0x5A;          // MLD checksum
            else if (i % 4 == 0) bad[38 + 2] ^= 0x5A;     // IGMP checksum
            else if (i % 4 == 1) bad[14 + 10] ^= 0x5A;    // IPv4 header checksum
            else bad[14 + 8] = 2;                         // TTL 2 (header checksum left wrong too: caught first)
            _malformed[i] = bad;
        }
        Feed(_valid);   // create every membership: what follows is steady state
        if (Feed(_malformed) != 0) throw new InvalidOperationException("a malformed frame was applied");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Frames, Description = "valid report (parse + apply)")]
    public int Valid() => Feed(_valid);

    [Benchmark(OperationsPerInvoke = Frames, Description = "malformed frame (parse + drop with reason)")]
    public int Malformed() => Feed(_malformed);
}
