namespace SubsetMulticast.Push;

public enum PushVerdict { Accepted, Truncated, Malformed, UnknownKey, BadMac, Replayed }

/// <summary>
/// Authenticates instructions (draft §5.1.2, §12: uniquely identified by sender and sequence, authenticated)
/// and rejects replays with a 64-entry sliding window per (VLAN, sender), as IPsec does (RFC 4303 §3.4.3).
/// The window moves only for instructions whose MAC verified. Thread-safe.
/// </summary>
public sealed class PushVerifier(PushKeyRing keys)
{
    private const int Window = 64;
    private readonly object _gate = new();
    private readonly Dictionary<(ushort Vlan, uint Sender), (ulong Highest, ulong Seen)> _windows = new();

    public PushKeyRing Keys => keys;

    public PushVerdict Verify(ReadOnlySpan<byte> datagram, out PushInstruction instruction, out string? detail)
    {
        instruction = default;
        detail = null;
        try
        {
            if (!PushInstruction.TryRead(datagram, out instruction, out int consumed))
            {
                detail = $"{datagram.Length} bytes is shorter than the instruction's own length";
                return PushVerdict.Truncated;
            }
            if (consumed != datagram.Length)
            {
                detail = $"{datagram.Length - consumed} bytes after the instruction";
                instruction = default;
                return PushVerdict.Malformed;
            }
        }
        catch (PushFormatException e)
        {
            detail = e.Message;
            return PushVerdict.Malformed;
        }
        if (!keys.HasKey(instruction.Vlan, instruction.KeyId))
        {
            detail = $"no key {instruction.KeyId} for VLAN {instruction.Vlan}";
            return PushVerdict.UnknownKey;
        }
        if (!keys.Verify(instruction.Vlan, instruction.KeyId, instruction.SignedBytes, instruction.Mac))
        {
            detail = "MAC does not verify";
            return PushVerdict.BadMac;
        }
        if (!Admit(instruction.Vlan.Value, instruction.SenderId, instruction.Sequence))
        {
            detail = $"sequence {instruction.Sequence} from sender {instruction.SenderId} already seen or too old";
            return PushVerdict.Replayed;
        }
        return PushVerdict.Accepted;
    }

    private bool Admit(ushort vlan, uint sender, ulong sequence)
    {
        if (sequence == 0) return false; // sequences start at 1 so a zeroed field never verifies as fresh
        lock (_gate)
        {
            if (!_windows.TryGetValue((vlan, sender), out var w))
            {
                _windows[(vlan, sender)] = (sequence, 1);
                return true;
            }
            if (sequence > w.Highest)
            {
                ulong shift = sequence - w.Highest;
                ulong seen = shift >= Window ? 0 : w.Seen << (int)shift;
                _windows[(vlan, sender)] = (sequence, seen | 1);
                return true;
            }
            ulong age = w.Highest - sequence;
            if (age >= Window) return false;
            ulong bit = 1UL << (int)age;
            if ((w.Seen & bit) != 0) return false;
            _windows[(vlan, sender)] = (w.Highest, w.Seen | bit);
            return true;
        }
    }
}
