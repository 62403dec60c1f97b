using System.Globalization;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Push;
using SubsetMulticast.Controller.Security;

namespace SubsetMulticast.Controller.Push;

/// <summary>
/// Push keys from a file or the environment (<c>--push-keys file:PATH</c> or <c>env:VAR</c>), never from the command
/// line and never printed. One key a line, <c>VLAN KEY-ID HEX</c> (16+ bytes):
/// <code>
/// # rollover: add id 2 beside id 1 everywhere, then drop id 1 once every sender signs with 2
/// 1 1 9f0c…
/// 1 2 41aa…
/// </code>
/// Every listed key verifies; the controller signs its own instructions (pushed mode) with the highest key id.
/// A lone hex string (the whole text) is key id 1 for the VLANs the caller names.
/// </summary>
public sealed record PushKeyFile(PushKeyRing Keys, ushort SigningKeyId, IReadOnlyList<(VlanId Vlan, ushort KeyId)> Entries)
{
    public static PushKeyFile Read(string source, IEnumerable<VlanId> vlans) => Parse(SecretSource.Read(source), source, vlans);

    /// <summary>Parses; <see cref="FormatException"/> names the source and line, never a key.</summary>
    public static PushKeyFile Parse(string text, string sourceName, IEnumerable<VlanId> vlans)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ring = new PushKeyRing();
        var entries = new List<(VlanId, ushort)>();
        var trimmed = text.Trim();
        if (trimmed.Length > 0 && trimmed.All(char.IsAsciiHexDigit))
        {
            var key = Key(trimmed, $"{sourceName}");
            foreach (var v in vlans) { ring.Add(v, 1, key); entries.Add((v, 1)); }
            return new PushKeyFile(ring, 1, entries);
        }
        int lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var line = raw;
            int hash = line.IndexOf('#', StringComparison.Ordinal);
            if (hash >= 0) line = line[..hash];
            var words = line.Split((char[])[' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0) continue;
            string where = $"{sourceName} line {lineNo.ToString(CultureInfo.InvariantCulture)}";
            if (words.Length != 3) throw new FormatException($"{where}: expected 'VLAN KEY-ID HEX'");
            if (!ushort.TryParse(words[0], NumberStyles.None, CultureInfo.InvariantCulture, out ushort vlan) || !VlanId.IsValid(vlan))
                throw new FormatException($"{where}: '{words[0]}' is not a VLAN 0..{VlanId.MaxValue}");
            if (!ushort.TryParse(words[1], NumberStyles.None, CultureInfo.InvariantCulture, out ushort id))
                throw new FormatException($"{where}: '{words[1]}' is not a key id 0..65535");
            if (ring.HasKey(new VlanId(vlan), id)) throw new FormatException($"{where}: VLAN {vlan} key id {id} is listed twice");
            ring.Add(new VlanId(vlan), id, Key(words[2], where));
            entries.Add((new VlanId(vlan), id));
        }
        if (entries.Count == 0) throw new FormatException($"{sourceName}: no key");
        return new PushKeyFile(ring, entries.Max(e => e.Item2), entries);
    }

    private static byte[] Key(string hex, string where)
    {
        byte[] key;
        try { key = Convert.FromHexString(hex); }
        catch (FormatException) { throw new FormatException($"{where}: the key is not hex (an even number of hex digits)"); }
        return key.Length >= 16 ? key : throw new FormatException($"{where}: a push key has at least 16 bytes (32 hex digits)");
    }
}
