using SubsetMulticast.Snmp.Agent;
using SubsetMulticast.Snmp.Messages;

namespace SubsetMulticast.Snmp.QBridge;

/// <summary>
/// IEEE8021-Q-BRIDGE-MIB ieee8021QBridgeStaticMulticastTable over the same store as the RFC 4363 table: index
/// (ComponentId 1, VLAN, MAC, receive port 0); .3/.4 PortLists, .5 StorageType (nonVolatile, read-only here), .6
/// RowStatus. A row is created only by RowStatus createAndGo(4) — with an empty egress set, the MIB's DEFVAL — and
/// removed by destroy(6); a column of a row that does not exist is noCreation (RFC 2579 RowStatus rules).
/// </summary>
public sealed class IeeeStaticMulticastRegion(IStaticMulticastStore store, uint componentId = 1) : MibRegion
{
    public override ObjectIdentifier Root => QBridgeOids.IeeeStaticMulticastEntry;

    public override IReadOnlyList<VarBind> Snapshot() =>
        StaticMulticastRows.Snapshot(store, [3, 4, 5, 6],
            (col, r) => Root.Append((uint)col, componentId).Append(QBridgeOids.StaticIndex(r.VlanIndex, r.Mac, 0)),
            (col, _) => SnmpValue.Integer(col == 5 ? 3 : QBridgeOids.RowActive));

    public override ISetTransaction? Prepare(IReadOnlyList<VarBind> varBinds, IReadOnlyList<int> indexes, out SetOutcome outcome)
    {
        var current = store.Rows().ToDictionary(r => r.Key);
        var next = new Dictionary<(int, ulong), StaticMulticastRow?>();
        for (int i = 0; i < varBinds.Count; i++)
        {
            var vb = varBinds[i];
            var idx = vb.Oid.After(Root);
            if (idx.Length != 10 || idx[1] != componentId || idx[0] is not (3 or 4 or 6)) { outcome = new(SnmpErrorStatus.NotWritable, indexes[i]); return null; }
            if (!QBridgeOids.TryReadVlanMac(idx[2..], out int vlan, out ulong mac) || vlan is < 1 or > 4094 || idx[9] != 0 || (mac >> 40 & 1) == 0)
            { outcome = new(SnmpErrorStatus.NoCreation, indexes[i]); return null; }
            var key = (vlan, mac);
            bool known = next.TryGetValue(key, out var row);
            if (!known) row = current.GetValueOrDefault(key);
            if (idx[0] == 6)
            {
                if (vb.Value.Type != SnmpType.Integer) { outcome = new(SnmpErrorStatus.WrongType, indexes[i]); return null; }
                switch (vb.Value.Number)
                {
                    case QBridgeOids.RowCreateAndGo when row is null: row = new StaticMulticastRow(vlan, mac, [], []); break;
                    case QBridgeOids.RowCreateAndGo: outcome = new(SnmpErrorStatus.InconsistentValue, indexes[i]); return null;
                    case QBridgeOids.RowActive when row is not null: break;
                    case QBridgeOids.RowDestroy: row = null; break;
                    default: outcome = new(SnmpErrorStatus.WrongValue, indexes[i]); return null;   // createAndWait/notInService: not kept
                }
            }
            else
            {
                if (row is null) { outcome = new(SnmpErrorStatus.NoCreation, indexes[i]); return null; }
                if (!StaticMulticastRows.TryReadPorts(vb.Value, store.PortCount, out var ports, out var error)) { outcome = new(error, indexes[i]); return null; }
                row = idx[0] == 3 ? row with { Egress = ports } : row with { Forbidden = ports };
                if (row.Egress.Intersect(row.Forbidden).Any()) { outcome = new(SnmpErrorStatus.InconsistentValue, indexes[i]); return null; }
            }
            next[key] = row;
        }
        outcome = SetOutcome.Ok;
        return StaticMulticastRows.Transaction(store, current, next);
    }
}
