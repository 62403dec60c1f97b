using System.Buffers.Binary;
using SubsetMulticast.Packets.Ethernet;

namespace SubsetMulticast.Emulator.Chaos;

/// <summary>What chaos does to the frames on one host's access link, as probabilities per frame (0 … 1).</summary>
public sealed record ChaosRates
{
    public double Drop { get; init; }
    public double Duplicate { get; init; }
    /// <summary>The frame is held back and delivered after the next frame on the same link.</summary>
    public double Reorder { get; init; }
    /// <summary>One byte of the UDP payload is flipped and the UDP checksum cleared (IPv4: "no checksum"), so the corruption reaches the application as an undetected bit error would.</summary>
    public double Corrupt { get; init; }
    /// <summary>The UDP payload is cut short (IP and UDP lengths rewritten to match), as a truncating middlebox would.</summary>
    public double Truncate { get; init; }
}

/// <summary>What chaos did, per kind.</summary>
public sealed class ChaosCounts
{
    public long Frames, Dropped, Duplicated, Reordered, Corrupted, Truncated;
}

/// <summary>
/// Deterministic chaos on chosen host links (viamillipede's idea): drops, duplicates, reorders, corrupts and
/// truncates frames on their way into a host, each link with its own <see cref="Random"/> seeded from one seed
/// and the host index, so the same seed and the same traffic give the same faults. It sits between the fabric
/// and the hosts' stacks (<see cref="EmulatedFabric.HostReceive"/>); runs under the fabric's lock.
/// </summary>
public sealed class LinkChaos
{
    private readonly int _seed;
    private readonly Dictionary<int, (ChaosRates Rates, Random Random)> _links = [];
    private readonly Dictionary<int, byte[]> _held = [];
    private HostFrameSink? _inner;
    private ChaosRates? _everyHost;

    public LinkChaos(int seed) => _seed = seed;

    public ChaosCounts Counts { get; } = new();

    /// <summary>Faults on the link into <paramref name="host"/>.</summary>
    public LinkChaos On(EmulatedHost host, ChaosRates rates)
    {
        _links[host.Index] = (rates, new Random(LinkSeed(host.Index)));
        return this;
    }

    /// <summary>Faults on the link into every host not configured with <see cref="On"/>.</summary>
    public LinkChaos OnEveryHost(ChaosRates rates)
    {
        _everyHost = rates;
        return this;
    }

    /// <summary>
    /// The seed of one link's <see cref="Random"/>. Not <see cref="HashCode.Combine{T1, T2}"/>: that is seeded afresh in
    /// every process, so a seed would give other faults in each test run.
    /// </summary>
    private int LinkSeed(int hostIndex) => unchecked(_seed * 1_000_003 + hostIndex);

    /// <summary>Puts chaos in front of <paramref name="inner"/> on the fabric.</summary>
    public void Install(EmulatedFabric fabric, HostFrameSink inner)
    {
        _inner = inner;
        fabric.HostReceive = Deliver;
    }

    private void Deliver(EmulatedHost host, ReadOnlySpan<byte> frame)
    {
        var inner = _inner!;
        if (!_links.TryGetValue(host.Index, out var link))
        {
            if (_everyHost is null) { inner(host, frame); return; }
            _links[host.Index] = link = (_everyHost, new Random(LinkSeed(host.Index)));
        }
        Counts.Frames++;
        var (rates, random) = link;
        // One draw per kind, always in the same order, so a seed replays exactly.
        double drop = random.NextDouble(), dup = random.NextDouble(), reorder = random.NextDouble(), corrupt = random.NextDouble(), truncate = random.NextDouble();
        int where = random.Next();
        if (drop < rates.Drop) { Counts.Dropped++; ReleaseHeld(host, inner); return; }
        byte[]? altered = null;
        if (corrupt < rates.Corrupt && TryUdpPayload(frame, out int at, out int length) && length > 0)
        {
            altered = frame.ToArray();
            altered[at + where % length] ^= (byte)(1 << (where >> 8 & 7));
            ClearUdpChecksum(altered, at);
            Counts.Corrupted++;
        }
        if (truncate < rates.Truncate && TryUdpPayload(altered ?? frame, out at, out length) && length > 1)
        {
            altered ??= frame.ToArray();
            altered = Shorten(altered, at, length, where % length);
            Counts.Truncated++;
        }
        ReadOnlySpan<byte> f = altered ?? frame;
        if (reorder < rates.Reorder && !_held.ContainsKey(host.Index))
        {
            _held[host.Index] = f.ToArray();
            Counts.Reordered++;
            return;
        }
        inner(host, f);
        if (dup < rates.Duplicate) { Counts.Duplicated++; inner(host, f); }
        ReleaseHeld(host, inner);
    }

    private void ReleaseHeld(EmulatedHost host, HostFrameSink inner)
    {
        if (_held.Remove(host.Index, out var held)) inner(host, held);
    }

    /// <summary>Offset and length of the UDP payload of an IPv4 frame.</summary>
    private static bool TryUdpPayload(ReadOnlySpan<byte> frame, out int offset, out int length)
    {
        offset = length = 0;
        if (!EthernetFrame.TryRead(frame, out var eth) || eth.EtherType != EtherTypes.Ipv4) return false;
        int ip = eth.HeaderLength;
        if (frame.Length < ip + 20 || frame[ip + 9] != 17) return false;
        int ihl = (frame[ip] & 0xF) * 4;
        int udp = ip + ihl;
        if (frame.Length < udp + 8) return false;
        int udpLength = BinaryPrimitives.ReadUInt16BigEndian(frame[(udp + 4)..]);
        if (udpLength < 8 || udp + udpLength > frame.Length) return false;
        offset = udp + 8;
        length = udpLength - 8;
        return true;
    }

    private static void ClearUdpChecksum(byte[] frame, int payloadOffset) => frame.AsSpan(payloadOffset - 2, 2).Clear();

    /// <summary>Cuts the UDP payload to <paramref name="keep"/> bytes and rewrites the IPv4 and UDP lengths (and the IPv4 header checksum).</summary>
    private static byte[] Shorten(byte[] frame, int payloadOffset, int payloadLength, int keep)
    {
        int udp = payloadOffset - 8;
        EthernetFrame.TryRead(frame, out var eth);
        int ip = eth.HeaderLength;
        int ihl = (frame[ip] & 0xF) * 4;
        var cut = frame.AsSpan(0, payloadOffset + keep).ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(cut.AsSpan(udp + 4), (ushort)(8 + keep));
        cut.AsSpan(udp + 6, 2).Clear();
        BinaryPrimitives.WriteUInt16BigEndian(cut.AsSpan(ip + 2), (ushort)(ihl + 8 + keep));
        cut.AsSpan(ip + 10, 2).Clear();
        uint sum = 0;
        for (int i = 0; i < ihl; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(cut.AsSpan(ip + i));
        while (sum > 0xFFFF) sum = (sum & 0xFFFF) + (sum >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(cut.AsSpan(ip + 10), (ushort)~sum);
        _ = payloadLength;
        return cut;
    }
}
