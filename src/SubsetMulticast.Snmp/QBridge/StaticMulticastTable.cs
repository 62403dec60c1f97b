using SubsetMulticast.Snmp.Agent;
using SubsetMulticast.Snmp.Messages;

namespace SubsetMulticast.Snmp.QBridge;

/// <summary>One dot1qStaticMulticastTable row: (VLAN, group MAC, receive port 0) → egress and forbidden ports.</summary>
public sealed record StaticMulticastRow(int VlanIndex, ulong Mac, uint[] Egress, uint[] Forbidden, int Status = QBridgeOids.StatusPermanent)
{
    public (int, ulong) Key => (VlanIndex, Mac);
}

/// <summary>
/// Where an agent keeps static multicast rows: the emulator's switch table, a Linux bridge's permanent MDB entries.
/// <see cref="TryApply"/> is atomic: it applies every change or, having undone what it did, none.
/// </summary>
public interface IStaticMulticastStore
{
    int PortCount { get; }
    IReadOnlyCollection<StaticMulticastRow> Rows();
    /// <summary>Each change: the row's key and its new value (null to delete).</summary>
    bool TryApply(IReadOnlyList<((int Vlan, ulong Mac) Key, StaticMulticastRow? Row)> changes, out string? error);
}

/// <summary>
/// dot1qStaticMulticastTable (RFC 4363 §6) served from an <see cref="IStaticMulticastStore"/>. A SET may touch any
/// columns of any rows; it is checked whole (types, lengths, ports beyond the bridge, egress ∩ forbidden, receive
/// port 0 only) before the store sees it. Writing a new index creates the row (no RowStatus; StaticEgressPorts
/// defaults to all ports as the MIB says); Status invalid(2) deletes it.
/// </summary>
public sealed class StaticMulticastRegion(IStaticMulticastStore store) : MibRegion
{
    public override ObjectIdentifier Root => QBridgeOids.StaticMulticastEntry;

    public override IReadOnlyList<VarBind> Snapshot() =>
        StaticMulticastRows.Snapshot(store, [QBridgeOids.StaticEgressPorts, QBridgeOids.StaticForbiddenPorts, QBridgeOids.StaticStatus],
            (col, r) => Root.Append((uint)col).Append(QBridgeOids.StaticIndex(r.VlanIndex, r.Mac, 0)),
            (col, r) => SnmpValue.Integer(r.Status));

    public override ISetTransaction? Prepare(IReadOnlyList<VarBind> varBinds, IReadOnlyList<int> indexes, out SetOutcome outcome)
    {
        var current = store.Rows().ToDictionary(r => r.Key);
        var next = new Dictionary<(int, ulong), StaticMulticastRow?>();
        for (int i = 0; i < varBinds.Count; i++)
        {
            var vb = varBinds[i];
            var idx = vb.Oid.After(Root);
            // column, VLAN, 6 MAC octets, receive port
            if (idx.Length != 9 || idx[0] is not (QBridgeOids.StaticEgressPorts or QBridgeOids.StaticForbiddenPorts or QBridgeOids.StaticStatus))
            { outcome = new(SnmpErrorStatus.NotWritable, indexes[i]); return null; }
            if (!QBridgeOids.TryReadVlanMac(idx[1..], out int vlan, out ulong mac) || vlan is < 1 or > 4094 || (mac >> 40 & 1) == 0)
            { outcome = new(SnmpErrorStatus.NoCreation, indexes[i]); return null; }
            // Receive port 0 ("all ports") is the only one this agent keeps (the MIB lets an agent support only 0).
            if (idx[8] != 0) { outcome = new(SnmpErrorStatus.NoCreation, indexes[i]); return null; }
            var key = (vlan, mac);
            if (!next.TryGetValue(key, out var row))
                row = current.TryGetValue(key, out var existing) ? existing
                    : new StaticMulticastRow(vlan, mac, [.. Enumerable.Range(1, store.PortCount).Select(p => (uint)p)], []);
            if (row is null && idx[0] != QBridgeOids.StaticStatus)
            { outcome = new(SnmpErrorStatus.InconsistentValue, indexes[i]); return null; }   // a column of a row deleted earlier in this PDU
            switch (idx[0])
            {
                case QBridgeOids.StaticEgressPorts or QBridgeOids.StaticForbiddenPorts:
                {
                    if (!StaticMulticastRows.TryReadPorts(vb.Value, store.PortCount, out var ports, out var error)) { outcome = new(error, indexes[i]); return null; }
                    row = idx[0] == QBridgeOids.StaticEgressPorts ? row! with { Egress = ports } : row! with { Forbidden = ports };
                    break;
                }
                default:
                {
                    if (vb.Value.Type != SnmpType.Integer) { outcome = new(SnmpErrorStatus.WrongType, indexes[i]); return null; }
                    long s = vb.Value.Number;
                    if (s == QBridgeOids.StatusInvalid) row = null;
                    else if (s is QBridgeOids.StatusPermanent or QBridgeOids.StatusDeleteOnReset) row = (row ?? new StaticMulticastRow(vlan, mac, [.. Enumerable.Range(1, store.PortCount).Select(p => (uint)p)], [])) with { Status = (int)s };
                    else { outcome = new(SnmpErrorStatus.WrongValue, indexes[i]); return null; }   // other(1), deleteOnTimeout(5): not kept
                    break;
                }
            }
            next[key] = row;
        }
        // RFC 4363: egress and forbidden sets are disjoint.
        int k = 0;
        foreach (var (key, row) in next)
        {
            if (row is not null && row.Egress.Intersect(row.Forbidden).Any()) { outcome = new(SnmpErrorStatus.InconsistentValue, indexes[k]); return null; }
            k = Math.Min(k + 1, indexes.Count - 1);
        }
        outcome = SetOutcome.Ok;
        return StaticMulticastRows.Transaction(store, current, next);
    }
}

