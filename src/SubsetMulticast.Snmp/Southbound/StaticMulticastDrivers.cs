using SubsetMulticast.Snmp.Messages;
using SubsetMulticast.Snmp.QBridge;

namespace SubsetMulticast.Snmp.Southbound;

/// <summary>The state a switch holds for one (VLAN, group MAC): its egress ports, or absent.</summary>
public sealed record StaticEntryState(bool Present, uint[] Egress);

/// <summary>
/// The per-vendor seam: how one switch's static multicast entry is written, removed and read back over SNMP.
/// A driver builds varbinds; the adapter sends them (one SET per switch per transaction) and compares the read-back.
/// </summary>
public interface IStaticMulticastDriver
{
    string Name { get; }
    /// <summary>
    /// The SETs, in order, that make the entry hold <paramref name="egress"/> (usually one PDU; IEEE8021 needs two to
    /// create). <paramref name="exists"/>: the switch holds the entry already (a modify).
    /// </summary>
    IReadOnlyList<IReadOnlyList<VarBind>> Install(int vlanIndex, ulong mac, IReadOnlyList<uint> egress, int portCount, bool exists = false);
    IReadOnlyList<IReadOnlyList<VarBind>> Remove(int vlanIndex, ulong mac);
    /// <summary>The objects to GET for a read-back.</summary>
    IReadOnlyList<ObjectIdentifier> ReadBack(int vlanIndex, ulong mac);
    /// <summary>Interprets the read-back's varbinds.</summary>
    StaticEntryState Interpret(IReadOnlyList<VarBind> values);
}

/// <summary>RFC 4363 dot1qStaticMulticastTable: one SET of StaticEgressPorts and Status permanent(3); delete with invalid(2).</summary>
public sealed class QBridgeDriver : IStaticMulticastDriver
{
    public string Name => "q-bridge";

    private static ObjectIdentifier Column(int column, int vlan, ulong mac) =>
        QBridgeOids.StaticMulticastEntry.Append((uint)column).Append(QBridgeOids.StaticIndex(vlan, mac, 0));

    public IReadOnlyList<IReadOnlyList<VarBind>> Install(int vlanIndex, ulong mac, IReadOnlyList<uint> egress, int portCount, bool exists = false) =>
    [[
        new(Column(QBridgeOids.StaticEgressPorts, vlanIndex, mac), SnmpValue.OctetString(PortList.Encode(egress, (portCount + 7) / 8))),
        new(Column(QBridgeOids.StaticStatus, vlanIndex, mac), SnmpValue.Integer(QBridgeOids.StatusPermanent)),
    ]];

    public IReadOnlyList<IReadOnlyList<VarBind>> Remove(int vlanIndex, ulong mac) =>
        [[new(Column(QBridgeOids.StaticStatus, vlanIndex, mac), SnmpValue.Integer(QBridgeOids.StatusInvalid))]];

    public IReadOnlyList<ObjectIdentifier> ReadBack(int vlanIndex, ulong mac) =>
        [Column(QBridgeOids.StaticEgressPorts, vlanIndex, mac), Column(QBridgeOids.StaticStatus, vlanIndex, mac)];

    public StaticEntryState Interpret(IReadOnlyList<VarBind> values)
    {
        if (values.Count != 2 || values[0].Value.Type != SnmpType.OctetString || values[1].Value.Type != SnmpType.Integer
            || values[1].Value.Number == QBridgeOids.StatusInvalid)
            return new(false, []);
        return new(true, PortList.Decode(values[0].Value.Bytes));
    }
}

/// <summary>
/// IEEE8021-Q-BRIDGE-MIB ieee8021QBridgeStaticMulticastTable: index (component, VLAN, MAC, receive port 0), RowStatus.
/// A new row is created with createAndGo, then its egress set explicitly in a second SET, because the MIB contradicts
/// itself on the default (DESCRIPTION all ports, DEFVAL empty). Modify: egress only. Delete: destroy.
/// </summary>
public sealed class Ieee8021QBridgeDriver(uint componentId = 1) : IStaticMulticastDriver
{
    public string Name => "ieee8021-q-bridge";

    private ObjectIdentifier Column(int column, int vlan, ulong mac) =>
        QBridgeOids.IeeeStaticMulticastEntry.Append((uint)column, componentId).Append(QBridgeOids.StaticIndex(vlan, mac, 0));

    public IReadOnlyList<IReadOnlyList<VarBind>> Install(int vlanIndex, ulong mac, IReadOnlyList<uint> egress, int portCount, bool exists = false)
    {
        IReadOnlyList<VarBind> setEgress = [new(Column(QBridgeOids.StaticEgressPorts, vlanIndex, mac), SnmpValue.OctetString(PortList.Encode(egress, (portCount + 7) / 8)))];
        return exists ? [setEgress] : [[new(Column(QBridgeOids.IeeeRowStatus, vlanIndex, mac), SnmpValue.Integer(QBridgeOids.RowCreateAndGo))], setEgress];
    }

    public IReadOnlyList<IReadOnlyList<VarBind>> Remove(int vlanIndex, ulong mac) =>
        [[new(Column(QBridgeOids.IeeeRowStatus, vlanIndex, mac), SnmpValue.Integer(QBridgeOids.RowDestroy))]];

    public IReadOnlyList<ObjectIdentifier> ReadBack(int vlanIndex, ulong mac) =>
        [Column(QBridgeOids.StaticEgressPorts, vlanIndex, mac), Column(QBridgeOids.IeeeRowStatus, vlanIndex, mac)];

    public StaticEntryState Interpret(IReadOnlyList<VarBind> values)
    {
        if (values.Count != 2 || values[0].Value.Type != SnmpType.OctetString || values[1].Value.Type != SnmpType.Integer
            || values[1].Value.Number != QBridgeOids.RowActive)
            return new(false, []);
        return new(true, PortList.Decode(values[0].Value.Bytes));
    }
}
