using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Core.Lifecycle;

/// <summary>A VLAN that may carry transactional groups, with its address blocks (either may be absent).</summary>
public sealed record VlanBlocks(VlanId Vlan, AddressBlock? V4, AddressBlock? V6)
{
    public AddressBlock? For(IpAddress reference) => reference.IsV4 ? V4 : V6;
}

public sealed class LifecycleOptions
{
    /// <summary>The isolated VLANs of draft §12 and their blocks; requests for any other VLAN are refused.</summary>
    public List<VlanBlocks> Vlans { get; } = [];
    public TimeSpan DefaultTtl { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan MaxTtl { get; set; } = TimeSpan.FromHours(1);
    /// <summary>
    /// How long a released address stays out of use after every switch confirmed the release. A barrier reply
    /// says the flow table changed, not that the switch's fast path forgot the rule: Open vSwitch's datapath
    /// flow cache kept forwarding a deleted group for up to 4.4 ms after the barrier on a quiet machine (issue 14),
    /// and for more than 25 ms in 1 of 1,000 trials on a machine at load 50 (its revalidator threads starved).
    /// OVS revalidates every datapath flow at least every other_config:max-revalidator (500 ms) whether or not a
    /// change woke it, so 500 ms is the bound that does not depend on the scheduler. Until the hold-down ends the
    /// address is neither allocated nor reservable, so a late datagram of the old group can never follow the new
    /// group's ports — nor the new group's first datagrams the old group's. Allocation rotates through the block,
    /// so the hold-down costs nothing unless a block turns over faster than this.
    /// </summary>
    public TimeSpan ReleaseHoldDown { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Group ids are this prefix and a hex counter. Controllers of one cluster share a store, so each has its own
    /// prefix (<c>rg-{node}-</c>) and no two of them hand out one id.
    /// </summary>
    public string IdPrefix { get; set; } = "rg-";

    /// <summary>The push instruction carries an 8-bit member count (draft §10).</summary>
    public int MaxMembers { get; set; } = 255;

    public LifecycleOptions AddVlan(ushort vlan, string? v4Block, string? v6Block = null)
    {
        Vlans.Add(new VlanBlocks(vlan, v4Block is null ? null : AddressBlock.Parse(v4Block), v6Block is null ? null : AddressBlock.Parse(v6Block)));
        return this;
    }
}
