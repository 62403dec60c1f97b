namespace SubsetMulticast.OpenFlow.Protocol;

/// <summary>Names for enum ofp_error_type and its per-type code enums (spec 1.3.5 §7.4.4).</summary>
public static class OfpErrorNames
{
    private static readonly string[] Types =
    [
        "HELLO_FAILED", "BAD_REQUEST", "BAD_ACTION", "BAD_INSTRUCTION", "BAD_MATCH", "FLOW_MOD_FAILED",
        "GROUP_MOD_FAILED", "PORT_MOD_FAILED", "TABLE_MOD_FAILED", "QUEUE_OP_FAILED", "SWITCH_CONFIG_FAILED",
        "ROLE_REQUEST_FAILED", "METER_MOD_FAILED", "TABLE_FEATURES_FAILED",
    ];

    private static readonly string[][] Codes =
    [
        ["INCOMPATIBLE", "EPERM"],
        ["BAD_VERSION", "BAD_TYPE", "BAD_MULTIPART", "BAD_EXPERIMENTER", "BAD_EXP_TYPE", "EPERM", "BAD_LEN",
         "BUFFER_EMPTY", "BUFFER_UNKNOWN", "BAD_TABLE_ID", "IS_SLAVE", "BAD_PORT", "BAD_PACKET", "MULTIPART_BUFFER_OVERFLOW"],
        ["BAD_TYPE", "BAD_LEN", "BAD_EXPERIMENTER", "BAD_EXP_TYPE", "BAD_OUT_PORT", "BAD_ARGUMENT", "EPERM",
         "TOO_MANY", "BAD_QUEUE", "BAD_OUT_GROUP", "MATCH_INCONSISTENT", "UNSUPPORTED_ORDER", "BAD_TAG",
         "BAD_SET_TYPE", "BAD_SET_LEN", "BAD_SET_ARGUMENT"],
        ["UNKNOWN_INST", "UNSUP_INST", "BAD_TABLE_ID", "UNSUP_METADATA", "UNSUP_METADATA_MASK",
         "BAD_EXPERIMENTER", "BAD_EXP_TYPE", "BAD_LEN", "EPERM"],
        ["BAD_TYPE", "BAD_LEN", "BAD_TAG", "BAD_DL_ADDR_MASK", "BAD_NW_ADDR_MASK", "BAD_WILDCARDS",
         "BAD_FIELD", "BAD_VALUE", "BAD_MASK", "BAD_PREREQ", "DUP_FIELD", "EPERM"],
        ["UNKNOWN", "TABLE_FULL", "BAD_TABLE_ID", "OVERLAP", "EPERM", "BAD_TIMEOUT", "BAD_COMMAND", "BAD_FLAGS"],
        ["GROUP_EXISTS", "INVALID_GROUP", "WEIGHT_UNSUPPORTED", "OUT_OF_GROUPS", "OUT_OF_BUCKETS",
         "CHAINING_UNSUPPORTED", "WATCH_UNSUPPORTED", "LOOP", "UNKNOWN_GROUP", "CHAINED_GROUP", "BAD_TYPE",
         "BAD_COMMAND", "BAD_BUCKET", "BAD_WATCH", "EPERM"],
        ["BAD_PORT", "BAD_HW_ADDR", "BAD_CONFIG", "BAD_ADVERTISE", "EPERM"],
        ["BAD_TABLE", "BAD_CONFIG", "EPERM"],
        ["BAD_PORT", "BAD_QUEUE", "EPERM"],
        ["BAD_FLAGS", "BAD_LEN", "EPERM"],
        ["STALE", "UNSUP", "BAD_ROLE"],
        ["UNKNOWN", "METER_EXISTS", "INVALID_METER", "UNKNOWN_METER", "BAD_COMMAND", "BAD_FLAGS", "BAD_RATE",
         "BAD_BURST", "BAD_BAND", "BAD_BAND_VALUE", "OUT_OF_METERS", "OUT_OF_BANDS"],
        ["BAD_TABLE", "BAD_METADATA", "BAD_TYPE", "BAD_LEN", "BAD_ARGUMENT", "EPERM"],
    ];

    public const ushort GroupModFailed = 6;
    public const ushort GroupExists = 0;
    public const ushort UnknownGroup = 8;
    public const ushort BadRequest = 1;
    public const ushort BadRequestBadType = 1;
    public const ushort BadRequestBadLen = 6;
    public const ushort HelloFailed = 0;

    public static string TypeName(ushort type) =>
        type < Types.Length ? Types[type] : type == 0xFFFF ? "EXPERIMENTER" : $"TYPE_{type}";

    public static string CodeName(ushort type, ushort code) =>
        type < Codes.Length && code < Codes[type].Length ? Codes[type][code] : $"CODE_{code}";

    /// <summary>"GROUP_MOD_FAILED/GROUP_EXISTS".</summary>
    public static string Name(ushort type, ushort code) => $"{TypeName(type)}/{CodeName(type, code)}";
}
