using System.Net;
using System.Text;
using SubsetMulticast.Snmp.Messages;
using SubsetMulticast.Snmp.Security;

namespace SubsetMulticast.Snmp.Client;

/// <summary>
/// Where and how to reach one agent. v1/v2c use <see cref="Community"/>; v3 uses <see cref="User"/> at the
/// user's level (or <see cref="Level"/> when set lower). The community is a secret: <see cref="ToString"/> hides it.
/// </summary>
public sealed record SnmpTarget(IPEndPoint Endpoint, SnmpVersion Version)
{
    public string Community { get; init; } = "public";
    public UsmUser? User { get; init; }
    public SecurityLevel? Level { get; init; }
    public string ContextName { get; init; } = "";
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Retransmissions after the first try (net-snmp's <c>-r</c>, default 5; ours 2).</summary>
    public int Retries { get; init; } = 2;
    public int MaxRepetitions { get; init; } = 16;

    internal SecurityLevel EffectiveLevel => Level ?? User?.Level ?? SecurityLevel.NoAuthNoPriv;
    internal byte[] CommunityBytes => Encoding.UTF8.GetBytes(Community);

    public static SnmpTarget V2c(IPEndPoint endpoint, string community) => new(endpoint, SnmpVersion.V2c) { Community = community };
    public static SnmpTarget V3(IPEndPoint endpoint, UsmUser user) => new(endpoint, SnmpVersion.V3) { User = user };

    public override string ToString() => Version == SnmpVersion.V3 ? $"{Endpoint} v3 {User}" : $"{Endpoint} {Version} (community hidden)";
}

/// <summary>Every way a request can fail, typed: callers switch on it, nothing is thrown at them.</summary>
public enum SnmpErrorKind
{
    /// <summary>No valid answer within timeout × (retries + 1).</summary>
    Timeout,
    /// <summary>The agent answered with a non-zero error-status (see <see cref="SnmpError.Status"/>, <see cref="SnmpError.Index"/>).</summary>
    ErrorStatus,
    /// <summary>REPORT usmStatsUnsupportedSecLevels: the user does not exist at this level.</summary>
    UnsupportedSecurityLevel,
    /// <summary>REPORT usmStatsNotInTimeWindows, still after one resynchronisation.</summary>
    NotInTimeWindow,
    /// <summary>REPORT usmStatsUnknownUserNames.</summary>
    UnknownUserName,
    /// <summary>REPORT usmStatsUnknownEngineIDs, still after rediscovery.</summary>
    UnknownEngineId,
    /// <summary>REPORT usmStatsWrongDigests: wrong authentication key or protocol.</summary>
    WrongDigest,
    /// <summary>REPORT usmStatsDecryptionErrors: wrong privacy key or protocol.</summary>
    DecryptionError,
    /// <summary>A REPORT with another counter (e.g. snmpUnknownSecurityModels, snmpInvalidMsgs).</summary>
    OtherReport,
    /// <summary>The request could not be built or sent (socket error, value too large).</summary>
    Transport,
}

public sealed record SnmpError(SnmpErrorKind Kind, string Message)
{
    public SnmpErrorStatus Status { get; init; }
    /// <summary>1-based varbind index for <see cref="SnmpErrorKind.ErrorStatus"/> (RFC 3416 §4.2).</summary>
    public int Index { get; init; }
    /// <summary>For a REPORT: the counter's OID.</summary>
    public ObjectIdentifier? ReportOid { get; init; }
    public override string ToString() => Message;
}

/// <summary>The outcome of one request: a response PDU, or an error.</summary>
public sealed record SnmpResult(SnmpPdu? Response, SnmpError? Error)
{
    public bool Succeeded => Error is null;
    public IReadOnlyList<VarBind> VarBinds => Response?.VarBinds ?? [];
    public static SnmpResult Fail(SnmpError e) => new(null, e);
    public override string ToString() => Succeeded ? string.Join("\n", VarBinds) : "error: " + Error;
}
