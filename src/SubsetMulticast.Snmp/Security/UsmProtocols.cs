using System.Security.Cryptography;
using SubsetMulticast.Snmp.Messages;

namespace SubsetMulticast.Snmp.Security;

/// <summary>USM authentication protocols (RFC 3414 §6–7, RFC 7860 §4). Names as net-snmp's <c>-a</c> takes them.</summary>
public enum AuthProtocol { None, Md5, Sha1, Sha224, Sha256, Sha384, Sha512 }

/// <summary>
/// USM privacy protocols. AES-192/256 come in two key-extension variants, named as net-snmp names them:
/// <see cref="Aes192"/>/<see cref="Aes256"/> (net-snmp <c>AES-192</c>/<c>AES-256</c>) extend a short localized
/// key by Blumenthal's draft (Kul ‖ H(Kul) …); <see cref="Aes192C"/>/<see cref="Aes256C"/> (net-snmp
/// <c>AES-192-C</c>/<c>AES-256-C</c>, "Cisco") by Reeder's (Kul ‖ localize(passwordToKey(Kul)) …). Beware:
/// pysnmp's <c>AES256</c> is Reeder's. With SHA-256 or stronger no extension happens and both agree.
/// </summary>
public enum PrivProtocol { None, Des, Aes128, Aes192, Aes256, Aes192C, Aes256C }

public enum SecurityLevel { NoAuthNoPriv, AuthNoPriv, AuthPriv }

public static class UsmProtocols
{
    /// <summary>HMAC output kept on the wire (RFC 3414: 12; RFC 7860 §4.2: 16/24/32/48).</summary>
    public static int MacLength(AuthProtocol p) => p switch
    {
        AuthProtocol.Md5 or AuthProtocol.Sha1 => 12,
        AuthProtocol.Sha224 => 16,
        AuthProtocol.Sha256 => 24,
        AuthProtocol.Sha384 => 32,
        AuthProtocol.Sha512 => 48,
        _ => 0,
    };

    public static int HashLength(AuthProtocol p) => p switch
    {
        AuthProtocol.Md5 => 16, AuthProtocol.Sha1 => 20, AuthProtocol.Sha224 => 28,
        AuthProtocol.Sha256 => 32, AuthProtocol.Sha384 => 48, AuthProtocol.Sha512 => 64, _ => 0,
    };

    public static int KeyLength(PrivProtocol p) => p switch
    {
        PrivProtocol.Des => 16,            // 8 key octets + 8 pre-IV octets (RFC 3414 §8.1.1.1)
        PrivProtocol.Aes128 => 16,
        PrivProtocol.Aes192 or PrivProtocol.Aes192C => 24,
        PrivProtocol.Aes256 or PrivProtocol.Aes256C => 32,
        _ => 0,
    };

    /// <summary>usmUserAuthProtocol values (RFC 3414 §5, RFC 7860 §4.1): 1.3.6.1.6.3.10.1.1.N.</summary>
    public static ObjectIdentifier Oid(AuthProtocol p) =>
        ObjectIdentifier.Parse("1.3.6.1.6.3.10.1.1." + (p switch
        {
            AuthProtocol.None => 1, AuthProtocol.Md5 => 2, AuthProtocol.Sha1 => 3, AuthProtocol.Sha224 => 4,
            AuthProtocol.Sha256 => 5, AuthProtocol.Sha384 => 6, _ => 7,
        }));

    /// <summary>net-snmp's name for a protocol (<c>-a</c> / <c>-x</c> arguments).</summary>
    public static string NetSnmpName(AuthProtocol p) => p switch
    {
        AuthProtocol.Md5 => "MD5", AuthProtocol.Sha1 => "SHA", AuthProtocol.Sha224 => "SHA-224",
        AuthProtocol.Sha256 => "SHA-256", AuthProtocol.Sha384 => "SHA-384", AuthProtocol.Sha512 => "SHA-512", _ => "none",
    };

