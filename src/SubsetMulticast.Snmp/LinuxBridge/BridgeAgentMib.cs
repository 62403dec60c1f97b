using System.Net;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Snmp.Agent;
using SubsetMulticast.Snmp.Messages;
using SubsetMulticast.Snmp.QBridge;

namespace SubsetMulticast.Snmp.LinuxBridge;

/// <summary>
/// The MIB <c>tsm bridge-agent</c> serves for a Linux bridge: dot1dBasePortTable (kernel port numbers → ifIndex),
/// dot1qTpFdbTable (learned fdb), dot1qTpGroupTable (learned, i.e. temp, mdb entries) and a read-write
/// dot1qStaticMulticastTable backed by permanent mdb entries. The testbed kernel has no VLAN filtering, so every
/// entry is VLAN index 1 (the default VLAN). A group MAC inside <see cref="GroupBlock"/> is written as the one IPv4
/// group of that block that maps to it (the kernel forwards IP traffic by IP entries, never by L2 ones); any other
/// group MAC as an L2 entry.
/// </summary>
public sealed class BridgeAgentMib
{
    public const int VlanIndex = 1;
    private readonly LinuxBridgeState _bridge;
    private readonly TimeProvider _time;
    private readonly TimeSpan _cacheFor;
    private (long At, IReadOnlyList<BridgePort> Ports, IReadOnlyList<MdbEntry> Mdb, IReadOnlyList<FdbRecord> Fdb)? _cache;

    public BridgeAgentMib(LinuxBridgeState bridge, (IPAddress Base, int Prefix) groupBlock, TimeProvider? time = null, TimeSpan? cacheFor = null)
    {
        _bridge = bridge;
        GroupBlock = groupBlock;
        _time = time ?? TimeProvider.System;
        _cacheFor = cacheFor ?? TimeSpan.FromMilliseconds(500);
        Store = new MdbStore(this);
        Tree = new MibTree(
        [
            new ComputedRegion(ObjectIdentifier.Parse("1.3.6.1.2.1.17.1"), BaseGroup),
            new ComputedRegion(ObjectIdentifier.Parse("1.3.6.1.2.1.17.7.1.2.2"), FdbTable),
            new ComputedRegion(ObjectIdentifier.Parse("1.3.6.1.2.1.17.7.1.2.3"), GroupTable),
            new StaticMulticastRegion(Store),
        ]);
    }

    public (IPAddress Base, int Prefix) GroupBlock { get; }
    public MibTree Tree { get; }
    public IStaticMulticastStore Store { get; }
    /// <summary>The subtree to register with the master: BRIDGE-MIB dot1dBridge (Q-BRIDGE sits under it).</summary>
    public static readonly ObjectIdentifier Subtree = ObjectIdentifier.Parse("1.3.6.1.2.1.17");

    private (IReadOnlyList<BridgePort> Ports, IReadOnlyList<MdbEntry> Mdb, IReadOnlyList<FdbRecord> Fdb) Read()
    {
        if (_cache is { } c && _time.GetElapsedTime(c.At) < _cacheFor) return (c.Ports, c.Mdb, c.Fdb);
        var fresh = (_time.GetTimestamp(), _bridge.Ports(), _bridge.Mdb(), _bridge.Fdb());
        _cache = fresh;
        return (fresh.Item2, fresh.Item3, fresh.Item4);
    }

    private void Invalidate() => _cache = null;

    private IEnumerable<VarBind> BaseGroup()
    {
        var (ports, _, _) = Read();
        yield return new(QBridgeOids.BaseNumPorts, SnmpValue.Integer(ports.Count));
        foreach (var p in ports)
        {
            yield return new(QBridgeOids.BasePortTable.Append(1, 1, p.Number), SnmpValue.Integer(p.Number));
            yield return new(QBridgeOids.BasePortIfIndex.Append(p.Number), SnmpValue.Integer(p.IfIndex));
        }
    }

    private IEnumerable<VarBind> FdbTable()
    {
        var (ports, _, fdb) = Read();
        var byName = ports.ToDictionary(p => p.Name, p => p.Number);
        foreach (var e in fdb)
        {
            if (!byName.TryGetValue(e.Port, out var n)) continue;
            var idx = QBridgeOids.StaticIndex(VlanIndex, e.Mac, 0)[..7];
            yield return new(QBridgeOids.TpFdbEntry.Append(2).Append(idx), SnmpValue.Integer(n));
            yield return new(QBridgeOids.TpFdbEntry.Append(3).Append(idx), SnmpValue.Integer(3));
        }
    }

    private IEnumerable<VarBind> GroupTable()
    {
        var (ports, mdb, _) = Read();
        var byName = ports.ToDictionary(p => p.Name, p => p.Number);
        int octets = (int)((ports.Count == 0 ? 0 : ports.Max(p => p.Number)) + 7) / 8;
        var groups = new SortedDictionary<ulong, (SortedSet<uint> Egress, SortedSet<uint> Learnt)>();
        foreach (var e in mdb)
        {
            if (!byName.TryGetValue(e.Port, out var n) || !TryGroupMac(e.Group, out ulong mac)) continue;
            if (!groups.TryGetValue(mac, out var g)) groups[mac] = g = ([], []);
            g.Egress.Add(n);
            if (!e.Permanent) g.Learnt.Add(n);
        }
        foreach (var (mac, g) in groups)
        {
            if (g.Learnt.Count == 0) continue;     // only groups the bridge learned (static ones are the static table's)
            var idx = QBridgeOids.StaticIndex(VlanIndex, mac, 0)[..7];
            yield return new(QBridgeOids.TpGroupEntry.Append(2).Append(idx), SnmpValue.OctetString(PortList.Encode(g.Egress, octets)));
            yield return new(QBridgeOids.TpGroupEntry.Append(3).Append(idx), SnmpValue.OctetString(PortList.Encode(g.Learnt, octets)));
        }
    }

