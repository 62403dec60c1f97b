using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Packets;

/// <summary>RFC 1071 ones' complement checksum, with the RFC 768 / RFC 8200 §8.1 pseudo-headers.</summary>
public static class InternetChecksum
{
    /// <summary>Adds <paramref name="data"/> (big-endian 16-bit words, odd byte padded) to a folded partial sum.</summary>
    public static uint Sum(ReadOnlySpan<byte> data, uint partial = 0)
    {
        ulong acc = partial;
        int i = 0;
        for (; i + 1 < data.Length; i += 2) acc += (uint)((data[i] << 8) | data[i + 1]);
        if (i < data.Length) acc += (uint)(data[i] << 8);
        return Fold(acc);
    }

    /// <summary>The checksum field value for a folded sum: its ones' complement.</summary>
    public static ushort Finish(uint partial) => (ushort)~Fold(partial);

    /// <summary>True when a sum taken over data that includes its checksum field verifies.</summary>
    public static bool IsValid(uint partialIncludingChecksum) => Fold(partialIncludingChecksum) == 0xFFFF;

    /// <summary>
    /// Pseudo-header sum: IPv4 (RFC 768) src, dst, zero, protocol, length; IPv6 (RFC 8200 §8.1) src, dst,
    /// upper-layer length (32 bits), zeros, next header. Both families must match.
    /// </summary>
    public static uint PseudoHeader(IpAddress source, IpAddress destination, byte protocol, int upperLayerLength)
    {
        if (source.IsV4 != destination.IsV4) throw new ArgumentException("Source and destination families differ.", nameof(destination));
        ulong acc = protocol + (ulong)((uint)upperLayerLength >> 16) + ((uint)upperLayerLength & 0xFFFF);
        acc += Words(source) + Words(destination);
        return Fold(acc);
    }

    private static ulong Words(IpAddress a)
    {
        if (a.IsV4) return (a.V4 >> 16) + (a.V4 & 0xFFFF);
        ulong s = 0;
        for (int shift = 0; shift < 64; shift += 16) s += ((a.High >> shift) & 0xFFFF) + ((a.Low >> shift) & 0xFFFF);
        return s;
    }

    private static uint Fold(ulong acc)
    {
        // At most four rounds for a 64-bit accumulator.
        for (int i = 0; i < 4 && (acc >> 16) != 0; i++) acc = (acc & 0xFFFF) + (acc >> 16);
        return (uint)acc;
    }
}
