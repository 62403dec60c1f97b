using SubsetMulticast.Snmp.Messages;

namespace SubsetMulticast.Snmp.QBridge;

/// <summary>BRIDGE-MIB (RFC 4188), Q-BRIDGE-MIB (RFC 4363), IEEE8021-Q-BRIDGE-MIB and LLDP-MIB objects we read or write.</summary>
public static class QBridgeOids
{
    /// <summary>dot1dBasePortIfIndex: bridge port → ifIndex.</summary>
    public static readonly ObjectIdentifier BasePortIfIndex = ObjectIdentifier.Parse("1.3.6.1.2.1.17.1.4.1.2");
    public static readonly ObjectIdentifier BasePortTable = ObjectIdentifier.Parse("1.3.6.1.2.1.17.1.4");
    public static readonly ObjectIdentifier BaseNumPorts = ObjectIdentifier.Parse("1.3.6.1.2.1.17.1.2.0");
    public static readonly ObjectIdentifier BaseBridgeAddress = ObjectIdentifier.Parse("1.3.6.1.2.1.17.1.1.0");
    /// <summary>dot1dTpFdbPort (index MAC): the VLAN-unaware FDB.</summary>
    public static readonly ObjectIdentifier DTpFdbPort = ObjectIdentifier.Parse("1.3.6.1.2.1.17.4.3.1.2");
    /// <summary>dot1qTpFdbEntry (index FdbId, MAC): .2 Port, .3 Status.</summary>
    public static readonly ObjectIdentifier TpFdbEntry = ObjectIdentifier.Parse("1.3.6.1.2.1.17.7.1.2.2.1");
    /// <summary>dot1qTpGroupEntry (index VlanIndex, MAC): .2 EgressPorts, .3 Learnt.</summary>
    public static readonly ObjectIdentifier TpGroupEntry = ObjectIdentifier.Parse("1.3.6.1.2.1.17.7.1.2.3.1");
    /// <summary>dot1qStaticMulticastEntry (index VlanIndex, MAC, ReceivePort): .3 StaticEgressPorts, .4 ForbiddenEgressPorts, .5 Status.</summary>
    public static readonly ObjectIdentifier StaticMulticastEntry = ObjectIdentifier.Parse("1.3.6.1.2.1.17.7.1.3.2.1");
    /// <summary>ieee8021QBridgeStaticMulticastEntry (index ComponentId, VlanIndex, MAC, ReceivePort): .3/.4 PortLists, .5 StorageType, .6 RowStatus.</summary>
    public static readonly ObjectIdentifier IeeeStaticMulticastEntry = ObjectIdentifier.Parse("1.3.111.2.802.1.1.4.1.3.2.1");
    /// <summary>lldpRemEntry (index TimeMark, LocalPortNum, RemIndex): .5 ChassisId, .7 PortId, .9 SysName.</summary>
    public static readonly ObjectIdentifier LldpRemEntry = ObjectIdentifier.Parse("1.0.8802.1.1.2.1.4.1.1");
    /// <summary>lldpLocChassisId.</summary>
    public static readonly ObjectIdentifier LldpLocChassisId = ObjectIdentifier.Parse("1.0.8802.1.1.2.1.3.2.0");

    public const int StaticEgressPorts = 3, StaticForbiddenPorts = 4, StaticStatus = 5, IeeeRowStatus = 6, IeeeStorageType = 5;

    /// <summary>dot1qStaticMulticastStatus values (RFC 4363).</summary>
    public const int StatusOther = 1, StatusInvalid = 2, StatusPermanent = 3, StatusDeleteOnReset = 4, StatusDeleteOnTimeout = 5;
    /// <summary>RowStatus values (RFC 2579).</summary>
    public const int RowActive = 1, RowCreateAndGo = 4, RowDestroy = 6;

    /// <summary>The instance suffix (VLAN, six MAC arcs, receive port) of a static multicast row.</summary>
    public static uint[] StaticIndex(int vlanIndex, ulong mac, int receivePort) =>
        [(uint)vlanIndex, (uint)(mac >> 40) & 0xFF, (uint)(mac >> 32) & 0xFF, (uint)(mac >> 24) & 0xFF, (uint)(mac >> 16) & 0xFF, (uint)(mac >> 8) & 0xFF, (uint)mac & 0xFF, (uint)receivePort];

    /// <summary>Reads (VLAN, MAC) from six arcs after a VLAN arc; false when an arc is not an octet.</summary>
    public static bool TryReadVlanMac(ReadOnlySpan<uint> arcs, out int vlan, out ulong mac)
    {
        vlan = 0;
        mac = 0;
        if (arcs.Length < 7) return false;
        vlan = (int)Math.Min(arcs[0], int.MaxValue);
        for (int i = 1; i <= 6; i++)
        {
            if (arcs[i] > 255) return false;
            mac = (mac << 8) | arcs[i];
        }
        return true;
    }
}

/// <summary>
/// PortList (RFC 4363 / RFC 2674): octet 0 holds ports 1–8 and its most significant bit is port 1. Lengths vary by
/// agent (net-snmp's snmp-bridge-mib sends the fewest octets), so lists are compared after zero-padding.
/// </summary>
public static class PortList
{
    public static byte[] Encode(IEnumerable<uint> ports, int minOctets = 0)
    {
        var list = ports.ToList();
        int octets = Math.Max(minOctets, list.Count == 0 ? 0 : (int)((list.Max() + 7) / 8));
        var bytes = new byte[octets];
        foreach (var p in list)
        {
            if (p == 0) throw new ArgumentOutOfRangeException(nameof(ports), "Bridge ports are numbered from 1.");
            bytes[(p - 1) / 8] |= (byte)(0x80 >> (int)((p - 1) % 8));
        }
        return bytes;
    }

    public static uint[] Decode(ReadOnlySpan<byte> list)
    {
        var ports = new List<uint>();
        for (int i = 0; i < list.Length; i++)
            for (int b = 0; b < 8; b++)
                if ((list[i] & (0x80 >> b)) != 0) ports.Add((uint)(i * 8 + b + 1));
        return [.. ports];
    }

    /// <summary>Equal as sets: trailing zero octets do not matter.</summary>
    public static bool SameSet(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        int n = Math.Max(a.Length, b.Length);
        for (int i = 0; i < n; i++)
            if ((i < a.Length ? a[i] : 0) != (i < b.Length ? b[i] : 0)) return false;
        return true;
    }
}
