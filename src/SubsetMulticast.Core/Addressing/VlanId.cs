namespace SubsetMulticast.Core.Addressing;

/// <summary>
/// An 802.1Q VLAN identifier. 0 means "untagged / priority-tagged" (as snooping reports it);
/// 1..4094 are real VLANs; 4095 is reserved by IEEE 802.1Q and rejected.
/// </summary>
public readonly record struct VlanId
{
    public const ushort MaxValue = 4094;

    public VlanId(ushort value)
    {
        if (value > MaxValue) throw new ArgumentOutOfRangeException(nameof(value), $"VLAN {value} is outside 0..{MaxValue}.");
        Value = value;
    }

    public ushort Value { get; }

    public static bool IsValid(int value) => value is >= 0 and <= MaxValue;

    public static implicit operator VlanId(ushort value) => new(value);
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
