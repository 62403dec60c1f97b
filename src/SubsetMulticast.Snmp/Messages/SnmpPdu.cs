namespace SubsetMulticast.Snmp.Messages;

/// <summary>PDU tags (RFC 3416 §3; RFC 1157 §4.1.6 for the v1 Trap).</summary>
public enum PduType : byte
{
    GetRequest = 0xA0,
    GetNextRequest = 0xA1,
    Response = 0xA2,
    SetRequest = 0xA3,
    TrapV1 = 0xA4,
    GetBulkRequest = 0xA5,
    InformRequest = 0xA6,
    TrapV2 = 0xA7,
    Report = 0xA8,
}

/// <summary>error-status values (RFC 3416 §3).</summary>
public enum SnmpErrorStatus
{
    NoError = 0, TooBig = 1, NoSuchName = 2, BadValue = 3, ReadOnly = 4, GenErr = 5, NoAccess = 6, WrongType = 7,
    WrongLength = 8, WrongEncoding = 9, WrongValue = 10, NoCreation = 11, InconsistentValue = 12,
    ResourceUnavailable = 13, CommitFailed = 14, UndoFailed = 15, AuthorizationError = 16, NotWritable = 17,
    InconsistentName = 18,
}

/// <summary>The fields of an SNMPv1 Trap-PDU (RFC 1157 §4.1.6).</summary>
public sealed record TrapV1Fields(ObjectIdentifier Enterprise, uint AgentAddress, int GenericTrap, int SpecificTrap, uint TimeStamp);

/// <summary>
/// A PDU. For GetBulkRequest, <see cref="ErrorStatus"/> and <see cref="ErrorIndex"/> carry non-repeaters and
/// max-repetitions (RFC 3416 §4.2.3): they share the wire positions. A v1 Trap also has <see cref="Trap"/>.
/// </summary>
public sealed record SnmpPdu(PduType Type, int RequestId, int ErrorStatus, int ErrorIndex, IReadOnlyList<VarBind> VarBinds)
{
    public TrapV1Fields? Trap { get; init; }

    public int NonRepeaters => ErrorStatus;
    public int MaxRepetitions => ErrorIndex;
    public SnmpErrorStatus Status => (SnmpErrorStatus)ErrorStatus;

    public static SnmpPdu Get(int requestId, params IEnumerable<ObjectIdentifier> oids) =>
        new(PduType.GetRequest, requestId, 0, 0, [.. oids.Select(o => new VarBind(o))]);
    public static SnmpPdu GetNext(int requestId, params IEnumerable<ObjectIdentifier> oids) =>
        new(PduType.GetNextRequest, requestId, 0, 0, [.. oids.Select(o => new VarBind(o))]);
    public static SnmpPdu GetBulk(int requestId, int nonRepeaters, int maxRepetitions, params IEnumerable<ObjectIdentifier> oids) =>
        new(PduType.GetBulkRequest, requestId, nonRepeaters, maxRepetitions, [.. oids.Select(o => new VarBind(o))]);
    public static SnmpPdu Set(int requestId, IReadOnlyList<VarBind> varBinds) => new(PduType.SetRequest, requestId, 0, 0, varBinds);
}
