using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace SubsetMulticast.Controller.Security;

/// <summary>A client of the REST API: its name (the owner of the groups it creates), its scopes, and how it proves who it is.</summary>
/// <param name="TokenSha256">SHA-256 of its bearer token, or null when it authenticates by client certificate only (CN = <paramref name="Name"/>).</param>
public sealed record ApiClient(string Name, IReadOnlyList<ApiScope> Scopes, byte[]? TokenSha256);

/// <summary>
/// The clients file (<c>--api-clients file:PATH</c> or <c>env:VAR</c>), one client a line:
/// <code>
/// # tsm API clients. Tokens are stored as their SHA-256 only (tsm token create prints the token once).
/// client storage-a scopes=read,groups:write:1 token-sha256=5e884898…
/// client ops       scopes=admin                token-sha256=…
/// client monitor   scopes=read                              # authenticates with a client certificate whose CN is "monitor"
/// </code>
/// Tokens are 256 random bits, so a plain SHA-256 is enough to make the file useless to whoever reads it (there is
/// no password to guess, so no slow hash is needed), and the lookup by hash takes no time that depends on the token.
/// </summary>
public sealed class ApiClientTable
{
    public const string TokenPrefix = "tsm_";
    private readonly Dictionary<string, ApiClient> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ApiClient> _byTokenHash = new(StringComparer.Ordinal);

    public ApiClientTable(IEnumerable<ApiClient> clients)
    {
        ArgumentNullException.ThrowIfNull(clients);
        foreach (var c in clients)
        {
            if (!_byName.TryAdd(c.Name, c)) throw new ArgumentException($"Client '{c.Name}' is listed twice.", nameof(clients));
            if (c.TokenSha256 is { } h && !_byTokenHash.TryAdd(Convert.ToHexStringLower(h), c))
                throw new ArgumentException($"Client '{c.Name}' has the same token as '{_byTokenHash[Convert.ToHexStringLower(h)].Name}'.", nameof(clients));
        }
    }

    public IReadOnlyCollection<ApiClient> Clients => _byName.Values;

    public bool TryFind(string name, [NotNullWhen(true)] out ApiClient? client) => _byName.TryGetValue(name, out client);

    /// <summary>The client whose token this is; false for any other string.</summary>
    public bool TryAuthenticate(string token, [NotNullWhen(true)] out ApiClient? client)
    {
        client = null;
        if (token.Length is 0 or > 256) return false;
        return _byTokenHash.TryGetValue(Convert.ToHexStringLower(HashToken(token)), out client);
    }

    public static byte[] HashToken(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>A fresh token: <c>tsm_</c> and 256 random bits, base64url.</summary>
    public static string NewToken() =>
        TokenPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The clients-file line for a client (the token's hash, never the token).</summary>
    public static string FormatLine(ApiClient client) =>
        $"client {client.Name} scopes={string.Join(',', client.Scopes)}" + (client.TokenSha256 is { } h ? $" token-sha256={Convert.ToHexStringLower(h)}" : "");

    /// <summary>Reads a clients file; <see cref="FormatException"/> names the source and line (never a token).</summary>
    public static ApiClientTable Parse(string text, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(text);
        var clients = new List<ApiClient>();
        int lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var line = raw;
            int hash = line.IndexOf('#', StringComparison.Ordinal);
            if (hash >= 0) line = line[..hash];
            var words = line.Split((char[])[' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0) continue;
            string Where() => $"{sourceName} line {lineNo.ToString(CultureInfo.InvariantCulture)}";
            if (words[0] != "client" || words.Length < 3) throw new FormatException($"{Where()}: expected 'client NAME scopes=… [token-sha256=HEX]'");
            string name = words[1];
            if (!IsName(name)) throw new FormatException($"{Where()}: '{name}' is not a client name (letters, digits, '.', '-', '_', '@')");
            IReadOnlyList<ApiScope>? scopes = null;
            byte[]? tokenHash = null;
            foreach (var w in words.AsSpan(2))
            {
                int eq = w.IndexOf('=', StringComparison.Ordinal);
                var (key, value) = eq < 0 ? (w, "") : (w[..eq], w[(eq + 1)..]);
                switch (key)
                {
                    case "scopes":
                        var list = new List<ApiScope>();
                        foreach (var s in value.Split(',', StringSplitOptions.RemoveEmptyEntries))
                            list.Add(ApiScope.TryParse(s, out var scope) ? scope.Value
                                : throw new FormatException($"{Where()}: '{s}' is not a scope (read, admin, groups:write, groups:write:VLAN, groups:write:VLAN:REFERENCE)"));
                        scopes = list;
                        break;
                    case "token-sha256":
                        try { tokenHash = Convert.FromHexString(value); }
                        catch (FormatException) { tokenHash = null; }
                        if (tokenHash is not { Length: 32 }) throw new FormatException($"{Where()}: token-sha256 must be 64 hex digits (the token's SHA-256, as tsm token create writes it)");
                        break;
                    case "token":
                        throw new FormatException($"{Where()}: a token is never stored in the clear; give its token-sha256 (tsm token create writes the line)");
                    default:
                        throw new FormatException($"{Where()}: unknown field '{key}' (scopes, token-sha256)");
                }
            }
            if (scopes is null) throw new FormatException($"{Where()}: client {name} has no scopes=");
            clients.Add(new ApiClient(name, scopes, tokenHash));
        }
        try { return new ApiClientTable(clients); }
        catch (ArgumentException e) { throw new FormatException($"{sourceName}: {e.Message}", e); }
    }

    private static bool IsName(string s) => s.Length is > 0 and <= 64 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '@');
}
