using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.Planning;
using SubsetMulticast.Core.ReferenceGroups;

namespace SubsetMulticast.Bier.Delivery;

/// <summary>A member that gets no bit, and why (the same reasons the transactional-group planner gives).</summary>
public sealed record BierIgnored(IpAddress Member, IgnoreReason Reason);

/// <summary>A rendezvous group as BIER: the effective members' BFR-ids and one BitString per SI. Nothing is installed.</summary>
public sealed record BierDelivery(VlanId Vlan, IpAddress Reference, IReadOnlyList<IpAddress> Members, IReadOnlyList<IpAddress> Effective,
    IReadOnlyList<BierIgnored> Ignored, IReadOnlyList<int> BfrIds, int SubDomain, BitStringLength Bsl, IReadOnlyList<SetBitString> Sets);

/// <summary>
/// Delivery chosen per request (<c>"delivery":"bier"</c>): the members are resolved as for transactional-group
/// state (IP → MAC → edge port, kept only when that port is a member port of the reference group, so the
/// ⊆-reference rule holds for BIER too), then written as BitStrings. No switch is touched: the sender puts the
/// BitStrings in its packets' headers.
/// </summary>
public sealed class BierDeliveryPlanner(ReferenceGroupTable references, HostTable hosts, BfrIdTable ids, BitStringLength bsl = BitStringLength.Bits256, int subDomain = 0)
{
    public BitStringLength Bsl { get; } = bsl;
    public int SubDomain { get; } = subDomain;

    public Outcome<BierDelivery> Plan(VlanId vlan, IpAddress reference, IReadOnlyList<IpAddress> members)
    {
        if (members.Count == 0) return new TsmProblem(ProblemKind.EmptyMemberList, "The member list is empty.");
        if (!references.TryGet(vlan, reference, out var refGroup))
            return new TsmProblem(ProblemKind.UnknownReferenceGroup, $"No reference group {reference} on VLAN {vlan.Value}.");
        var effective = new List<IpAddress>();
        var ignored = new List<BierIgnored>();
        var bfrIds = new SortedSet<int>();
        foreach (var ip in members.Distinct())
        {
            if (!hosts.TryResolve(vlan, ip, out var at)) ignored.Add(new BierIgnored(ip, IgnoreReason.UnknownHost));
            else if (!refGroup.HasMemberPort(at.Port.Switch, at.Port.Port)) ignored.Add(new BierIgnored(ip, IgnoreReason.NotInReferenceGroup));
            else { effective.Add(ip); bfrIds.Add(ids.GetOrAdd(vlan, at.Mac)); }
        }
        if (effective.Count == 0)
            return new TsmProblem(ProblemKind.NoMemberInReferenceGroup, $"None of the {members.Count} members is in reference group {reference}.");
        return new BierDelivery(vlan, reference, members, effective, ignored, [.. bfrIds], SubDomain, Bsl, BfrIds.Encode(Bsl, bfrIds));
    }
}
