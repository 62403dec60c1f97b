using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Emulator.Switching;
using SubsetMulticast.Snmp.Agent;
using SubsetMulticast.Snmp.Messages;
using SubsetMulticast.Snmp.QBridge;

namespace SubsetMulticast.Emulator.Snmp;

/// <summary>
/// The MIB one emulated switch serves: system group, BRIDGE-MIB base port table, Q-BRIDGE dot1qTpFdbTable and
/// dot1qTpGroupTable (its MAC learning and IGMP/MLD snooping), a read-write dot1qStaticMulticastTable that is its
/// static-MAC forwarding table (also as IEEE8021-Q-BRIDGE-MIB ieee8021QBridgeStaticMulticastTable), and the LLDP-MIB remote table (its neighbours). dot1qVlanIndex is the VLAN id; VLAN 0
/// (untagged, which the MIB cannot name: its index starts at 1) is shown as VLAN 1, the default VLAN.
/// </summary>
public static class EmulatedSwitchMib
{
    private static readonly ObjectIdentifier System = ObjectIdentifier.Parse("1.3.6.1.2.1.1");

    public static int VlanIndex(VlanId vlan) => vlan.Value == 0 ? 1 : vlan.Value;
    public static VlanId Vlan(int index) => new((ushort)index);

    public static MibTree Build(EmulatedFabric fabric, EmulatedSwitch sw, TimeProvider time)
    {
        long started = time.GetTimestamp();
        var gate = fabric.Gate;
        var store = new EmulatedStaticStore(fabric, sw);
        return new MibTree(
        [
            new ComputedRegion(System, () =>
            [
                new(System.Append(1, 0), SnmpValue.OctetString($"SubsetMulticast emulated switch {sw.Name}")),
                new(System.Append(2, 0), SnmpValue.Object(ObjectIdentifier.Parse("1.3.6.1.4.1.8072.3.2.10"))),
                new(System.Append(3, 0), SnmpValue.TimeTicks((uint)(time.GetElapsedTime(started).TotalMilliseconds / 10))),
                new(System.Append(5, 0), SnmpValue.OctetString(sw.Name)),
                new(System.Append(7, 0), SnmpValue.Integer(2)),
            ]),
            new ComputedRegion(ObjectIdentifier.Parse("1.3.6.1.2.1.17.1"), () =>
            {
                // dot1dBaseBridgeAddress, dot1dBaseNumPorts, dot1dBasePortTable (port → ifIndex = port).
                var mac = new byte[6];
                new MacAddress(sw.BridgeId & 0xFFFF_FFFF_FFFFUL).WriteTo(mac);
                var list = new List<VarBind>
                {
                    new(QBridgeOids.BaseBridgeAddress, SnmpValue.OctetString(mac)),
                    new(QBridgeOids.BaseNumPorts, SnmpValue.Integer(sw.PortCount)),
                };
                for (uint p = 1; p <= sw.PortCount; p++)
                {
                    list.Add(new(QBridgeOids.BasePortTable.Append(1, 1, p), SnmpValue.Integer(p)));
                    list.Add(new(QBridgeOids.BasePortIfIndex.Append(p), SnmpValue.Integer(p)));
                }
                return list;
            }),
            new ComputedRegion(ObjectIdentifier.Parse("1.3.6.1.2.1.17.7.1.2.2"), () =>
            {
                // dot1qTpFdbTable: index (FdbId = VLAN index, MAC); .2 Port, .3 Status learned(3).
                lock (gate)
                    return sw.FdbEntries().SelectMany(e =>
                    {
                        var idx = QBridgeOids.StaticIndex(VlanIndex(e.Vlan), e.Mac.Value, 0)[..7];
                        return new VarBind[]
                        {
                            new(QBridgeOids.TpFdbEntry.Append(2).Append(idx), SnmpValue.Integer(e.Port)),
                            new(QBridgeOids.TpFdbEntry.Append(3).Append(idx), SnmpValue.Integer(3)),
                        };
                    }).ToList();
            }),
            new ComputedRegion(ObjectIdentifier.Parse("1.3.6.1.2.1.17.7.1.2.3"), () =>
            {
                // dot1qTpGroupTable: index (VLAN index, group MAC); .2 EgressPorts (static ∪ learned), .3 Learnt.
                lock (gate)
                {
                    var byMac = new Dictionary<(int, ulong), (SortedSet<uint> Learnt, SortedSet<uint> Egress)>();
                    foreach (var (vlan, group, ports) in sw.SnoopedGroups())
                    {
                        var key = (VlanIndex(vlan), MulticastMac.For(group).Value);
                        if (!byMac.TryGetValue(key, out var e)) byMac[key] = e = ([], []);
                        e.Learnt.UnionWith(ports);
                        e.Egress.UnionWith(ports);
                    }
                    foreach (var (vlan, mac, ports) in sw.StaticMacEntries())
                        if (byMac.TryGetValue((VlanIndex(vlan), mac.Value), out var e)) e.Egress.UnionWith(ports);
                    int octets = (sw.PortCount + 7) / 8;
                    return byMac.SelectMany(kv =>
                    {
                        var idx = QBridgeOids.StaticIndex(kv.Key.Item1, kv.Key.Item2, 0)[..7];
                        return new VarBind[]
                        {
                            new(QBridgeOids.TpGroupEntry.Append(2).Append(idx), SnmpValue.OctetString(PortList.Encode(kv.Value.Egress, octets))),
                            new(QBridgeOids.TpGroupEntry.Append(3).Append(idx), SnmpValue.OctetString(PortList.Encode(kv.Value.Learnt, octets))),
                        };
                    }).ToList();
                }
            }),
            new StaticMulticastRegion(store),
            // The same table through IEEE8021-Q-BRIDGE-MIB (RowStatus), for the ieee8021 driver.
            new IeeeStaticMulticastRegion(store),
            new ComputedRegion(ObjectIdentifier.Parse("1.0.8802.1.1.2.1.4.1"), () =>
            {
                // lldpRemTable: index (TimeMark 0, local port, RemIndex 1); chassis and port ids are locally assigned (7).
                var list = new List<VarBind>();
                for (uint p = 1; p <= sw.PortCount; p++)
                {
                    var (remote, remotePort) = sw.Neighbour(p);
                    if (remote < 0) continue;
                    var name = fabric.Switches[remote].Name;
                    uint[] idx = [0, p, 1];
                    list.Add(new(QBridgeOids.LldpRemEntry.Append(4).Append(idx), SnmpValue.Integer(7)));
                    list.Add(new(QBridgeOids.LldpRemEntry.Append(5).Append(idx), SnmpValue.OctetString(name)));
                    list.Add(new(QBridgeOids.LldpRemEntry.Append(6).Append(idx), SnmpValue.Integer(7)));
                    list.Add(new(QBridgeOids.LldpRemEntry.Append(7).Append(idx), SnmpValue.OctetString(remotePort.ToString(global::System.Globalization.CultureInfo.InvariantCulture))));
                    list.Add(new(QBridgeOids.LldpRemEntry.Append(9).Append(idx), SnmpValue.OctetString(name)));
                }
                return list;
            }),
        ]);
    }

