using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.Snmp.Client;

namespace SubsetMulticast.Snmp.Southbound;

/// <summary>One switch the SNMP southbound programs: how to reach it, its driver, its port count (for PortList length).</summary>
public sealed record SnmpSwitch(string Id, SnmpTarget Target, IStaticMulticastDriver Driver, int PortCount)
{
    /// <summary>dot1qVlanIndex for a VLAN: untagged (0) is the default VLAN 1, as the MIB's index starts at 1.</summary>
    public int VlanIndex(VlanId vlan) => vlan.Value == 0 ? 1 : vlan.Value;
}

/// <summary>
/// The SNMP southbound (Q-BRIDGE-MIB static multicast). One transaction: every switch gets its SET(s) in parallel, and
/// after each switch's SETs a GET reads the entry back — an agent that acknowledges and ignores a SET (net-snmp's
/// snmp-bridge-mib does) is caught there. If any switch fails, every switch already changed gets the inverse change
/// before the call returns the failure.
/// </summary>
public sealed class SnmpSouthbound(SnmpClient client, IEnumerable<SnmpSwitch> switches) : ISouthbound
{
    private readonly Dictionary<string, SnmpSwitch> _switches = switches.ToDictionary(s => s.Id, StringComparer.Ordinal);

    public string Name => "snmp";

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Dictionary<(int VlanIndex, ulong Mac), GroupRule>> _intended = new(StringComparer.Ordinal);

    public IReadOnlyCollection<SnmpSwitch> Switches => _switches.Values;

    public bool TryGetSwitch(string id, out SnmpSwitch sw) => _switches.TryGetValue(id, out sw!);

    /// <summary>The static multicast rows we intend <paramref name="switchId"/> to hold, by (dot1qVlanIndex, group MAC): what committed transactions wrote.</summary>
    public IReadOnlyDictionary<(int VlanIndex, ulong Mac), GroupRule> IntendedRows(string switchId)
    {
        if (!_intended.TryGetValue(switchId, out var rows)) return new Dictionary<(int, ulong), GroupRule>();
        lock (rows) return new Dictionary<(int, ulong), GroupRule>(rows);
    }

    public async ValueTask<SouthboundResult> ApplyAsync(IReadOnlyList<SwitchChange> changes, CancellationToken cancellationToken)
    {
        var outcomes = await Task.WhenAll(changes.Select(c => ApplyOneAsync(c, cancellationToken).AsTask())).ConfigureAwait(false);
        var failures = outcomes.Where(o => o is not null).Select(o => o!).ToArray();
        if (failures.Length == 0)
        {
            foreach (var c in changes) Record(c);
            return SouthboundResult.Success;
        }
        // Roll back every switch whose change was confirmed; a switch that failed may be half-changed, so it is put back too.
        var undo = changes.Select(c => c.Inverse()).ToList();
        await Task.WhenAll(undo.Select(c => ApplyOneAsync(c, cancellationToken).AsTask())).ConfigureAwait(false);
        return SouthboundResult.Failed(failures);
    }

    /// <summary>Applies and confirms one switch's change; null on success, else the failure.</summary>
    public async ValueTask<SwitchFailure?> ApplyOneAsync(SwitchChange change, CancellationToken ct)
    {
        if (!_switches.TryGetValue(change.SwitchId, out var sw)) return new SwitchFailure(change.SwitchId, "not an SNMP switch of this fabric");
        var rule = change.Next ?? change.Previous;
        if (rule is null) return null;
        int vlan = sw.VlanIndex(rule.Vlan);
        ulong mac = rule.Mac.Value;
        var pdus = change.Next is null ? sw.Driver.Remove(vlan, mac) : sw.Driver.Install(vlan, mac, change.Next.Ports, sw.PortCount, exists: change.Previous is not null);
        foreach (var pdu in pdus)
        {
            var r = await client.SetAsync(sw.Target, pdu, ct).ConfigureAwait(false);
            if (!r.Succeeded) return new SwitchFailure(sw.Id, $"SET refused: {r.Error}");
        }
        var state = await ReadAsync(sw, vlan, mac, ct).ConfigureAwait(false);
        if (state is null) return new SwitchFailure(sw.Id, "read-back failed");
        if (change.Next is null)
            return state.Present ? new SwitchFailure(sw.Id, "the agent acknowledged the delete but still holds the entry") : null;
        if (!state.Present) return new SwitchFailure(sw.Id, "the agent acknowledged the SET but holds no entry (SET ignored)");
        if (!state.Egress.Order().SequenceEqual(change.Next.Ports.Order()))
            return new SwitchFailure(sw.Id, $"the agent acknowledged egress {{{string.Join(',', change.Next.Ports)}}} but holds {{{string.Join(',', state.Egress)}}}");
        return null;
    }

    private void Record(SwitchChange c)
    {
        if (!_switches.TryGetValue(c.SwitchId, out var sw)) return;
        var rows = _intended.GetOrAdd(c.SwitchId, _ => []);
        lock (rows)
        {
            if (c.Previous is { } p) rows.Remove((sw.VlanIndex(p.Vlan), p.Mac.Value));
            if (c.Next is { } n) rows[(sw.VlanIndex(n.Vlan), n.Mac.Value)] = n;
        }
    }

    /// <summary>Reads what a switch holds for (VLAN, MAC); null when the switch could not be read.</summary>
    public async ValueTask<StaticEntryState?> ReadAsync(SnmpSwitch sw, int vlanIndex, ulong mac, CancellationToken ct)
    {
        var r = await client.GetAsync(sw.Target, sw.Driver.ReadBack(vlanIndex, mac), ct).ConfigureAwait(false);
        return r.Succeeded ? sw.Driver.Interpret(r.VarBinds) : null;
    }
}
