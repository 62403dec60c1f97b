using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Bier.Encapsulation;

namespace SubsetMulticast.Bier.Tests.Support;

internal static class Packets
{
    public static readonly byte[] Payload = "payload"u8.ToArray();

    /// <summary>A BIER packet for (sub-domain, SI) with the canonical BIFT-id and a short payload.</summary>
    public static byte[] Make(BitString bits, int subDomain = 0, int si = 0, byte ttl = 64, uint entropy = 0, ushort bfir = 4)
    {
        var f = BierHeaderFields.Create(BierFrame.CanonicalBiftId(bits.Length, subDomain, si), bits.Length, ttl, BierNextProtocol.Ipv6, bfir, entropy);
        var p = new byte[BierHeader.LengthFor(bits.Length) + Payload.Length];
        Assert.True(BierHeader.TryWrite(p, f, bits.Words, out int n));
        Payload.CopyTo(p, n);
        return p;
    }

    /// <summary>A 4-bit string as the RFC's figures write it ("0101": bit 4 first), in a BSL 64 BitString.</summary>
    public static BitString Bits(string figure)
    {
        var b = new BitString(BitStringLength.Bits64);
        for (int i = 0; i < figure.Length; i++)
            if (figure[figure.Length - 1 - i] == '1') b.Set(i + 1);
        return b;
    }
}
