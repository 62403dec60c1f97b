using System.Globalization;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.ReferenceGroups;
using SubsetMulticast.Snmp.Client;
using SubsetMulticast.Snmp.Southbound;

namespace SubsetMulticast.Snmp.Fabric;

/// <summary>
/// A fabric the controller reaches only over SNMP. At start it reads every switch's ports (dot1dBasePortIfIndex) and
/// its LLDP-MIB remote table (links where a neighbour's system name is another listed switch and its port id is a
/// number); without LLDP it takes the file's links. Then, every poll interval, each listed reference group's learned
/// ports come from dot1qTpGroupTable and each listed host's edge port from the FDB. Rules go out through
/// <see cref="SnmpSouthbound"/>.
/// </summary>
public sealed class SnmpFabric
{
    private readonly SnmpFabricFile _file;
    private readonly BridgeReader _reader;
    private readonly HashSet<(int, uint)> _linkPorts;

    private SnmpFabric(SnmpFabricFile file, SnmpClient client, FabricTopology topology, IReadOnlyList<SnmpSwitch> switches, bool linksFromLldp)
    {
        _file = file;
        _reader = new BridgeReader(client);
        Topology = topology;
        References = new ReferenceGroupTable(topology);
        Hosts = new HostTable();
        Switches = switches;
        Southbound = new SnmpSouthbound(client, switches);
        LinksFromLldp = linksFromLldp;
        _linkPorts = [.. topology.Links.SelectMany(l => new[] { (l.A.Switch, l.A.Port), (l.B.Switch, l.B.Port) })];
    }

    public FabricTopology Topology { get; }
    public ReferenceGroupTable References { get; }
    public HostTable Hosts { get; }
    public IReadOnlyList<SnmpSwitch> Switches { get; }
    public SnmpSouthbound Southbound { get; }
    public bool LinksFromLldp { get; }
    public VlanId Vlan => _file.Vlan;
    public TimeSpan PollInterval => _file.Poll;

    /// <summary>Reads ports and links; fails (IOException naming the switch) if a switch cannot be read.</summary>
    public static async Task<SnmpFabric> StartAsync(SnmpFabricFile file, SnmpClient client, CancellationToken ct = default)
    {
        var reader = new BridgeReader(client);
        var infos = new List<SwitchInfo>();
        var switches = new List<SnmpSwitch>();
        for (int i = 0; i < file.Switches.Count; i++)
        {
            var sw = file.Switches[i];
            var (ports, error) = await reader.PortsAsync(sw.Target, ct).ConfigureAwait(false);
            if (error is not null) throw new IOException($"switch {sw.Id} ({sw.Target.Endpoint}): {error.Message}");
            if (ports.Count == 0) throw new IOException($"switch {sw.Id} ({sw.Target.Endpoint}) serves no dot1dBasePortTable.");
            infos.Add(new SwitchInfo(i, sw.Id, (ulong)i + 1, [.. ports.Keys]));
            switches.Add(sw with { PortCount = sw.PortCount > 0 ? sw.PortCount : (int)ports.Keys.Max() });
        }
        var links = new List<SwitchLink>();
        var seen = new HashSet<(int, uint)>();
        for (int i = 0; i < switches.Count; i++)
        {
            var (neighbours, error) = await reader.LldpAsync(switches[i].Target, ct).ConfigureAwait(false);
            if (error is not null) continue;
            foreach (var n in neighbours)
            {
                int j = infos.FindIndex(s => s.Id == n.SystemName);
                if (j < 0 || j == i || !uint.TryParse(n.PortId, NumberStyles.None, CultureInfo.InvariantCulture, out uint remote)) continue;
                if (!infos[i].Ports.Contains(n.LocalPort) || !infos[j].Ports.Contains(remote)) continue;
                if (seen.Contains((i, n.LocalPort)) || seen.Contains((j, remote))) continue;
                seen.Add((i, n.LocalPort));
                seen.Add((j, remote));
                links.Add(new SwitchLink(new PortRef(i, n.LocalPort), new PortRef(j, remote)));
            }
        }
        bool fromLldp = links.Count > 0;
        if (!fromLldp)
            foreach (var l in file.Links)
                links.Add(new SwitchLink(new PortRef(infos.FindIndex(s => s.Id == l.SwitchA), l.PortA), new PortRef(infos.FindIndex(s => s.Id == l.SwitchB), l.PortB)));
        FabricTopology topology;
        try { topology = new FabricTopology(infos, links); }
        catch (ArgumentException e) { throw new IOException($"the switch list does not match the switches: {e.Message}", e); }
        return new SnmpFabric(file, client, topology, switches, fromLldp);
    }

    /// <summary>One poll: learned reference-group ports and host locations. Returns the switches that could not be read.</summary>
    public async Task<IReadOnlyList<string>> PollOnceAsync(CancellationToken ct = default)
    {
        var unreachable = new List<string>();
        var wanted = _file.References.ToDictionary(g => MulticastMac.For(g).Value, g => g);
        var hostsByMac = _file.Hosts.ToDictionary(h => h.Mac.Value, h => h);
        var results = await Task.WhenAll(Switches.Select(async (sw, i) =>
        {
            var (groups, ge) = await _reader.LearnedGroupsAsync(sw.Target, ct).ConfigureAwait(false);
            var (fdb, fe) = await _reader.FdbAsync(sw.Target, ct).ConfigureAwait(false);
            return (i, sw, groups, fdb, ok: ge is null && fe is null);
        })).ConfigureAwait(false);
        foreach (var (i, sw, groups, fdb, ok) in results)
        {
            if (!ok) { unreachable.Add(sw.Id); continue; }
            int vlanIndex = sw.VlanIndex(_file.Vlan);
            foreach (var (mac, group) in wanted)
            {
                var g = groups.FirstOrDefault(x => x.VlanIndex == vlanIndex && x.Mac == mac);
                References.SetMemberPorts(_file.Vlan, group, i, g?.Learnt ?? []);
            }
            foreach (var e in fdb)
            {
                // A host is where the FDB has it on an edge port (on a link port it is only reached through that link).
                if ((e.FdbId != vlanIndex && e.FdbId != 0) || _linkPorts.Contains((i, e.Port)) || !hostsByMac.TryGetValue(e.Mac, out var h)) continue;
                Hosts.Learn(new HostLocation(h.Ip, h.Mac, _file.Vlan, new PortRef(i, e.Port)));
            }
        }
        return unreachable;
    }

    /// <summary>Polls every <see cref="PollInterval"/> until cancelled.</summary>
    public async Task RunAsync(TimeProvider time, Action<IReadOnlyList<string>>? onPoll = null, CancellationToken ct = default)
    {
        using var timer = new PeriodicTimer(PollInterval, time);
        try
        {
            do onPoll?.Invoke(await PollOnceAsync(ct).ConfigureAwait(false));
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false));
        }
        catch (OperationCanceledException) { }
    }
}
