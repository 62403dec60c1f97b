namespace SubsetMulticast.OpenFlow.Protocol;

/// <summary>A controller's role on a switch (OpenFlow 1.3 §6.3.5, enum ofp_controller_role).</summary>
public enum ControllerRole : uint
{
    /// <summary>Only asks the current role; the switch changes nothing.</summary>
    NoChange = 0,
    /// <summary>Full access, like every controller of a new connection.</summary>
    Equal = 1,
    /// <summary>Full access; the switch demotes any other master to slave.</summary>
    Master = 2,
    /// <summary>Read-only: state-changing messages are refused with BAD_REQUEST/IS_SLAVE.</summary>
    Slave = 3,
}

/// <summary>
/// OFPT_ROLE_REQUEST (24) and OFPT_ROLE_REPLY (25), 24 bytes: <c>header | role u32 | pad 4 | generation_id u64</c>.
/// For MASTER and SLAVE the switch refuses (ROLE_REQUEST_FAILED/STALE) a generation id older than the last one it
/// saw, compared as a signed 64-bit difference (<see cref="IsStale"/>), so a deposed master cannot take a switch back.
/// </summary>
public abstract record RoleMessage(ControllerRole Role, ulong GenerationId) : OfpMessage
{
    public const int Length = Ofp.HeaderLength + 16;
    protected override int BodyLength => 16;
    protected override void WriteBody(ref SpanWriter w) { w.U32((uint)Role); w.Zero(4); w.U64(GenerationId); }

    internal static (ControllerRole Role, ulong Generation) ReadFields(ref SpanReader r, OfpType type)
    {
        if (r.Remaining != 16) throw new OpenFlowFormatException($"{type} body is {r.Remaining} bytes, expected 16", r.Offset);
        uint role = r.U32("role");
        if (role > (uint)ControllerRole.Slave) throw new OpenFlowFormatException($"{type} role {role} is not 0..3", r.Offset - 4);
        r.Skip(4);
        return ((ControllerRole)role, r.U64("generation_id"));
    }

    /// <summary>The switch's rule: <paramref name="offered"/> is stale when <c>(int64)(offered − cached) &lt; 0</c>.</summary>
    public static bool IsStale(ulong offered, ulong cached) => unchecked((long)(offered - cached)) < 0;
}

public sealed record RoleRequest(ControllerRole Role, ulong GenerationId) : RoleMessage(Role, GenerationId)
{
    public override OfpType Type => OfpType.RoleRequest;
    internal static RoleRequest ReadBody(ref SpanReader r) { var (role, gen) = ReadFields(ref r, OfpType.RoleRequest); return new RoleRequest(role, gen); }
    public override string ToString() => $"ROLE_REQUEST {Role} generation={GenerationId} xid={Xid}";
}

public sealed record RoleReply(ControllerRole Role, ulong GenerationId) : RoleMessage(Role, GenerationId)
{
    public override OfpType Type => OfpType.RoleReply;
    internal static RoleReply ReadBody(ref SpanReader r) { var (role, gen) = ReadFields(ref r, OfpType.RoleReply); return new RoleReply(role, gen); }
    public override string ToString() => $"ROLE_REPLY {Role} generation={GenerationId} xid={Xid}";
}

/// <summary>
/// OFPT_SET_ASYNC (28), 32 bytes: <c>header | packet_in_mask[2] | port_status_mask[2] | flow_removed_mask[2]</c> (u32 each;
/// element 0 applies in the MASTER/EQUAL role, element 1 in SLAVE; bit n = reason n). A cluster's slave
/// controllers ask for packet-ins too, so every node learns the reference groups and hosts from the punts.
/// </summary>
public sealed record SetAsync(uint PacketInMaster, uint PacketInSlave, uint PortStatusMaster, uint PortStatusSlave, uint FlowRemovedMaster, uint FlowRemovedSlave) : OfpMessage
{
    /// <summary>Every packet-in and port-status reason in both roles; flow-removed for the master only (OVS's default for it).</summary>
    public static SetAsync EverythingToSlavesToo() => new(0x7, 0x7, 0x7, 0x7, 0xF, 0);

    public override OfpType Type => OfpType.SetAsync;
    protected override int BodyLength => 24;
    protected override void WriteBody(ref SpanWriter w)
    {
        w.U32(PacketInMaster); w.U32(PacketInSlave); w.U32(PortStatusMaster); w.U32(PortStatusSlave); w.U32(FlowRemovedMaster); w.U32(FlowRemovedSlave);
    }

    internal static SetAsync ReadBody(ref SpanReader r)
    {
        if (r.Remaining != 24) throw new OpenFlowFormatException($"SET_ASYNC body is {r.Remaining} bytes, expected 24", r.Offset);
        return new SetAsync(r.U32(), r.U32(), r.U32(), r.U32(), r.U32(), r.U32());
    }
}
