using System.Security.Cryptography;
using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Push;

/// <summary>
/// Per-VLAN HMAC-SHA256 keys, selected by key id so a key can be rolled without a flag day.
/// The MAC is the first 16 bytes of the HMAC (as RFC 4868 truncates HMAC-SHA-256-128).
/// </summary>
public sealed class PushKeyRing
{
    private readonly Dictionary<(ushort Vlan, ushort KeyId), KeyState> _keys = new();

    public PushKeyRing Add(VlanId vlan, ushort keyId, byte[] key)
    {
        if (key.Length < 16) throw new ArgumentException("A push key has at least 16 bytes.", nameof(key));
        _keys[(vlan.Value, keyId)] = new KeyState((byte[])key.Clone());
        return this;
    }

    public bool TrySign(VlanId vlan, ushort keyId, ReadOnlySpan<byte> data, Span<byte> mac16)
    {
        if (!_keys.TryGetValue((vlan.Value, keyId), out var key)) return false;
        Span<byte> full = stackalloc byte[32];
        key.Hmac.Value!.TryComputeHash(data, full, out _);
        full[..PushInstruction.MacLength].CopyTo(mac16);
        return true;
    }

    public bool HasKey(VlanId vlan, ushort keyId) => _keys.ContainsKey((vlan.Value, keyId));

    internal bool Verify(VlanId vlan, ushort keyId, ReadOnlySpan<byte> data, ReadOnlySpan<byte> mac16)
    {
        Span<byte> expected = stackalloc byte[PushInstruction.MacLength];
        return TrySign(vlan, keyId, data, expected) && CryptographicOperations.FixedTimeEquals(expected, mac16);
    }

    /// <summary>
    /// A key with one HMAC instance per thread: the one-shot HashData sets up the key schedule and a native
    /// context on every call, which is over half the cost of MACing a 100-byte instruction.
    /// </summary>
    private sealed class KeyState(byte[] key)
    {
        public ThreadLocal<HMACSHA256> Hmac { get; } = new(() => new HMACSHA256(key));
    }
}