    /// <summary>The switch's static-MAC table as a Q-BRIDGE store; applied under the fabric's gate, so atomic.</summary>
    private sealed class EmulatedStaticStore(EmulatedFabric fabric, EmulatedSwitch sw) : IStaticMulticastStore
    {
        private readonly Dictionary<(int, ulong), uint[]> _forbidden = new();

        public int PortCount => sw.PortCount;

        public IReadOnlyCollection<StaticMulticastRow> Rows()
        {
            lock (fabric.Gate)
                return [.. sw.StaticMacEntries().Select(e => new StaticMulticastRow(VlanIndex(e.Vlan), e.Mac.Value, e.Ports,
                    _forbidden.GetValueOrDefault((VlanIndex(e.Vlan), e.Mac.Value)) ?? []))];
        }

        public bool TryApply(IReadOnlyList<((int Vlan, ulong Mac) Key, StaticMulticastRow? Row)> changes, out string? error)
        {
            error = null;
            lock (fabric.Gate)
            {
                if (sw.FailNextChange is { } reason) { sw.FailNextChange = null; error = reason; return false; }
                foreach (var (key, row) in changes)
                {
                    sw.SetStaticMac(Vlan(key.Vlan), new MacAddress(key.Mac), row?.Egress);
                    if (row is null || row.Forbidden.Length == 0) _forbidden.Remove(key); else _forbidden[key] = row.Forbidden;
                }
            }
            return true;
        }
    }
}
