using BenchmarkDotNet.Attributes;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Packets;
using SubsetMulticast.Packets.Igmp;
using SubsetMulticast.Packets.Mld;
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
public class MalformedFloodBenchmarks
{
    private const int Frames = 4096;
    private byte[][] _valid = [];
    private byte[][] _malformed = [];
    private PortId[] _ports = [];
    private Snooper _snooper = null!;
    private long _now;

    [GlobalSetup]
    public void Setup()
    {
        _snooper = new Snooper(new SnoopingOptions());
        var ports = Enumerable.Range(1, 8).Select(i => _snooper.AddPort($"p{i}")).ToArray();
        _valid = new byte[Frames][];
        _malformed = new byte[Frames][];
        _ports = new PortId[Frames];
        var buffer = new byte[512];
        for (int i = 0; i < Frames; i++)
        {
            int g = i % 1024;
            var mac = new MacAddress(0x02_00_00_00_10_00UL + (ulong)(i % 8));
            var v4 = IpAddress.FromV4(0x0A00_0000u + (uint)(i % 8) + 1);
            var v6 = IpAddress.FromV6(0xFE80UL << 48, (ulong)(i % 8) + 1);
            int n = (i % 3) switch
            {
                0 => IgmpFrames.WriteV2Report(buffer, mac, default, v4, IpAddress.FromV4(0xEF01_0000u + (uint)g)),
                1 => IgmpFrames.WriteV3Report(buffer, mac, default, v4,
                [
                    new GroupRecord(GroupRecordType.ModeIsExclude, IpAddress.FromV4(0xEF02_0000u + (uint)g)),
                    new GroupRecord(GroupRecordType.ModeIsInclude, IpAddress.FromV4(0xE802_0000u + (uint)g),
                        new[] { IpAddress.FromV4(0x0A09_0001), IpAddress.FromV4(0x0A09_0002) }),
                ]),
                _ => MldFrames.WriteV2Report(buffer, mac, default, v6,
                    [new GroupRecord(GroupRecordType.ModeIsExclude, IpAddress.FromV6(0xFF0EUL << 48, (ulong)g + 1))]),
            };
            _valid[i] = buffer[..n];
            var bad = buffer[..n];
            // IPv4 frames: 14 Ethernet + 24 IP (Router Alert), IGMP at 38; MLD: 14 + 40 + 8 Hop-by-Hop, ICMPv6 at 62.
            if (i % 3 == 2) bad[62 + 2] ^= 0x5A;          // MLD checksum
            else if (i % 4 == 0) bad[38 + 2] ^= 0x5A;     // IGMP checksum
            else if (i % 4 == 1) bad[14 + 10] ^= 0x5A;    // IPv4 header checksum
            else bad[14 + 8] = 2;                         // TTL 2 (header checksum left wrong too: caught first)
            _malformed[i] = bad;
            _ports[i] = ports[i % 8];
        }
        _now = DateTimeOffset.UtcNow.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        Feed(_valid);   // create every membership: what follows is steady state
        if (Feed(_malformed) != 0) throw new InvalidOperationException("a malformed frame was applied");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Frames, Description = "valid report (parse + apply)")]
    public int Valid() => Feed(_valid);

    [Benchmark(OperationsPerInvoke = Frames, Description = "malformed frame (parse + drop with reason)")]
    public int Malformed() => Feed(_malformed);

    private int Feed(byte[][] frames)
    {
        int applied = 0;
        var ports = _ports;
        for (int i = 0; i < frames.Length; i++)
            if (_snooper.Process(ports[i], frames[i], _now += 10) == FrameOutcome.Applied) applied++;
        return applied;
    }
}