    internal static bool TryGroupMac(string group, out ulong mac)
    {
        mac = 0;
        if (MacAddress.TryParse(group, out var m)) { mac = m.Value; return m.IsGroup; }
        if (!IpAddress.TryParse(group, out var ip) || !ip.IsMulticast) return false;
        mac = MulticastMac.For(ip).Value;
        return true;
    }

    /// <summary>The group address to program for a MAC: the block's IPv4 group with those low 23 bits, else the MAC itself.</summary>
    internal string GroupFor(ulong mac)
    {
        if ((mac & 0xFFFF_FF80_0000UL) == 0x01_00_5E_00_00_00UL && GroupBlock.Base.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            var b = GroupBlock.Base.GetAddressBytes();
            uint baseIp = (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
            uint candidate = (baseIp & ~0x7F_FFFFu) | (uint)(mac & 0x7F_FFFF);
            uint mask = GroupBlock.Prefix == 0 ? 0 : uint.MaxValue << (32 - GroupBlock.Prefix);
            if (GroupBlock.Prefix >= 9 && (candidate & mask) == (baseIp & mask))
                return new IPAddress([(byte)(candidate >> 24), (byte)(candidate >> 16), (byte)(candidate >> 8), (byte)candidate]).ToString();
        }
        return new MacAddress(mac).ToString();
    }

    /// <summary>Permanent mdb entries as Q-BRIDGE static rows; applies a SET's rows with undo of what it did on a failure.</summary>
    private sealed class MdbStore(BridgeAgentMib owner) : IStaticMulticastStore
    {
        private readonly Dictionary<(int, ulong), uint[]> _forbidden = new();

        public int PortCount
        {
            get
            {
                var ports = owner.Read().Ports;
                return ports.Count == 0 ? 0 : (int)ports.Max(p => p.Number);
            }
        }

        public IReadOnlyCollection<StaticMulticastRow> Rows()
        {
            var (ports, mdb, _) = owner.Read();
            var byName = ports.ToDictionary(p => p.Name, p => p.Number);
            return [.. mdb.Where(e => e.Permanent && byName.ContainsKey(e.Port) && TryGroupMac(e.Group, out _))
                .GroupBy(e => { TryGroupMac(e.Group, out ulong m); return m; })
                .Select(g => new StaticMulticastRow(VlanIndex, g.Key, [.. g.Select(e => byName[e.Port]).Distinct().Order()],
                    _forbidden.GetValueOrDefault((VlanIndex, g.Key)) ?? []))];
        }

        public bool TryApply(IReadOnlyList<((int Vlan, ulong Mac) Key, StaticMulticastRow? Row)> changes, out string? error)
        {
            error = null;
            owner.Invalidate();
            var (ports, mdb, _) = owner.Read();
            var nameOf = ports.ToDictionary(p => p.Number, p => p.Name);
            var done = new List<(bool Add, string Port, string Group)>();
            try
            {
                foreach (var (key, row) in changes)
                {
                    if (key.Vlan != VlanIndex) throw new IOException($"VLAN {key.Vlan}: this kernel has no VLAN filtering; only VLAN 1 is served.");
                    var existing = mdb.Where(e => e.Permanent && TryGroupMac(e.Group, out ulong m) && m == key.Mac).ToList();
                    string group = existing.Count > 0 ? existing[0].Group : owner.GroupFor(key.Mac);
                    var want = (row?.Egress ?? []).Select(p => nameOf.TryGetValue(p, out var n) ? n : throw new IOException($"no bridge port {p}")).ToHashSet();
                    foreach (var e in existing.Where(e => !want.Contains(e.Port)))
                    {
                        owner._bridge.DelMdb(e.Port, e.Group);
                        done.Add((false, e.Port, e.Group));
                    }
                    foreach (var p in want.Where(p => !existing.Any(e => e.Port == p)).Order())
                    {
                        owner._bridge.AddMdb(p, group);
                        done.Add((true, p, group));
                    }
                    if (row is null || row.Forbidden.Length == 0) _forbidden.Remove(key); else _forbidden[key] = row.Forbidden;
                }
                return true;
            }
            catch (IOException e)
            {
                error = e.Message;
                // Put back what this SET did, newest first, so the bridge is as it was.
                for (int i = done.Count - 1; i >= 0; i--)
                {
                    try
                    {
                        if (done[i].Add) owner._bridge.DelMdb(done[i].Port, done[i].Group);
                        else owner._bridge.AddMdb(done[i].Port, done[i].Group);
                    }
                    catch (IOException) { }
                }
                return false;
            }
            finally { owner.Invalidate(); }
        }
    }
}
