using System.Security.Cryptography;
using System.Text;
using SubsetMulticast.Snmp.Messages;
using SubsetMulticast.Snmp.Security;

namespace SubsetMulticast.Snmp.Agent;

/// <summary>What an agent accepts: communities (v1/v2c) and USM users (v3, all read-write), its engine identity.</summary>
public sealed class SnmpAgentOptions
{
    /// <summary>snmpEngineID (RFC 3411 §5): 5–32 octets. Default: enterprise-format, random (like net-snmp's 80 00 1F 88 80 …).</summary>
    public byte[] EngineId { get; init; } = [0x80, 0x00, 0x1F, 0x88, 0x80, .. RandomNumberGenerator.GetBytes(8)];
    public int EngineBoots { get; init; } = 1;
    public string? ReadCommunity { get; init; } = "public";
    public string? WriteCommunity { get; init; } = "private";
    public IReadOnlyList<UsmUser> Users { get; init; } = [];
    /// <summary>Largest response we build (msgMaxSize of v3 requests lowers it further).</summary>
    public int MaxResponseSize { get; init; } = 65_507;
}

/// <summary>Counters of what the agent refused (the SNMPv2-MIB and SNMP-USER-BASED-SM-MIB counters it reports).</summary>
public sealed class SnmpAgentCounters
{
    public long Malformed, BadCommunity, BadVersion, UnknownEngineIds, UnknownUserNames, UnsupportedSecLevels, WrongDigests, NotInTimeWindows, DecryptionErrors, Requests, Sets;
}

