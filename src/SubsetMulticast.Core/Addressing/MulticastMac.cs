namespace SubsetMulticast.Core.Addressing;

/// <summary>IP group address → Ethernet group MAC (RFC 1112 §6.4; RFC 2464 §7).</summary>
public static class MulticastMac
{
    /// <summary>01:00:5e + low 23 bits for IPv4; 33:33 + low 32 bits for IPv6.</summary>
    public static MacAddress For(IpAddress group)
    {
        if (!group.IsMulticast) throw new ArgumentException($"{group} is not a multicast address.", nameof(group));
        return group.IsV4
            ? new MacAddress(0x01_00_5E_00_00_00UL | (group.V4 & 0x7F_FFFF))
            : new MacAddress(0x33_33_00_00_00_00UL | (uint)group.Low);
    }
}
