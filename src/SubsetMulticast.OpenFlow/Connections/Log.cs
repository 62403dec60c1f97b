using Microsoft.Extensions.Logging;

namespace SubsetMulticast.OpenFlow.Connections;

internal static partial class Log
{
    [LoggerMessage(4001, LogLevel.Information, "OpenFlow listener on {Endpoint}")]
    public static partial void Listening(ILogger logger, System.Net.EndPoint? endpoint);

    [LoggerMessage(4002, LogLevel.Information, "Switch {SwitchId} connected from {Remote}: {Ports} ports, {Tables} tables")]
    public static partial void Connected(ILogger logger, string switchId, string remote, int ports, int tables);

    [LoggerMessage(4003, LogLevel.Warning, "OpenFlow session {Session} closed: {Reason}")]
    public static partial void Closed(ILogger logger, string session, string reason);

    [LoggerMessage(4004, LogLevel.Debug, "Switch {SwitchId}: reply for unknown xid {Xid} ({Type})")]
    public static partial void UnknownXid(ILogger logger, string switchId, uint xid, Protocol.OfpType type);

    [LoggerMessage(4005, LogLevel.Warning, "Switch {SwitchId}: unsolicited {Error} xid {Xid}")]
    public static partial void UnsolicitedError(ILogger logger, string switchId, string error, uint xid);

    [LoggerMessage(4006, LogLevel.Warning, "Handshake with {Remote} failed: {Reason}")]
    public static partial void HandshakeFailed(ILogger logger, string remote, string reason);

    [LoggerMessage(4007, LogLevel.Information, "Switch {SwitchId} reconciled: {Added} added, {Removed} removed, {Kept} kept")]
    public static partial void Reconciled(ILogger logger, string switchId, int added, int removed, int kept);

    [LoggerMessage(4008, LogLevel.Warning, "Switch {SwitchId} reconciliation failed: {Reason}")]
    public static partial void ReconcileFailed(ILogger logger, string switchId, string reason);

    [LoggerMessage(4009, LogLevel.Information, "Switch {SwitchId} takes no ONF bundles ({Error}): reconciling with a plain batch")]
    public static partial void NoBundles(ILogger logger, string switchId, string error);

    [LoggerMessage(4010, LogLevel.Information, "Switch {SwitchId} reconciled by {Method}: {Added} added, {Modified} modified, {Removed} removed, {Kept} kept")]
    public static partial void ReconciledBy(ILogger logger, string switchId, string method, int added, int modified, int removed, int kept);
}
