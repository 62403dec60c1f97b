using SubsetMulticast.Snmp.Client;
using SubsetMulticast.Snmp.Messages;
using SubsetMulticast.Snmp.QBridge;

namespace SubsetMulticast.Snmp.Southbound;

public sealed record FdbEntry(int FdbId, ulong Mac, uint Port);
public sealed record LearnedGroup(int VlanIndex, ulong Mac, uint[] Egress, uint[] Learnt);
public sealed record LldpNeighbour(uint LocalPort, string ChassisId, string PortId, string SystemName);

/// <summary>What the controller reads from a bridge over SNMP: ports, FDB, learned groups, LLDP neighbours.</summary>
public sealed class BridgeReader(SnmpClient client)
{
    /// <summary>dot1dBasePortIfIndex: bridge port number → ifIndex.</summary>
    public async ValueTask<(IReadOnlyDictionary<uint, int> Ports, SnmpError? Error)> PortsAsync(SnmpTarget t, CancellationToken ct = default)
    {
        var w = await client.WalkAsync(t, QBridgeOids.BasePortIfIndex, ct: ct).ConfigureAwait(false);
        var map = new SortedDictionary<uint, int>();
        foreach (var vb in w.VarBinds)
            if (vb.Oid.Length == QBridgeOids.BasePortIfIndex.Length + 1 && vb.Value.Type == SnmpType.Integer) map[vb.Oid[^1]] = (int)vb.Value.Number;
        return (map, w.Error);
    }

    /// <summary>dot1qTpFdbTable (FdbId, MAC) → port; falls back to the VLAN-unaware dot1dTpFdbTable (FdbId 0) when the Q table is empty.</summary>
    public async ValueTask<(IReadOnlyList<FdbEntry> Entries, SnmpError? Error)> FdbAsync(SnmpTarget t, CancellationToken ct = default)
    {
        var col = QBridgeOids.TpFdbEntry.Append(2);
        var w = await client.WalkAsync(t, col, ct: ct).ConfigureAwait(false);
        var list = new List<FdbEntry>();
        foreach (var vb in w.VarBinds)
            if (vb.Value.Type == SnmpType.Integer && QBridgeOids.TryReadVlanMac(vb.Oid.After(col), out int fdb, out ulong mac) && vb.Oid.Length == col.Length + 7)
                list.Add(new FdbEntry(fdb, mac, (uint)vb.Value.Number));
        if (list.Count > 0 || w.Error is not null) return (list, w.Error);
        var d = await client.WalkAsync(t, QBridgeOids.DTpFdbPort, ct: ct).ConfigureAwait(false);
        foreach (var vb in d.VarBinds)
        {
            var idx = vb.Oid.After(QBridgeOids.DTpFdbPort);
            if (idx.Length != 6 || vb.Value.Type != SnmpType.Integer) continue;
            if (QBridgeOids.TryReadVlanMac([0, .. idx], out _, out ulong mac)) list.Add(new FdbEntry(0, mac, (uint)vb.Value.Number));
        }
        return (list, d.Error);
    }

    /// <summary>dot1qTpGroupTable: (VLAN, group MAC) → egress and learnt PortLists.</summary>
    public async ValueTask<(IReadOnlyList<LearnedGroup> Groups, SnmpError? Error)> LearnedGroupsAsync(SnmpTarget t, CancellationToken ct = default)
    {
        var w = await client.WalkAsync(t, QBridgeOids.TpGroupEntry, ct: ct).ConfigureAwait(false);
        var egress = new Dictionary<(int, ulong), uint[]>();
        var learnt = new Dictionary<(int, ulong), uint[]>();
        foreach (var vb in w.VarBinds)
        {
            var idx = vb.Oid.After(QBridgeOids.TpGroupEntry);
            if (idx.Length != 8 || vb.Value.Type != SnmpType.OctetString || !QBridgeOids.TryReadVlanMac(idx[1..], out int vlan, out ulong mac)) continue;
            (idx[0] == 2 ? egress : idx[0] == 3 ? learnt : null)?.Add((vlan, mac), PortList.Decode(vb.Value.Bytes));
        }
        var groups = egress.Keys.Union(learnt.Keys).Order()
            .Select(k => new LearnedGroup(k.Item1, k.Item2, egress.GetValueOrDefault(k) ?? [], learnt.GetValueOrDefault(k) ?? [])).ToList();
        return (groups, w.Error);
    }

    /// <summary>LLDP-MIB lldpRemTable: local port → remote chassis id, port id, system name.</summary>
    public async ValueTask<(IReadOnlyList<LldpNeighbour> Neighbours, SnmpError? Error)> LldpAsync(SnmpTarget t, CancellationToken ct = default)
    {
        var w = await client.WalkAsync(t, QBridgeOids.LldpRemEntry, ct: ct).ConfigureAwait(false);
        var rows = new SortedDictionary<(uint, uint, uint), string[]>();
        foreach (var vb in w.VarBinds)
        {
            var idx = vb.Oid.After(QBridgeOids.LldpRemEntry);
            if (idx.Length != 4 || vb.Value.Type != SnmpType.OctetString) continue;
            int slot = idx[0] switch { 5 => 0, 7 => 1, 9 => 2, _ => -1 };
            if (slot < 0) continue;
            var key = (idx[1], idx[2], idx[3]);
            if (!rows.TryGetValue(key, out var row)) rows[key] = row = ["", "", ""];
            row[slot] = Text(vb.Value.Bytes);
        }
        return (rows.Select(kv => new LldpNeighbour(kv.Key.Item2, kv.Value[0], kv.Value[1], kv.Value[2])).ToList(), w.Error);
    }

    // LLDP ids are text (locally assigned, interface names) or MACs: printable text as is, else colon-separated hex.
    private static string Text(ReadOnlySpan<byte> b) =>
        b.ToArray().All(c => c is >= 0x20 and < 0x7F) ? System.Text.Encoding.ASCII.GetString(b) : Convert.ToHexString(b);
}
