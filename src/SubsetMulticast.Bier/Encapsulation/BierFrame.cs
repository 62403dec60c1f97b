using System.Buffers.Binary;
using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Bier.Encapsulation;

/// <summary>
/// BIER over Ethernet. Non-MPLS: EtherType 0xAB37 and the header straight after (the BIFT-id is then a
/// 20-bit value, RFC 8296 §2.2). MPLS: EtherType 0x8847; the header's first word is the BIER label stack
/// entry itself (label = BIFT-id, S = 1), so the bytes after the EtherType are the same header.
/// </summary>
public static class BierFrame
{
    public const ushort NonMplsEtherType = 0xAB37, MplsEtherType = 0x8847;
    public const int EthernetLength = 14;

    public static int WriteEthernet(Span<byte> destination, MacAddress dst, MacAddress src, bool mpls)
    {
        dst.WriteTo(destination);
        src.WriteTo(destination[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[12..], mpls ? MplsEtherType : NonMplsEtherType);
        return EthernetLength;
    }

    /// <summary>The BIER header's bytes when the frame is untagged BIER (either EtherType); false otherwise.</summary>
    public static bool TryGetHeader(ReadOnlySpan<byte> frame, out ReadOnlySpan<byte> bier)
    {
        bier = default;
        if (frame.Length < EthernetLength) return false;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        if (type != NonMplsEtherType && type != MplsEtherType) return false;
        bier = frame[EthernetLength..];
        return true;
    }

    /// <summary>
    /// The canonical non-MPLS BIFT-id of draft-ietf-bier-non-mpls-bift-encoding-04: BSL(4) | SD(8) | SI(8).
    /// With MPLS the BIFT-id is a label the BFR allocated instead; we use the same numbers for both.
    /// </summary>
    public static uint CanonicalBiftId(BitStrings.BitStringLength bsl, int subDomain, int si)
    {
        if ((uint)subDomain > 255 || (uint)si > 255) throw new ArgumentOutOfRangeException(nameof(si), "Sub-domain and SI are 8 bits in the canonical BIFT-id.");
        return ((uint)bsl << 16) | ((uint)subDomain << 8) | (uint)si;
    }
}