    public static string NetSnmpName(PrivProtocol p) => p switch
    {
        PrivProtocol.Des => "DES", PrivProtocol.Aes128 => "AES", PrivProtocol.Aes192 => "AES-192", PrivProtocol.Aes256 => "AES-256",
        PrivProtocol.Aes192C => "AES-192-C", PrivProtocol.Aes256C => "AES-256-C", _ => "none",
    };

    public static bool TryParseAuth(string name, out AuthProtocol p)
    {
        p = name.ToUpperInvariant() switch
        {
            "MD5" => AuthProtocol.Md5, "SHA" or "SHA1" or "SHA-1" => AuthProtocol.Sha1, "SHA-224" or "SHA224" => AuthProtocol.Sha224,
            "SHA-256" or "SHA256" => AuthProtocol.Sha256, "SHA-384" or "SHA384" => AuthProtocol.Sha384,
            "SHA-512" or "SHA512" => AuthProtocol.Sha512, "NONE" => AuthProtocol.None, _ => (AuthProtocol)(-1),
        };
        return (int)p >= 0;
    }

    public static bool TryParsePriv(string name, out PrivProtocol p)
    {
        p = name.ToUpperInvariant() switch
        {
            "DES" => PrivProtocol.Des, "AES" or "AES128" or "AES-128" => PrivProtocol.Aes128,
            "AES-192" or "AES192" => PrivProtocol.Aes192, "AES-256" or "AES256" => PrivProtocol.Aes256,
            "AES-192-C" => PrivProtocol.Aes192C, "AES-256-C" => PrivProtocol.Aes256C, "NONE" => PrivProtocol.None, _ => (PrivProtocol)(-1),
        };
        return (int)p >= 0;
    }

    internal static byte[] Hash(AuthProtocol p, ReadOnlySpan<byte> data) => p switch
    {
        AuthProtocol.Md5 => MD5.HashData(data),
        AuthProtocol.Sha1 => SHA1.HashData(data),
        AuthProtocol.Sha224 => Sha224(data),
        AuthProtocol.Sha256 => SHA256.HashData(data),
        AuthProtocol.Sha384 => SHA384.HashData(data),
        AuthProtocol.Sha512 => SHA512.HashData(data),
        _ => throw new ArgumentOutOfRangeException(nameof(p)),
    };

    internal static byte[] Hmac(AuthProtocol p, ReadOnlySpan<byte> key, ReadOnlySpan<byte> data) => p switch
    {
        AuthProtocol.Md5 => HMACMD5.HashData(key, data),
        AuthProtocol.Sha1 => HMACSHA1.HashData(key, data),
        AuthProtocol.Sha224 => Sha224Hmac(key, data),
        AuthProtocol.Sha256 => HMACSHA256.HashData(key, data),
        AuthProtocol.Sha384 => HMACSHA384.HashData(key, data),
        AuthProtocol.Sha512 => HMACSHA512.HashData(key, data),
        _ => throw new ArgumentOutOfRangeException(nameof(p)),
    };

    // .NET has no SHA-224; it is SHA-256 with other initial values, truncated (FIPS 180-4 §5.3.2, §6.3).
    private static byte[] Sha224(ReadOnlySpan<byte> data) => Sha224Impl.Hash(data);

    // HMAC (RFC 2104) over SHA-224, block size 64.
    private static byte[] Sha224Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data)
    {
        Span<byte> k = stackalloc byte[64];
        k.Clear();
        if (key.Length > 64) Sha224(key).CopyTo(k); else key.CopyTo(k);
        var inner = new byte[64 + data.Length];
        for (int i = 0; i < 64; i++) inner[i] = (byte)(k[i] ^ 0x36);
        data.CopyTo(inner.AsSpan(64));
        var ih = Sha224(inner);
        var outer = new byte[64 + ih.Length];
        for (int i = 0; i < 64; i++) outer[i] = (byte)(k[i] ^ 0x5C);
        ih.CopyTo(outer, 64);
        return Sha224(outer);
    }
}