/// <summary>
/// What the RFC 4363 and the IEEE static multicast tables share over one <see cref="IStaticMulticastStore"/>: the
/// rows in walk order with their port lists encoded, a port-list value checked against the bridge, and the store
/// transaction a checked SET becomes.
/// </summary>
internal static class StaticMulticastRows
{
    /// <summary>
    /// Each column in turn, rows in (VLAN, MAC) order: egress and forbidden port lists as the first two columns, every
    /// other column's value from <paramref name="other"/>.
    /// </summary>
    public static IReadOnlyList<VarBind> Snapshot(IStaticMulticastStore store, int[] columns, Func<int, StaticMulticastRow, ObjectIdentifier> oid,
        Func<int, StaticMulticastRow, SnmpValue> other)
    {
        var rows = store.Rows().OrderBy(r => r.VlanIndex).ThenBy(r => r.Mac).ToList();
        int octets = (store.PortCount + 7) / 8;
        var result = new List<VarBind>(columns.Length * rows.Count);
        for (int c = 0; c < columns.Length; c++)
            foreach (var r in rows)
                result.Add(new VarBind(oid(columns[c], r), c switch
                {
                    0 => SnmpValue.OctetString(PortList.Encode(r.Egress, octets)),
                    1 => SnmpValue.OctetString(PortList.Encode(r.Forbidden, octets)),
                    _ => other(columns[c], r),
                }));
        return result;
    }

    /// <summary>A PortList value: an OCTET STRING of at most 512 octets naming no port beyond the bridge's.</summary>
    public static bool TryReadPorts(SnmpValue value, int portCount, out uint[] ports, out SnmpErrorStatus error)
    {
        ports = [];
        error = SnmpErrorStatus.NoError;
        if (value.Type != SnmpType.OctetString) { error = SnmpErrorStatus.WrongType; return false; }
        ports = PortList.Decode(value.Bytes);
        if (value.Bytes.Length > 512 || ports.Any(p => p > portCount)) { error = SnmpErrorStatus.WrongValue; return false; }
        return true;
    }

    /// <summary>The rows a SET changes (a delete of a row that never was is no change) and their undo.</summary>
    public static ISetTransaction Transaction(IStaticMulticastStore store, Dictionary<(int, ulong), StaticMulticastRow> current,
        Dictionary<(int, ulong), StaticMulticastRow?> next)
    {
        var changes = next.Select(kv => (kv.Key, kv.Value)).Where(c => !(c.Value is null && !current.ContainsKey(c.Key))).ToList();
        var undo = changes.Select(c => (c.Key, current.GetValueOrDefault(c.Key))).ToList();
        return new StoreTransaction(store, changes, undo);
    }

    private sealed class StoreTransaction(IStaticMulticastStore store, List<((int, ulong), StaticMulticastRow?)> changes, List<((int, ulong), StaticMulticastRow?)> undo) : ISetTransaction
    {
        public bool Commit(out string? error) => store.TryApply(changes, out error);
        public bool Undo() => store.TryApply(undo, out _);
    }
}
