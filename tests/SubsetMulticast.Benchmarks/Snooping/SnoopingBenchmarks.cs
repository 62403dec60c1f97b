using BenchmarkDotNet.Attributes;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Packets;
using SubsetMulticast.Packets.Igmp;
using SubsetMulticast.Packets.Mld;
using SubsetMulticast.Snooping;

namespace SubsetMulticast.Benchmarks.Snooping;

/// <summary>
/// Frames parsed and applied per second by <see cref="Snooper.Process(PortId, ReadOnlySpan{byte}, long)"/> in steady
/// state: 1,024 existing groups on 8 ports, refreshed by a mix of IGMPv2 reports, IGMPv3 reports (an EXCLUDE record and
/// an INCLUDE record with 2 sources) and MLDv2 reports, each frame one operation. With <see cref="FastLeave"/> every
/// port has fast leave, so the IGMPv3/MLDv2 records also refresh their host's explicit tracking entry.
/// </summary>
[MemoryDiagnoser]
public class SnoopingBenchmarks
{
    private const int Frames = 4096;
    private byte[][] _frames = [];
    private PortId[] _ports = [];
    private Snooper _snooper = null!;
    private long _now;

    [Params(false, true)]
    public bool FastLeave { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var fastLeave = FastLeave ? Enumerable.Range(1, 8).Select(i => $"p{i}").ToHashSet() : [];
        _snooper = new Snooper(new SnoopingOptions { FastLeavePorts = fastLeave });
        var ports = Enumerable.Range(1, 8).Select(i => _snooper.AddPort($"p{i}")).ToArray();
        _frames = new byte[Frames][];
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
            _frames[i] = buffer[..n];
            _ports[i] = ports[i % 8];
        }
        _now = DateTimeOffset.UtcNow.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        Run();   // create every membership: what follows is steady state
    }

    [Benchmark(OperationsPerInvoke = Frames, Description = "parse + apply one report (steady state)")]
    public int Run()
    {
        int applied = 0;
        var frames = _frames;
        var ports = _ports;
        for (int i = 0; i < frames.Length; i++)
        {
            // 1 µs apart: membership timers (GMI 260 s) never run out during the run.
            if (_snooper.Process(ports[i], frames[i], _now += 10) == FrameOutcome.Applied) applied++;
        }
        return applied;
    }
}