/// <summary>
/// The agent side of SNMP: one datagram in, at most one datagram out (null = drop silently, as RFC 3414 §3.2 and
/// RFC 1157 §4.1 require for what cannot be answered). v1/v2c by community; v3 by USM with discovery REPORTs,
/// a 150-s time window (RFC 3414 §3.2 step 7), and REPORTs for unknown users, wrong digests, decryption errors.
/// Nothing reaches the MIB before the message is authentic, so a refused message changes no state.
/// </summary>
public sealed class SnmpAgent
{
    private const int TimeWindowSeconds = 150;
    private readonly SnmpAgentOptions _options;
    private readonly MibTree _mib;
    private readonly TimeProvider _time;
    private readonly long _started;
    private readonly Dictionary<string, (UsmUser User, LocalizedKeys Keys)> _users;
    private long _salt = BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8));

    public SnmpAgent(SnmpAgentOptions options, MibTree mib, TimeProvider? time = null)
    {
        if (options.EngineId.Length is < 5 or > 32) throw new ArgumentException("An engineID has 5 to 32 octets.", nameof(options));
        _options = options;
        _mib = mib;
        _time = time ?? TimeProvider.System;
        _started = _time.GetTimestamp();
        _users = options.Users.ToDictionary(u => u.Name, u => (u, u.Localize(options.EngineId)), StringComparer.Ordinal);
    }

    public SnmpAgentCounters Counters { get; } = new();
    public byte[] EngineId => _options.EngineId;
    public int EngineBoots => _options.EngineBoots;
    public int EngineTime => (int)Math.Min(int.MaxValue, (long)_time.GetElapsedTime(_started).TotalSeconds);
    public MibTree Mib => _mib;

    /// <summary>Handles one request datagram; returns the response datagram or null to drop.</summary>
    public byte[]? Handle(ReadOnlySpan<byte> datagram)
    {
        if (!SnmpCodec.TryDecode(datagram, out var m).IsOk) { Interlocked.Increment(ref Counters.Malformed); return null; }
        try
        {
            return m!.Version == SnmpVersion.V3 ? HandleV3(datagram, m) : HandleCommunity(m);
        }
        catch (CryptographicException)
        {
            Interlocked.Increment(ref Counters.DecryptionErrors);
            return null;
        }
    }

    private byte[]? HandleCommunity(SnmpMessage m)
    {
        var community = Encoding.UTF8.GetString(m.Community);
        bool write = _options.WriteCommunity is { } w && CryptographicOperations.FixedTimeEquals(m.Community, Encoding.UTF8.GetBytes(w));
        bool read = write || (_options.ReadCommunity is { } r && CryptographicOperations.FixedTimeEquals(m.Community, Encoding.UTF8.GetBytes(r)));
        if (!read) { Interlocked.Increment(ref Counters.BadCommunity); return null; }   // RFC 1157 §4.1: discard (a trap would go here)
        _ = community;
        var response = Process(m.Pdu!, m.Version, write, _options.MaxResponseSize - 64 - m.Community.Length);
        return response is null ? null : SnmpCodec.EncodeCommunity(m.Version, m.Community, response);
    }

    private byte[]? HandleV3(ReadOnlySpan<byte> datagram, SnmpMessage m)
    {
        if (m.SecurityModel != 3) return null;
        bool reportable = (m.Flags & V3Flags.Reportable) != 0;
        var usm = m.Usm;
        int requestId = m.Pdu?.RequestId ?? 0;

        // RFC 3414 §3.2 step 3: unknown engineID → usmStatsUnknownEngineIDs (this is also discovery).
        if (!usm.EngineId.AsSpan().SequenceEqual(_options.EngineId))
        {
            Interlocked.Increment(ref Counters.UnknownEngineIds);
            return reportable ? Report(m, requestId, UsmWire.UnknownEngineIds, Counters.UnknownEngineIds, null) : null;
        }
        // Step 4: unknown user.
        if (!_users.TryGetValue(usm.UserName, out var entry))
        {
            Interlocked.Increment(ref Counters.UnknownUserNames);
            return reportable ? Report(m, requestId, UsmWire.UnknownUserNames, Counters.UnknownUserNames, null) : null;
        }
        var level = (m.Flags & V3Flags.Priv) != 0 ? SecurityLevel.AuthPriv : (m.Flags & V3Flags.Auth) != 0 ? SecurityLevel.AuthNoPriv : SecurityLevel.NoAuthNoPriv;
        // Step 5: a level the user has no keys for.
        if (level > entry.User.Level)
        {
            Interlocked.Increment(ref Counters.UnsupportedSecLevels);
            return reportable ? Report(m, requestId, UsmWire.UnsupportedSecLevels, Counters.UnsupportedSecLevels, null) : null;
        }
        if (level >= SecurityLevel.AuthNoPriv)
        {
            // Step 6: digest.
            if (!UsmWire.VerifyDigest(entry.User.Auth, entry.Keys, datagram, m))
            {
                Interlocked.Increment(ref Counters.WrongDigests);
                return reportable ? Report(m, requestId, UsmWire.WrongDigests, Counters.WrongDigests, null) : null;
            }
            // Step 7: the time window; the report is authenticated so the manager can trust our boots and time.
            int now = EngineTime;
            if (usm.EngineBoots != _options.EngineBoots || usm.EngineBoots == int.MaxValue || Math.Abs((long)usm.EngineTime - now) > TimeWindowSeconds)
            {
                Interlocked.Increment(ref Counters.NotInTimeWindows);
                return reportable ? Report(m, requestId, UsmWire.NotInTimeWindows, Counters.NotInTimeWindows, entry) : null;
            }
        }
        // Step 8: privacy.
        if (level == SecurityLevel.AuthPriv)
        {
            if (!UsmWire.TryOpen(entry.User.Priv, entry.Keys, m, out var opened))
            {
                Interlocked.Increment(ref Counters.DecryptionErrors);
                return reportable ? Report(m, requestId, UsmWire.DecryptionErrors, Counters.DecryptionErrors, null) : null;
            }
            m = opened;
        }
        var pdu = m.Pdu!;
        if (m.ContextEngineId.Length > 0 && !m.ContextEngineId.AsSpan().SequenceEqual(_options.EngineId)) return null;
        // Writes need authentication; a noAuthNoPriv user may only read.
        var response = Process(pdu, SnmpVersion.V3, write: level >= SecurityLevel.AuthNoPriv, Math.Min(m.MaxSize, _options.MaxResponseSize) - 200);
        if (response is null) return null;
        return UsmWire.Encode(m.MessageId, _options.MaxResponseSize, level, reportable: false, entry.User.Name, entry.User.Auth, entry.User.Priv, entry.Keys,
            _options.EngineId, _options.EngineBoots, EngineTime, _options.EngineId, m.ContextName, response, unchecked((ulong)Interlocked.Increment(ref _salt)));
    }

    private byte[] Report(SnmpMessage request, int requestId, ObjectIdentifier counter, long value, (UsmUser User, LocalizedKeys Keys)? authenticateAs)
    {
        var pdu = new SnmpPdu(PduType.Report, requestId, 0, 0, [new VarBind(counter, SnmpValue.Counter32((uint)value))]);
        if (authenticateAs is { } a)
            return UsmWire.Encode(request.MessageId, _options.MaxResponseSize, SecurityLevel.AuthNoPriv, false, a.User.Name, a.User.Auth, PrivProtocol.None, a.Keys,
                _options.EngineId, _options.EngineBoots, EngineTime, _options.EngineId, [], pdu, 0);
        return UsmWire.Encode(request.MessageId, _options.MaxResponseSize, SecurityLevel.NoAuthNoPriv, false, request.Usm.UserName, AuthProtocol.None, PrivProtocol.None, null,
            _options.EngineId, _options.EngineBoots, EngineTime, _options.EngineId, [], pdu, 0);
    }

    /// <summary>Answers one PDU (RFC 3416 §4.2; v1 error mapping per RFC 3584 §4.4). Null for PDUs that get no answer.</summary>
    private SnmpPdu? Process(SnmpPdu pdu, SnmpVersion version, bool write, int budget)
    {
        Interlocked.Increment(ref Counters.Requests);
        bool v1 = version == SnmpVersion.V1;
        var vbs = pdu.VarBinds;
        switch (pdu.Type)
        {
            case PduType.GetRequest:
            {
                var result = new List<VarBind>(vbs.Count);
                lock (_mib.Gate)
                    for (int i = 0; i < vbs.Count; i++)
                    {
                        var v = _mib.Get(vbs[i].Oid);
                        if (v1 && v.IsException) return Error(pdu, SnmpErrorStatus.NoSuchName, i + 1);
                        result.Add(new VarBind(vbs[i].Oid, v));
                    }
                return Fit(pdu, result, budget);
            }
            case PduType.GetNextRequest:
            {
                var result = new List<VarBind>(vbs.Count);
                lock (_mib.Gate)
                    for (int i = 0; i < vbs.Count; i++)
                    {
                        var next = _mib.GetNext(vbs[i].Oid);
                        if (next is null)
                        {
                            if (v1) return Error(pdu, SnmpErrorStatus.NoSuchName, i + 1);
                            result.Add(new VarBind(vbs[i].Oid, SnmpValue.EndOfMibView));
                        }
                        else result.Add(next);
                    }
                return Fit(pdu, result, budget);
            }
            case PduType.GetBulkRequest when !v1:
            {
                int n = Math.Min(Math.Max(pdu.NonRepeaters, 0), vbs.Count);
                int maxRep = Math.Clamp(pdu.MaxRepetitions, 0, 1000);
                var result = new List<VarBind>();
                lock (_mib.Gate)
                {
                    for (int i = 0; i < n; i++) result.Add(_mib.GetNext(vbs[i].Oid) ?? new VarBind(vbs[i].Oid, SnmpValue.EndOfMibView));
                    var cursors = vbs.Skip(n).Select(v => v.Oid).ToArray();
                    int approx = 0;
                    for (int rep = 0; rep < maxRep && cursors.Length > 0; rep++)
                    {
                        bool allEnd = true;
                        for (int c = 0; c < cursors.Length; c++)
                        {
                            var next = _mib.GetNext(cursors[c]);
                            var vb = next ?? new VarBind(cursors[c], SnmpValue.EndOfMibView);
                            if (next is not null) { cursors[c] = next.Oid; allEnd = false; }
                            result.Add(vb);
                            approx += 16 + vb.Oid.Length * 2 + vb.Value.Bytes.Length;
                        }
                        // RFC 3416 §4.2.3: stop early when every repeater reached the end, or the response would be too big.
                        if (allEnd || approx > budget) break;
                    }
                }
                return Fit(pdu, result, budget, trim: true);
            }
            case PduType.SetRequest:
            {
                if (!write) return v1 ? Error(pdu, SnmpErrorStatus.NoSuchName, 1) : Error(pdu, SnmpErrorStatus.NoAccess, 1);
                Interlocked.Increment(ref Counters.Sets);
                SetOutcome outcome;
                lock (_mib.Gate) outcome = _mib.Set(vbs, out _);
                if (!outcome.Succeeded)
                {
                    var status = v1 ? ToV1(outcome.Status) : outcome.Status;
                    return Error(pdu, status, outcome.Index);
                }
                return new SnmpPdu(PduType.Response, pdu.RequestId, 0, 0, vbs);
            }
            case PduType.InformRequest when !v1:
                return new SnmpPdu(PduType.Response, pdu.RequestId, 0, 0, vbs);
            default:
                return null;
        }
    }

    // Responses that would exceed the budget: GETBULK drops trailing varbinds; others answer tooBig (RFC 3416 §4.2.1).
    private static SnmpPdu Fit(SnmpPdu request, List<VarBind> result, int budget, bool trim = false)
    {
        var response = new SnmpPdu(PduType.Response, request.RequestId, 0, 0, result);
        while (SnmpCodec.EncodeCommunity(SnmpVersion.V2c, [], response).Length > budget)
        {
            if (!trim || result.Count <= 1) return new SnmpPdu(PduType.Response, request.RequestId, (int)SnmpErrorStatus.TooBig, 0, []);
            result.RemoveRange(result.Count / 2, result.Count - result.Count / 2);
            response = new SnmpPdu(PduType.Response, request.RequestId, 0, 0, result);
        }
        return response;
    }

    private static SnmpPdu Error(SnmpPdu request, SnmpErrorStatus status, int index) =>
        new(PduType.Response, request.RequestId, (int)status, index, request.VarBinds);

    // RFC 3584 §4.4: v2 error-status values mapped for v1 managers.
    private static SnmpErrorStatus ToV1(SnmpErrorStatus s) => s switch
    {
        SnmpErrorStatus.WrongValue or SnmpErrorStatus.WrongEncoding or SnmpErrorStatus.WrongType or SnmpErrorStatus.WrongLength or SnmpErrorStatus.InconsistentValue => SnmpErrorStatus.BadValue,
        SnmpErrorStatus.NoAccess or SnmpErrorStatus.NotWritable or SnmpErrorStatus.NoCreation or SnmpErrorStatus.InconsistentName or SnmpErrorStatus.AuthorizationError => SnmpErrorStatus.NoSuchName,
        SnmpErrorStatus.ResourceUnavailable or SnmpErrorStatus.CommitFailed or SnmpErrorStatus.UndoFailed => SnmpErrorStatus.GenErr,
        _ => s,
    };
}
