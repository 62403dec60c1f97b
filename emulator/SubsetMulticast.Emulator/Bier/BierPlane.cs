using SubsetMulticast.Emulator.Switching;
using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Bier.Encapsulation;
using SubsetMulticast.Bier.Forwarding;
using SubsetMulticast.Bier.Routing;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;

namespace SubsetMulticast.Emulator.Bier;

/// <summary>
/// The fabric as one BIER sub-domain: every switch a BFR, every host a BFER with BFR-id = host index + 1, BIFTs
/// from the fabric's topology. Along the spanning tree by default (the same links L2 forwarding and the
/// transactional-group state use, so the two deliveries can be compared link by link); over every link with
/// ECMP when <c>treeOnly</c> is false (BIER is routed, so blocked ports do not apply to it).
/// </summary>
public sealed class BierPlane
{
    public const int SubDomain = 0;

    internal BierPlane(EmulatedFabric fabric, BitStringLength bsl, bool treeOnly)
    {
        Bsl = bsl;
        SwitchCount = fabric.Switches.Count;
        var hostPorts = fabric.Hosts.Select(h => new PortRef(h.Switch, h.Port)).ToList();
        Graph = BierGraph.FromFabric(fabric.Topology, hostPorts, treeOnly);
        var ids = fabric.Hosts.ToDictionary(h => SwitchCount + h.Index, h => h.Index + 1);
        Domain = BierDomain.Build(Graph, [new BierSubDomain(SubDomain, bsl, ids)], ecmp: !treeOnly);
    }

    public BitStringLength Bsl { get; }
    public BierGraph Graph { get; }
    public BierDomain Domain { get; }
    internal int SwitchCount { get; }

    public int BfrId(EmulatedHost host) => host.Index + 1;
    public BierRouter RouterOf(EmulatedSwitch s) => Domain.Routers[s.Index];
    public BierRouter RouterOf(EmulatedHost h) => Domain.Routers[SwitchCount + h.Index];

    /// <summary>The BitStrings (one per SI) that address <paramref name="members"/>.</summary>
    public IReadOnlyList<SetBitString> Encode(IEnumerable<EmulatedHost> members) => BfrIds.Encode(Bsl, members.Select(BfrId));

    /// <summary>An untagged non-MPLS BIER frame (EtherType 0xAB37) from <paramref name="from"/> carrying <paramref name="payload"/>.</summary>
    public byte[] Frame(EmulatedHost from, SetBitString set, ReadOnlySpan<byte> payload, BierNextProtocol proto = BierNextProtocol.Ipv4, uint entropy = 0)
    {
        var fields = BierHeaderFields.Create(BierFrame.CanonicalBiftId(Bsl, SubDomain, set.Si), Bsl, 64, proto, (ushort)BfrId(from), entropy);
        var frame = new byte[BierFrame.EthernetLength + BierHeader.LengthFor(Bsl) + payload.Length];
        // Point-to-point BFR adjacencies here: the destination MAC is not looked at; broadcast says so.
        int n = BierFrame.WriteEthernet(frame, MacAddress.Broadcast, from.Mac, mpls: false);
        BierHeader.TryWrite(frame.AsSpan(n), fields, set.Bits.Words, out int h);
        payload.CopyTo(frame.AsSpan(n + h));
        return frame;
    }

    /// <summary>Header bytes one BIER copy carries on a link (Ethernet excluded: TSM frames have it too).</summary>
    public int HeaderBytes => BierHeader.LengthFor(Bsl);
}
