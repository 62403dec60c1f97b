namespace SubsetMulticast.OpenFlow;

/// <summary>
/// Every cookie space the controller writes flows in, in one table: the high 16 bits of a flow's cookie say
/// whose it is, so that each owner reads, reconciles and deletes only its own (OFPFF cookie + mask), and a flow of
/// another controller (or of the operator) is never touched. A new kind of flow gets a new row here.
/// </summary>
public static class CookieSpaces
{
    /// <summary>"SM": the southbound's group rules (one flow per group and switch), reconciled on connect.</summary>
    public const ushort GroupRules = 0x534D;

    /// <summary>"SN": the punt flows (IGMP/MLD, ARP/ND to the controller and NORMAL; LLDP to the controller).</summary>
    public const ushort PuntFlows = 0x534E;

    /// <summary>"SU": per transactional block, addresses without a rule of their own go to the router ports.</summary>
    public const ushort UnregisteredGroups = 0x5355;

    /// <summary>The mask that selects a space: the high 16 bits.</summary>
    public const ulong Mask = 0xFFFF_0000_0000_0000UL;

    /// <summary>The first cookie of a space (its prefix in the high 16 bits, the rest zero).</summary>
    public static ulong Base(ushort prefix) => (ulong)prefix << 48;

    /// <summary>The space a cookie belongs to.</summary>
    public static ushort PrefixOf(ulong cookie) => (ushort)(cookie >> 48);

    /// <summary>Every row of the table (prefix, owner), for tests and diagnostics.</summary>
    public static IReadOnlyList<(ushort Prefix, string Owner)> All { get; } =
    [
        (GroupRules, "group rules (OpenFlowSouthbound)"),
        (PuntFlows, "punt flows (FabricDiscovery)"),
        (UnregisteredGroups, "unregistered-group flows (UnregisteredGroupFlows)"),
    ];

    /// <summary>The high byte of the group ids the southbound allocates ("S"); group ids are a space of their own.</summary>
    public const byte GroupIdPrefix = 0x53;
}
