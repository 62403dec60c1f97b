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
    /// <summary>The push instruction carries an 8-bit member count (draft §10).</summary>
    public int MaxMembers { get; set; } = 255;

    public LifecycleOptions AddVlan(ushort vlan, string? v4Block, string? v6Block = null)
    {
        Vlans.Add(new VlanBlocks(vlan, v4Block is null ? null : AddressBlock.Parse(v4Block), v6Block is null ? null : AddressBlock.Parse(v6Block)));
        return this;
    }
}
