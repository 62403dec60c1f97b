using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Packets;
using SubsetMulticast.Packets.Igmp;
using SubsetMulticast.Packets.Mld;
using SubsetMulticast.Snooping;

namespace SubsetMulticast.Benchmarks.Snooping;

/// <summary>
/// What the snooping benchmarks share: a snooper with 8 ports and 4,096 report frames over 1,024 groups, a mix of
/// IGMPv2 reports, IGMPv3 reports (an EXCLUDE record and an INCLUDE record with 2 sources) and MLDv2 reports (frame i
/// is kind i % 3, on port i % 8), and the loop that feeds frames 1 µs apart, so membership timers (GMI 260 s) never
/// run out during a run.
/// </summary>
public abstract class SteadyStateSnooping
{
    protected const int Frames = 4096;
    private PortId[] _ports = [];
    private Snooper _snooper = null!;
    private long _now;

    /// <summary>A new snooper with <paramref name="options"/> and its 8 ports; returns the 4,096 valid report frames.</summary>
    protected byte[][] CreateSnooper(SnoopingOptions options)
    {
        _snooper = new Snooper(options);
        var ports = Enumerable.Range(1, 8).Select(i => _snooper.AddPort($"p{i}")).ToArray();
        var frames = new byte[Frames][];
        _ports = new PortId[Frames];
        var buffer = new byte[512];
        for (int i = 0; i < Frames; i++)
        {
            int n = WriteReport(buffer, i);
            frames[i] = buffer[..n];
            _ports[i] = ports[i % 8];
        }
        _now = DateTimeOffset.UtcNow.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        return frames;
    }

    /// <summary>Report frame <paramref name="i"/> of the mix (kind i % 3, group i % 1024, host i % 8) into <paramref name="buffer"/>; returns its length.</summary>
    internal static int WriteReport(Span<byte> buffer, int i)
    {
        int g = i % 1024;
        var mac = new MacAddress(0x02_00_00_00_10_00UL + (ulong)(i % 8));
        var v4 = IpAddress.FromV4(0x0A00_0000u + (uint)(i % 8) + 1);
        var v6 = IpAddress.FromV6(0xFE80UL << 48, (ulong)(i % 8) + 1);
        return (i % 3) switch
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
    }

    /// <summary>Feeds frame i on its port, 1 µs after the previous one; returns how many were applied.</summary>
    protected int Feed(byte[][] frames)
    {
        int applied = 0;
        var ports = _ports;
        for (int i = 0; i < frames.Length; i++)
            if (_snooper.Process(ports[i], frames[i], _now += 10) == FrameOutcome.Applied) applied++;
        return applied;
    }
}
