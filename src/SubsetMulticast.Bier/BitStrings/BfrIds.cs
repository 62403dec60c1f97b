namespace SubsetMulticast.Bier.BitStrings;

/// <summary>A BFR-id's place in a sub-domain: its set identifier and its bit within that set (RFC 8279 §3).</summary>
public readonly record struct SetBit(int Si, int Bit);

/// <summary>One set identifier's BitString for a list of BFR-ids.</summary>
public sealed record SetBitString(int Si, BitString Bits);

/// <summary>BFR-id ↔ (SI, BitPosition), RFC 8279 §3: SI = ⌊(id−1)/BSL⌋, bit = ((id−1) mod BSL) + 1.</summary>
public static class BfrIds
{
    public const int Min = 1, Max = 65535;   // 0 is "unassigned" (RFC 8279 §2); the header carries 16 bits

    public static bool IsValid(int bfrId) => bfrId is >= Min and <= Max;

    public static SetBit ToSetBit(int bfrId, BitStringLength bsl)
    {
        if (!IsValid(bfrId)) throw new ArgumentOutOfRangeException(nameof(bfrId), bfrId, "BFR-ids are 1..65535.");
        int bits = bsl.Bits();
        return new SetBit((bfrId - 1) / bits, (bfrId - 1) % bits + 1);
    }

    public static int FromSetBit(SetBit at, BitStringLength bsl) => at.Si * bsl.Bits() + at.Bit;

    /// <summary>The BitStrings that address <paramref name="bfrIds"/>, one per SI that has any, ordered by SI.</summary>
    public static IReadOnlyList<SetBitString> Encode(BitStringLength bsl, IEnumerable<int> bfrIds)
    {
        var bySi = new SortedDictionary<int, BitString>();
        foreach (var id in bfrIds)
        {
            var at = ToSetBit(id, bsl);
            if (!bySi.TryGetValue(at.Si, out var s)) bySi[at.Si] = s = new BitString(bsl);
            s.Set(at.Bit);
        }
        return [.. bySi.Select(kv => new SetBitString(kv.Key, kv.Value))];
    }
}
