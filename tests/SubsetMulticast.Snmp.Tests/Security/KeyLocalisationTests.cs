using System.Text;
using SubsetMulticast.Snmp.Security;

namespace SubsetMulticast.Snmp.Tests.Security;

public class KeyLocalisationTests
{
    private static readonly byte[] EngineId = Convert.FromHexString("000000000000000000000002");

    // RFC 3414 A.3.1 (MD5) and A.3.2 (SHA-1); SHA-2 rows: the usmUser keys net-snmp 5.9.3 stored for the same
    // password and engineID (reference/snmp.md §5, computed outside our code).
    [Theory]
    [InlineData(AuthProtocol.Md5, "9faf3283884e92834ebc9847d8edd963", "526f5eed9fcce26f8964c2930787d82b")]
    [InlineData(AuthProtocol.Sha1, "9fb5cc0381497b3793528939ff788d5d79145211", "6695febc9288e36282235fc7151f128497b38f3f")]
    [InlineData(AuthProtocol.Sha224, null, "0bd8827c6e29f8065e08e09237f177e410f69b90e1782be682075674")]
    [InlineData(AuthProtocol.Sha256, null, "8982e0e549e866db361a6b625d84cccc11162d453ee8ce3a6445c2d6776f0f8b")]
    [InlineData(AuthProtocol.Sha384, null, "3b298f16164a11184279d5432bf169e2d2a48307de02b3d3f7e2b4f36eb6f0455a53689a3937eea07319a633d2ccba78")]
    [InlineData(AuthProtocol.Sha512, null, "22a5a36cedfcc085807a128d7bc6c2382167ad6c0dbc5fdff856740f3d84c099ad1ea87a8db096714d9788bd544047c9021e4229ce27e4c0a69250adfcffbb0b")]
    public void Localize_Maplesyrup_MatchesPublishedKeys(AuthProtocol hash, string? ku, string kul)
    {
        var master = UsmKeys.PasswordToKey(hash, Encoding.ASCII.GetBytes("maplesyrup"));
        if (ku is not null) Assert.Equal(ku, Convert.ToHexStringLower(master));
        Assert.Equal(kul, Convert.ToHexStringLower(UsmKeys.Localize(hash, master, EngineId)));
    }

    [Fact]
    public void Sha224_KnownAnswer_Fips180()
    {
        // FIPS 180-4 example "abc" and the empty string (NIST CSRC example values).
        Assert.Equal("23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7", Convert.ToHexStringLower(Sha224Impl.Hash("abc"u8)));
        Assert.Equal("d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f", Convert.ToHexStringLower(Sha224Impl.Hash([])));
        // Two-block padding boundary (56 octets): "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".
        Assert.Equal("75388b16512776cc5dba5da1fd890150b0c6455cb4f58b1952522525",
            Convert.ToHexStringLower(Sha224Impl.Hash("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"u8)));
    }

    [Fact]
    public void PrivacyKey_Aes256WithSha1_TwoExtensionsDiffer_AndKeepTheLocalizedPrefix()
    {
        var kul = UsmKeys.Localize(AuthProtocol.Sha1, UsmKeys.PasswordToKey(AuthProtocol.Sha1, "maplesyrup"u8), EngineId);
        var blumenthal = UsmKeys.PrivacyKey(AuthProtocol.Sha1, PrivProtocol.Aes256, kul, EngineId);
        var reeder = UsmKeys.PrivacyKey(AuthProtocol.Sha1, PrivProtocol.Aes256C, kul, EngineId);
        Assert.Equal(32, blumenthal.Length);
        Assert.Equal(32, reeder.Length);
        Assert.Equal(kul, blumenthal[..20]);
        Assert.Equal(kul, reeder[..20]);
        Assert.NotEqual(blumenthal[20..], reeder[20..]);
        // Blumenthal: the 12 added octets are H(Kul)'s first 12.
        Assert.Equal(System.Security.Cryptography.SHA1.HashData(kul)[..12], blumenthal[20..]);
        // With SHA-512 no extension happens: both variants are Kul's first 32 octets.
        var kul512 = UsmKeys.Localize(AuthProtocol.Sha512, UsmKeys.PasswordToKey(AuthProtocol.Sha512, "maplesyrup"u8), EngineId);
        Assert.Equal(UsmKeys.PrivacyKey(AuthProtocol.Sha512, PrivProtocol.Aes256, kul512, EngineId), UsmKeys.PrivacyKey(AuthProtocol.Sha512, PrivProtocol.Aes256C, kul512, EngineId));
    }

    [Theory]
    [InlineData(PrivProtocol.Des)]
    [InlineData(PrivProtocol.Aes128)]
    [InlineData(PrivProtocol.Aes256)]
    public void Privacy_RoundTrips_AnyLength(PrivProtocol priv)
    {
        var key = new byte[32];
        for (int i = 0; i < key.Length; i++) key[i] = (byte)(i * 7 + 1);
        var k = key[..UsmProtocols.KeyLength(priv)];
        for (int len = 1; len < 70; len++)
        {
            var plain = Enumerable.Range(0, len).Select(i => (byte)i).ToArray();
            var c = UsmPrivacy.Encrypt(priv, k, 5, 1234, 0x0102030405060708UL + (ulong)len, plain, out var salt);
            Assert.True(UsmPrivacy.TryDecrypt(priv, k, 5, 1234, salt, c, out var back));
            Assert.Equal(plain, back[..len]);
            if (priv != PrivProtocol.Des) Assert.Equal(len, c.Length); // CFB: no padding (RFC 3826 §3.1.3)
        }
    }

    [Fact]
    public void UsmUser_ToString_HidesSecrets()
    {
        var u = new UsmUser("alice", AuthProtocol.Sha256, "authsecret-123", PrivProtocol.Aes128, "privsecret-456");
        Assert.DoesNotContain("secret", u.ToString());
        Assert.DoesNotContain("secret", u.Localize(EngineId).ToString());
    }
}
