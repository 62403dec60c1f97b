using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Audit;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.Snmp.Client;
using SubsetMulticast.Snmp.Messages;
using SubsetMulticast.Snmp.QBridge;

namespace SubsetMulticast.Snmp.Southbound;

/// <summary>
/// The SNMP side of the rule audit: walks each switch's static multicast table (dot1qStaticMulticastTable, or the
/// IEEE8021 one for that driver) and compares it with the rows the southbound committed
/// (<see cref="SnmpSouthbound.IntendedRows"/>): a row missing, a row with other egress ports (modified), a row in our
/// address space that nobody intends (extra, only when <paramref name="ownsMac"/> says which MACs are ours — the
/// operator's own rows are never judged). Repair writes each finding through the southbound's own path (SET, then a
/// GET that reads it back); a row the agent acknowledges but does not keep stays reported, marked repair-failed.
/// </summary>
public sealed class SnmpRuleAudit(SnmpSouthbound southbound, SnmpClient client, Func<ulong, bool>? ownsMac = null, TimeProvider? time = null) : IRuleAuditAdapter
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public string Name => "snmp";

    public IReadOnlyList<string> Switches => [.. southbound.Switches.Select(s => s.Id).Order(StringComparer.Ordinal)];

    /// <summary>The MACs of IPv4 groups in <paramref name="block"/> (e.g. 239.255.0.0/16): what the controller allocates from.</summary>
    public static Func<ulong, bool> MacsOfBlock(string block)
    {
        var parts = block.Split('/');
        uint prefix = IpAddress.Parse(parts[0]).V4;
        int len = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        // A group MAC is 01:00:5e + the low 23 bits of the address; the block fixes the top (len − 9) of those 23.
        uint mask23 = len <= 9 ? 0 : (0x7F_FFFFu << (32 - len)) & 0x7F_FFFFu;
        return mac => (mac >> 23) == (0x01_00_5Eu << 1) && ((uint)mac & mask23) == (prefix & mask23);
    }

    public async Task<SwitchAuditReport> AuditAsync(string switchId, bool repair, CancellationToken cancellationToken)
    {
        var startedAt = _time.GetUtcNow();
        long start = _time.GetTimestamp();
        var report = new SwitchAuditReport(switchId, Name, startedAt, TimeSpan.Zero) { RepairRequested = repair };
        var intended = southbound.IntendedRows(switchId);
        if (!southbound.TryGetSwitch(switchId, out var sw)) return Unverifiable(report, intended, "not an SNMP switch of this fabric", start);
        var (observed, error) = await ReadTableAsync(sw, intended, cancellationToken).ConfigureAwait(false);
        if (observed is null) return Unverifiable(report, intended, error ?? "read failed", start);

        var findings = new List<(RuleAuditItem Item, SwitchChange Fix)>();
        int matched = 0;
        foreach (var (key, rule) in intended.OrderBy(k => k.Key))
        {
            if (!observed.TryGetValue(key, out var have))
                findings.Add((Item(RuleAuditCategory.Missing, key, rule.Ports, null), new SwitchChange(switchId, null, rule)));
            else if (!have.Order().SequenceEqual(rule.Ports.Order()))
                findings.Add((Item(RuleAuditCategory.Modified, key, rule.Ports, have), new SwitchChange(switchId, rule with { Ports = have }, rule)));
            else matched++;
        }
        if (ownsMac is not null)
            foreach (var (key, have) in observed.OrderBy(k => k.Key))
                if (!intended.ContainsKey(key) && ownsMac(key.Mac))
                    findings.Add((Item(RuleAuditCategory.Extra, key, null, have), new SwitchChange(switchId, RuleFor(key, have), null)));

        var items = findings.Select(f => f.Item).ToList();
        string? repairResult = null;
        if (repair && findings.Count > 0)
        {
            int failed = 0;
            for (int i = 0; i < findings.Count; i++)
            {
                var failure = await southbound.ApplyOneAsync(findings[i].Fix, cancellationToken).ConfigureAwait(false);
                items[i] = items[i] with { Action = failure is null ? RuleAuditAction.Repaired : RuleAuditAction.RepairFailed };
                if (failure is not null) failed++;
            }
            repairResult = failed == 0 ? "set and read back" : $"{failed} of {findings.Count} not kept by the agent";
        }
        else if (repair) repairResult = "nothing to repair";
        return report.WithItems(items, matched, intended.Count, observed.Count) with { Duration = _time.GetElapsedTime(start), RepairResult = repairResult };
    }

    /// <summary>
    /// The switch's rows by (VLAN index, MAC) with their egress ports: a walk of the table's egress column for the two
    /// standard drivers; for any other driver, a read-back of each intended row (rows nobody intends cannot be seen).
    /// </summary>
    private async Task<(Dictionary<(int VlanIndex, ulong Mac), IReadOnlyList<uint>>? Rows, string? Error)> ReadTableAsync(SnmpSwitch sw,
        IReadOnlyDictionary<(int VlanIndex, ulong Mac), GroupRule> intended, CancellationToken ct)
    {
        var rows = new Dictionary<(int VlanIndex, ulong Mac), IReadOnlyList<uint>>();
        (ObjectIdentifier Root, int IndexSkip)? table = sw.Driver switch
        {
            QBridgeDriver => (QBridgeOids.StaticMulticastEntry.Append((uint)QBridgeOids.StaticEgressPorts), 0),
            Ieee8021QBridgeDriver => (QBridgeOids.IeeeStaticMulticastEntry.Append(3u), 1),
            _ => null,
        };
        if (table is { } t)
        {
            var walk = await client.WalkAsync(sw.Target, t.Root, 100_000, ct).ConfigureAwait(false);
            if (walk.Error is not null) return (null, $"walk of the static multicast table failed: {walk.Error}");
            foreach (var vb in walk.VarBinds)
            {
                if (vb.Value.Type != SnmpType.OctetString) continue;
                var arcs = vb.Oid.After(t.Root);
                if (arcs.Length < t.IndexSkip + 7 || !QBridgeOids.TryReadVlanMac(arcs[t.IndexSkip..], out int vlan, out ulong mac)) continue;
                rows[(vlan, mac)] = PortList.Decode(vb.Value.Bytes);
            }
            return (rows, null);
        }
        foreach (var key in intended.Keys)
        {
            var state = await southbound.ReadAsync(sw, key.VlanIndex, key.Mac, ct).ConfigureAwait(false);
            if (state is null) return (null, "read-back failed");
            if (state.Present) rows[key] = state.Egress;
        }
        return (rows, null);
    }

    /// <summary>A rule that names the row (VLAN index, MAC): an IPv4 group with that MAC's low 23 bits.</summary>
    private static GroupRule RuleFor((int VlanIndex, ulong Mac) key, IReadOnlyList<uint> ports) =>
        new(new VlanId((ushort)(key.VlanIndex == 1 ? 0 : key.VlanIndex)), IpAddress.FromV4(0xE000_0000u | ((uint)key.Mac & 0x7F_FFFFu)), [.. ports]);

    private static RuleAuditItem Item(RuleAuditCategory category, (int VlanIndex, ulong Mac) key, IReadOnlyList<uint>? want, IReadOnlyList<uint>? have) =>
        new(category, "static-multicast", $"vlan {key.VlanIndex} {new MacAddress(key.Mac)}", want is null ? null : Ports(want), have is null ? null : Ports(have));

    private static string Ports(IReadOnlyList<uint> ports) => "egress=" + string.Join(',', ports.Order());

    private SwitchAuditReport Unverifiable(SwitchAuditReport report, IReadOnlyDictionary<(int VlanIndex, ulong Mac), GroupRule> intended, string error, long start)
    {
        var items = intended.OrderBy(k => k.Key).Select(kv => Item(RuleAuditCategory.Unverifiable, kv.Key, kv.Value.Ports, null)).ToList();
        return report.WithItems(items, 0, items.Count, 0) with { Duration = _time.GetElapsedTime(start), Error = error };
    }
}
