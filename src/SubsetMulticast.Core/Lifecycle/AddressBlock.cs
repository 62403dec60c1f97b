using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Core.Lifecycle;

/// <summary>
/// A VLAN's block of transactional group addresses. Allocation moves a cursor round the block so that a
/// just-released address is the last to be reused (late datagrams of the old transaction must not reach
/// the new one's members), and a released address can be held down for a while (<see cref="Free(IpAddress, long)"/>):
/// still counted in use, neither allocated nor reservable, until its time has come. Not thread-safe: the
/// lifecycle holds its lock.
/// </summary>
public sealed class AddressBlock
{
    private readonly ulong[] _used;
    private readonly Queue<(int Offset, long ReusableAt)> _heldDown = new();
    private int _cursor;

    public AddressBlock(IpAddress first, int size)
    {
        if (!first.IsMulticast) throw new ArgumentException($"Block start {first} is not a multicast address.", nameof(first));
        if (size is < 1 or > 1 << 23) throw new ArgumentOutOfRangeException(nameof(size), "A block holds 1 .. 2^23 addresses (distinct group MACs).");
        if (!first.Add((ulong)size - 1).IsMulticast) throw new ArgumentException("The block runs past the multicast range.", nameof(size));
        First = first;
        Size = size;
        _used = new ulong[(size + 63) / 64];
    }

    /// <summary>Parses "239.255.0.0/24" or "ff15::7:0/112".</summary>
    public static AddressBlock Parse(string cidr)
    {
        var slash = cidr.IndexOf('/');
        if (slash < 0 || !IpAddress.TryParse(cidr[..slash], out var first) || !int.TryParse(cidr[(slash + 1)..], out var prefix))
            throw new FormatException($"'{cidr}' is not a block like 239.255.0.0/24.");
        int bits = (first.IsV4 ? 32 : 128) - prefix;
        if (bits is < 0 or > 23) throw new FormatException($"'{cidr}': a block is a /{(first.IsV4 ? 9 : 105)} to a /{(first.IsV4 ? 32 : 128)}.");
        // Host bits set ("239.255.0.5/24") is almost always a typo for the block boundary; say so rather than guess.
        ulong low = first.IsV4 ? first.V4 : first.Low;
        if ((low & ((1UL << bits) - 1)) != 0)
            throw new FormatException($"'{cidr}': {first} is not on a /{prefix} boundary.");
        return new AddressBlock(first, 1 << bits);
    }

    public IpAddress First { get; }
    public int Size { get; }
    public int InUse { get; private set; }

    public bool Contains(IpAddress address) =>
        address.IsV4 == First.IsV4 && address.CompareTo(First) >= 0 && address.Subtract(First) < (ulong)Size &&
        (address.IsV4 || address.High == First.High);

    public bool IsUsed(IpAddress address) => Contains(address) && IsUsed(Offset(address));

    /// <summary>Addresses released but still held down.</summary>
    public int HeldDown => _heldDown.Count;

    /// <summary>
    /// Frees <paramref name="address"/> once <paramref name="now"/> passes <paramref name="reusableAt"/> (both in
    /// the same clock's ticks, e.g. <see cref="DateTimeOffset.UtcTicks"/>); releases due by then are freed by the
    /// next <see cref="ReleaseDue"/>. Hold-downs are first in, first out, so callers pass times that do not go back.
    /// </summary>
    public void Free(IpAddress address, long reusableAt)
    {
        if (Contains(address) && IsUsed(Offset(address))) _heldDown.Enqueue((Offset(address), reusableAt));
    }

    /// <summary>Frees every held-down address whose time has come.</summary>
    public void ReleaseDue(long now)
    {
        while (_heldDown.TryPeek(out var h) && h.ReusableAt <= now)
        {
            _heldDown.Dequeue();
            if (IsUsed(h.Offset)) Mark(h.Offset, false);
        }
    }

    /// <summary>True when <paramref name="address"/> is held down (released, not yet reusable).</summary>
    public bool IsHeldDown(IpAddress address)
    {
        if (!Contains(address)) return false;
        int offset = Offset(address);
        foreach (var h in _heldDown) if (h.Offset == offset) return true;
        return false;
    }

    /// <summary>The first address of a run of <paramref name="count"/> free addresses (nothing reserved); false if none.</summary>
    public bool TryFindFreeRun(int count, out IpAddress first)
    {
        int run = 0;
        for (int i = 0; i < Size; i++)
        {
            run = IsUsed(i) ? 0 : run + 1;
            if (run == count) { first = First.Add((ulong)(i - count + 1)); return true; }
        }
        first = default;
        return false;
    }

    public bool TryAllocate(out IpAddress address)
    {
        for (int n = 0; n < Size; n++)
        {
            int i = _cursor;
            _cursor = (_cursor + 1) % Size;
            if (IsUsed(i)) continue;
            Mark(i, true);
            address = First.Add((ulong)i);
            return true;
        }
        address = default;
        return false;
    }

    /// <summary>Takes a specific address; false if it is outside the block or taken.</summary>
    public bool TryReserve(IpAddress address)
    {
        if (!Contains(address) || IsUsed(Offset(address))) return false;
        Mark(Offset(address), true);
        return true;
    }

    /// <summary>
    /// Marks <paramref name="address"/> in use because another controller of the cluster holds it now: unlike
    /// <see cref="TryReserve"/> also when it is held down here (this node released it and its hold-down has not run
    /// out yet, while the other node's had) — the hold-down must not free an address that has a holder again.
    /// </summary>
    public void Claim(IpAddress address)
    {
        if (!Contains(address)) return;
        int offset = Offset(address);
        if (!IsUsed(offset)) { Mark(offset, true); return; }
        if (_heldDown.Count == 0) return;
        int n = _heldDown.Count;
        for (int i = 0; i < n; i++)
        {
            var h = _heldDown.Dequeue();
            if (h.Offset != offset) _heldDown.Enqueue(h);
        }
    }

    public void Free(IpAddress address)
    {
        if (Contains(address) && IsUsed(Offset(address))) Mark(Offset(address), false);
    }

    private int Offset(IpAddress a) => (int)a.Subtract(First);
    private bool IsUsed(int i) => (_used[i >> 6] & (1UL << (i & 63))) != 0;

    private void Mark(int i, bool used)
    {
        if (used) { _used[i >> 6] |= 1UL << (i & 63); InUse++; }
        else { _used[i >> 6] &= ~(1UL << (i & 63)); InUse--; }
    }

    public override string ToString() => $"{First}/{(First.IsV4 ? 32 : 128) - System.Numerics.BitOperations.Log2((uint)Size)}";
}
