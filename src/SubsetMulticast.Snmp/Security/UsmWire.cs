using System.Security.Cryptography;
using SubsetMulticast.Snmp.Messages;

namespace SubsetMulticast.Snmp.Security;

/// <summary>
/// The USM's outgoing and incoming message steps (RFC 3414 §3.1 generate, §3.2 process) over
/// <see cref="SnmpCodec"/>: digest in place over the whole message with the placeholder zeroed, privacy over
/// the ScopedPDU.
/// </summary>
public static class UsmWire
{
    /// <summary>usmStats counters (SNMP-USER-BASED-SM-MIB), 1.3.6.1.6.3.15.1.1.N.0, reported in REPORT PDUs.</summary>
    public static readonly ObjectIdentifier UsmStats = ObjectIdentifier.Parse("1.3.6.1.6.3.15.1.1");
    public static readonly ObjectIdentifier UnsupportedSecLevels = UsmStats.Append(1, 0);
    public static readonly ObjectIdentifier NotInTimeWindows = UsmStats.Append(2, 0);
    public static readonly ObjectIdentifier UnknownUserNames = UsmStats.Append(3, 0);
    public static readonly ObjectIdentifier UnknownEngineIds = UsmStats.Append(4, 0);
    public static readonly ObjectIdentifier WrongDigests = UsmStats.Append(5, 0);
    public static readonly ObjectIdentifier DecryptionErrors = UsmStats.Append(6, 0);
    /// <summary>snmpUnknownPDUHandlers / snmpInvalidMsgs etc. (SNMP-MPD-MIB 1.3.6.1.6.3.11.2.1.N.0).</summary>
    public static readonly ObjectIdentifier MpdStats = ObjectIdentifier.Parse("1.3.6.1.6.3.11.2.1");

    /// <summary>Builds a v3 datagram at the given level: encrypts the ScopedPDU if asked, then writes the digest in place.</summary>
    public static byte[] Encode(int messageId, int maxSize, SecurityLevel level, bool reportable, string userName, AuthProtocol auth, PrivProtocol priv,
        LocalizedKeys? keys, byte[] engineId, int boots, int time, ReadOnlySpan<byte> contextEngineId, ReadOnlySpan<byte> contextName, SnmpPdu pdu, ulong salt)
    {
        var flags = (reportable ? V3Flags.Reportable : 0)
            | (level >= SecurityLevel.AuthNoPriv ? V3Flags.Auth : 0)
            | (level == SecurityLevel.AuthPriv ? V3Flags.Priv : 0);
        var scoped = SnmpCodec.EncodeScopedPdu(contextEngineId, contextName, pdu);
        byte[] privParams = [];
        if (level == SecurityLevel.AuthPriv)
            scoped = UsmPrivacy.Encrypt(priv, keys!.PrivKey, boots, time, salt, scoped, out privParams);
        int macLen = level >= SecurityLevel.AuthNoPriv ? UsmProtocols.MacLength(auth) : 0;
        var usm = new UsmParameters(engineId, boots, time, userName, new byte[macLen], privParams);
        var bytes = SnmpCodec.EncodeV3(messageId, maxSize, flags, usm, scoped, out int authOffset);
        if (macLen > 0)
        {
            var mac = UsmProtocols.Hmac(auth, keys!.AuthKey, bytes);
            mac.AsSpan(0, macLen).CopyTo(bytes.AsSpan(authOffset));
        }
        return bytes;
    }

    /// <summary>RFC 3414 §3.2 step 6: recompute the digest with the received one zeroed; constant-time compare.</summary>
    public static bool VerifyDigest(AuthProtocol auth, LocalizedKeys keys, ReadOnlySpan<byte> datagram, SnmpMessage message)
    {
        int macLen = UsmProtocols.MacLength(auth);
        var received = message.Usm.AuthParameters;
        if (received.Length != macLen || message.AuthParametersOffset < 0 || message.AuthParametersOffset + macLen > datagram.Length) return false;
        var copy = datagram.ToArray();
        copy.AsSpan(message.AuthParametersOffset, macLen).Clear();
        var mac = UsmProtocols.Hmac(auth, keys.AuthKey, copy);
        return CryptographicOperations.FixedTimeEquals(mac.AsSpan(0, macLen), received);
    }

    /// <summary>Decrypts and decodes the ScopedPDU of a message with privacy; false for a decryptionError.</summary>
    public static bool TryOpen(PrivProtocol priv, LocalizedKeys keys, SnmpMessage message, out SnmpMessage opened)
    {
        opened = message;
        if (message.EncryptedPdu is null) return true;
        if (!UsmPrivacy.TryDecrypt(priv, keys.PrivKey, message.Usm.EngineBoots, message.Usm.EngineTime, message.Usm.PrivParameters, message.EncryptedPdu, out var plain))
            return false;
        var r = SnmpCodec.TryDecodeScopedPdu(plain, out var ce, out var cn, out var pdu);
        if (!r.IsOk) return false;
        opened = message with { ContextEngineId = ce, ContextName = cn, Pdu = pdu, EncryptedPdu = null };
        return true;
    }
}
