namespace SubsetMulticast.Packets.Tests.Support;

internal static class Hex
{
    /// <summary>Hex with any whitespace.</summary>
    public static byte[] Parse(string hex) =>
        Convert.FromHexString(string.Concat(hex.Where(c => !char.IsWhiteSpace(c))));

    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).ToLowerInvariant();
}
