using System.Text;

namespace SubsetMulticast.Snmp.Security;

/// <summary>
/// A USM user as a manager or agent knows it: name, protocols and master keys (Ku) from the passwords.
/// Secrets never appear in <see cref="ToString"/>. Localized keys depend on the authoritative engine and
/// come from <see cref="Localize"/>.
/// </summary>
public sealed class UsmUser
{
    private readonly byte[]? _authKu;
    private readonly byte[]? _privKu;

    public UsmUser(string name, AuthProtocol auth = AuthProtocol.None, string? authPassword = null, PrivProtocol priv = PrivProtocol.None, string? privPassword = null)
    {
        if (string.IsNullOrEmpty(name) || Encoding.UTF8.GetByteCount(name) > 32) throw new ArgumentException("A USM user name has 1 to 32 octets (RFC 3414 §5).", nameof(name));
        if (priv != PrivProtocol.None && auth == AuthProtocol.None) throw new ArgumentException("Privacy needs authentication (RFC 3414 §3.1.1).", nameof(priv));
        if (auth != AuthProtocol.None && string.IsNullOrEmpty(authPassword)) throw new ArgumentException("Authentication needs a password.", nameof(authPassword));
        if (priv != PrivProtocol.None && string.IsNullOrEmpty(privPassword)) throw new ArgumentException("Privacy needs a password.", nameof(privPassword));
        if (authPassword is { Length: < 8 }) throw new ArgumentException("net-snmp refuses passwords under 8 characters (USM_LENGTH_P_MIN).", nameof(authPassword));
        if (privPassword is { Length: < 8 }) throw new ArgumentException("net-snmp refuses passwords under 8 characters (USM_LENGTH_P_MIN).", nameof(privPassword));
        Name = name;
        Auth = auth;
        Priv = priv;
        if (auth != AuthProtocol.None) _authKu = UsmKeys.PasswordToKey(auth, Encoding.UTF8.GetBytes(authPassword!));
        if (priv != PrivProtocol.None) _privKu = UsmKeys.PasswordToKey(auth, Encoding.UTF8.GetBytes(privPassword!));
    }

    public string Name { get; }
    public AuthProtocol Auth { get; }
    public PrivProtocol Priv { get; }

    public SecurityLevel Level => Priv != PrivProtocol.None ? SecurityLevel.AuthPriv : Auth != AuthProtocol.None ? SecurityLevel.AuthNoPriv : SecurityLevel.NoAuthNoPriv;

    /// <summary>The keys for one authoritative engine.</summary>
    public LocalizedKeys Localize(ReadOnlySpan<byte> engineId)
    {
        byte[] authKey = _authKu is null ? [] : UsmKeys.Localize(Auth, _authKu, engineId);
        byte[] privKey = _privKu is null ? [] : UsmKeys.PrivacyKey(Auth, Priv, UsmKeys.Localize(Auth, _privKu, engineId), engineId);
        return new LocalizedKeys(authKey, privKey);
    }

    public override string ToString() => $"{Name} ({UsmProtocols.NetSnmpName(Auth)}/{UsmProtocols.NetSnmpName(Priv)}, keys hidden)";
}

/// <summary>A user's keys localized to one engine. Never printed.</summary>
public sealed class LocalizedKeys(byte[] authKey, byte[] privKey)
{
    internal byte[] AuthKey { get; } = authKey;
    internal byte[] PrivKey { get; } = privKey;
    public override string ToString() => "(localized keys hidden)";
}
