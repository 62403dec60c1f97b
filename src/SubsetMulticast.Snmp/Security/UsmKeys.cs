using System.Buffers.Binary;
using System.Security.Cryptography;

namespace SubsetMulticast.Snmp.Security;

/// <summary>Key derivation for USM (RFC 3414 §2.6 and A.2; RFC 7860 §4.1; AES-192/256 key extension).</summary>
public static class UsmKeys
{
    private const int ExpandedPasswordLength = 1_048_576;

    /// <summary>Ku: the hash of one MiB of the password repeated (RFC 3414 A.2.1/A.2.2).</summary>
    public static byte[] PasswordToKey(AuthProtocol hash, ReadOnlySpan<byte> password)
    {
        if (password.Length == 0) throw new ArgumentException("An empty password cannot make a key.", nameof(password));
        var expanded = new byte[ExpandedPasswordLength];
        for (int i = 0; i < expanded.Length; i += password.Length)
            password[..Math.Min(password.Length, expanded.Length - i)].CopyTo(expanded.AsSpan(i));
        return UsmProtocols.Hash(hash, expanded);
    }

    /// <summary>Kul = H(Ku ‖ engineID ‖ Ku) (RFC 3414 §2.6).</summary>
    public static byte[] Localize(AuthProtocol hash, ReadOnlySpan<byte> ku, ReadOnlySpan<byte> engineId)
    {
        var buf = new byte[ku.Length * 2 + engineId.Length];
        ku.CopyTo(buf);
        engineId.CopyTo(buf.AsSpan(ku.Length));
        ku.CopyTo(buf.AsSpan(ku.Length + engineId.Length));
        return UsmProtocols.Hash(hash, buf);
    }

    /// <summary>
    /// The localized privacy key for <paramref name="priv"/>: the privacy password localized with the auth hash,
    /// extended when the cipher needs more octets than the hash gives (AES-192/256 with MD5 or SHA-1), then cut
    /// to the cipher's length.
    /// </summary>
    public static byte[] PrivacyKey(AuthProtocol hash, PrivProtocol priv, ReadOnlySpan<byte> localizedKey, ReadOnlySpan<byte> engineId)
    {
        int need = UsmProtocols.KeyLength(priv);
        var key = new List<byte>(localizedKey.ToArray());
        if (key.Count < need)
        {
            switch (priv)
            {
                case PrivProtocol.Aes192 or PrivProtocol.Aes256:
                    // draft-blumenthal-aes-usm-04 §3.1.2.1: Kul = Kul ‖ H(Kul), H over the whole key so far.
                    while (key.Count < need) key.AddRange(UsmProtocols.Hash(hash, key.ToArray()));
                    break;
                case PrivProtocol.Aes192C or PrivProtocol.Aes256C:
                    // draft-reeder-snmpv3-usm-3desede-00 §2.1: Kul = Kul ‖ localize(passwordToKey(Kul)).
                    while (key.Count < need) key.AddRange(Localize(hash, PasswordToKey(hash, key.ToArray()), engineId));
                    break;
                default:
                    throw new ArgumentException($"{priv} needs {need} key octets; {hash} gives {key.Count}.", nameof(priv));
            }
        }
        return [.. key.Take(need)];
    }
}

/// <summary>Privacy (RFC 3414 §8 CBC-DES; RFC 3826 AES-CFB128, also for 192/256-bit keys).</summary>
public static class UsmPrivacy
{
    /// <summary>Encrypts a ScopedPDU. <paramref name="salt"/> is the 64-bit local counter; returns msgPrivacyParameters in <paramref name="privParameters"/>.</summary>
    public static byte[] Encrypt(PrivProtocol p, ReadOnlySpan<byte> key, int engineBoots, int engineTime, ulong salt, ReadOnlySpan<byte> plaintext, out byte[] privParameters)
    {
        privParameters = new byte[8];
        if (p == PrivProtocol.Des)
        {
            // RFC 3414 §8.1.1.1: salt = engineBoots ‖ local counter; IV = pre-IV XOR salt.
            BinaryPrimitives.WriteInt32BigEndian(privParameters, engineBoots);
            BinaryPrimitives.WriteUInt32BigEndian(privParameters.AsSpan(4), (uint)salt);
            Span<byte> iv = stackalloc byte[8];
            for (int i = 0; i < 8; i++) iv[i] = (byte)(key[8 + i] ^ privParameters[i]);
            int padded = (plaintext.Length + 7) / 8 * 8;
            var buf = new byte[padded];
            plaintext.CopyTo(buf);
            using var des = DES.Create();
            des.Key = key[..8].ToArray();
            return des.EncryptCbc(buf, iv, PaddingMode.None);
        }
        BinaryPrimitives.WriteUInt64BigEndian(privParameters, salt);
        return AesCfb(key, AesIv(engineBoots, engineTime, privParameters), plaintext, encrypt: true);
    }

    /// <summary>Decrypts; false (a decryptionError, RFC 3414 §3.2 step 8) when the lengths cannot be right.</summary>
    public static bool TryDecrypt(PrivProtocol p, ReadOnlySpan<byte> key, int engineBoots, int engineTime, ReadOnlySpan<byte> privParameters, ReadOnlySpan<byte> ciphertext, out byte[] plaintext)
    {
        plaintext = [];
        if (privParameters.Length != 8) return false;
        if (p == PrivProtocol.Des)
        {
            if (ciphertext.Length % 8 != 0 || ciphertext.Length == 0) return false;
            Span<byte> iv = stackalloc byte[8];
            for (int i = 0; i < 8; i++) iv[i] = (byte)(key[8 + i] ^ privParameters[i]);
            using var des = DES.Create();
            des.Key = key[..8].ToArray();
            plaintext = des.DecryptCbc(ciphertext, iv, PaddingMode.None);
            return true;
        }
        plaintext = AesCfb(key, AesIv(engineBoots, engineTime, privParameters), ciphertext, encrypt: false);
        return true;
    }

    // RFC 3826 §3.1.2.1: IV = engineBoots ‖ engineTime ‖ salt (the 8-octet msgPrivacyParameters).
    private static byte[] AesIv(int boots, int time, ReadOnlySpan<byte> salt)
    {
        var iv = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(iv, boots);
        BinaryPrimitives.WriteInt32BigEndian(iv.AsSpan(4), time);
        salt.CopyTo(iv.AsSpan(8));
        return iv;
    }

    // CFB128 by hand over the block cipher: any length, no padding (RFC 3826 §3.1.3).
    private static byte[] AesCfb(ReadOnlySpan<byte> key, byte[] iv, ReadOnlySpan<byte> input, bool encrypt)
    {
        using var aes = Aes.Create();
        aes.Key = key.ToArray();
        var output = new byte[input.Length];
        Span<byte> register = stackalloc byte[16];
        Span<byte> stream = stackalloc byte[16];
        iv.CopyTo(register);
        for (int off = 0; off < input.Length; off += 16)
        {
            aes.EncryptEcb(register, stream, PaddingMode.None);
            int n = Math.Min(16, input.Length - off);
            for (int i = 0; i < n; i++) output[off + i] = (byte)(input[off + i] ^ stream[i]);
            var feedback = encrypt ? output.AsSpan(off, n) : input.Slice(off, n);
            if (n == 16) feedback.CopyTo(register);
        }
        return output;
    }
}
