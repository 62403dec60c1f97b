using SubsetMulticast.Bier.Binding;
using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Bier.Forwarding;
using SubsetMulticast.Bier.Routing;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;

namespace SubsetMulticast.Emulator.Bier;

/// <summary>
/// Transactional subset multicast over BIER (the draft author's idea, issue 11): the BFIR's switch counts the
/// BitStrings its hosts send; once one has been seen <see cref="BitStringBinderOptions.BindAfter"/> times it is
/// bound to a transactional group address and every switch on that BitString's BIER tree gets the tree's
/// egress ports as a transactional entry, so the following packets go as plain multicast to the group (no
/// BitString on the wire, one entry per switch on the tree). An idle binding ages out and its entries go.
/// One SI per send (the BitString must fit one BSL); state is touched under the fabric's lock.
/// </summary>
public sealed class TsmOverBier
{
    private readonly EmulatedFabric _fabric;
    private readonly BierPlane _plane;
    private readonly BitStringBinder _binder;
    private readonly AddressBlock _block;
    private readonly Dictionary<IpAddress, List<(int Switch, VlanId Vlan)>> _installed = [];

    public TsmOverBier(EmulatedFabric fabric, BitStringBinderOptions options, TimeProvider time, string block = "239.254.0.0/24")
    {
        _fabric = fabric;
        _plane = fabric.Bier ?? throw new InvalidOperationException("Enable BIER on the fabric first.");
        _block = AddressBlock.Parse(block);
        _binder = new BitStringBinder(options, time, () => _block.TryAllocate(out var a) ? (true, a) : (false, default), Unbind);
    }

    /// <summary>Switch entries installed now, over every bound BitString.</summary>
    public int InstalledEntries => _installed.Values.Sum(l => l.Count);
    public int Bindings => _installed.Count;

    /// <summary>
    /// Sends one packet from <paramref name="host"/> to <paramref name="members"/>: as BIER until the BitString is
    /// bound, then as UDP to the bound group. Returns how it went and whether this send made the binding.
    /// </summary>
    public (DeliveryReport Report, bool ViaGroup, bool NewlyBound, IpAddress Group) Send(EmulatedHost host, IReadOnlyCollection<EmulatedHost> members, ReadOnlySpan<byte> payload, DeliveryReport? into = null)
    {
        var sets = _plane.Encode(members);
        if (sets.Count != 1) throw new ArgumentException("TSM over BIER binds one SI's BitString; these members span several.", nameof(members));
        var set = sets[0];
        var decision = _binder.Observe(BierPlane.SubDomain, set.Si, set.Bits.Words);
        if (decision.NewlyBound) Install(host, set, decision.Group);
        if (decision.Bound) return (_fabric.SendUdp(host, decision.Group, payload, into), true, decision.NewlyBound, decision.Group);
        return (_fabric.SendBier(host, members, payload, into), false, false, default);
    }

    /// <summary>Ages out idle bindings (their switch entries are removed); returns the addresses freed.</summary>
    public IReadOnlyList<IpAddress> Expire() => _binder.Expire();

    /// <summary>The entries: each switch on the BitString's BIER tree from the sender gets its copies' ports (unless those are its router ports).</summary>
    private void Install(EmulatedHost sender, SetBitString set, IpAddress group)
    {
        var packet = _plane.Frame(sender, set, [])[SubsetMulticast.Bier.Encapsulation.BierFrame.EthernetLength..];
        var walk = BierWalk.Bier(_plane.Domain.Routers, _plane.Graph.LinkCount, _plane.SwitchCount + sender.Index, packet);
        var ports = new SortedDictionary<int, SortedSet<uint>>();
        foreach (var hop in walk.Hops)
        {
            if (hop.From >= _plane.SwitchCount) continue;   // the sender's own hop onto its access link
            if (!ports.TryGetValue(hop.From, out var set2)) ports[hop.From] = set2 = [];
            set2.Add(PortOn(hop.From, hop.Link));
        }
        var list = new List<(int, VlanId)>();
        lock (_fabric.Gate)
            foreach (var (sw, p) in ports)
            {
                // As the planner does (PortsetRule.IsUnregisteredDefault): a switch whose tree ports are its router
                // ports already forwards the unregistered group address there, so it needs no entry.
                if (p.SequenceEqual(_fabric.Switches[sw].RouterPorts.Order())) continue;
                _fabric.Switches[sw].SetTransactional(sender.Vlan, group, [.. p]);
                list.Add((sw, sender.Vlan));
            }
        _installed[group] = list;
    }

    private uint PortOn(int sw, int link)
    {
        foreach (var a in _plane.Graph.Neighbours(sw)) if (a.Link == link) return a.Port;
        throw new InvalidOperationException($"Switch {sw} has no link {link}.");
    }

    private void Unbind(IpAddress group)
    {
        if (_installed.Remove(group, out var list))
            lock (_fabric.Gate)
                foreach (var (sw, vlan) in list) _fabric.Switches[sw].SetTransactional(vlan, group, null);
        _block.Free(group);
    }
}
