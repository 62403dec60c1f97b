using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using SubsetMulticast.Snmp.Messages;
using SubsetMulticast.Snmp.Security;

namespace SubsetMulticast.Snmp.Client;

/// <summary>
/// An SNMP manager over UDP: v1, v2c and v3/USM (discovery, time window, HMAC-MD5/SHA-1/SHA-2, DES/AES).
/// One socket per address family and one receive loop; requests are matched by request-id (v1/v2c) or
/// msgID (v3) and by source endpoint; datagrams that fail to decode, authenticate or decrypt are dropped
/// and counted, as net-snmp drops them. Every public method returns an <see cref="SnmpResult"/>: errors are
/// values (<see cref="SnmpErrorKind"/>); only cancellation throws.
/// </summary>
public sealed class SnmpClient : IAsyncDisposable
{
    private const int MaxDatagram = 65_535;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<int, Pending> _pending = new();
    private readonly ConcurrentDictionary<string, EngineState> _engines = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _socketGate = new();
    private Socket? _v4, _v6;
    private int _nextId = RandomNumberGenerator.GetInt32(1, int.MaxValue / 2);
    private long _salt = BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8));
    private long _dropped;

    public SnmpClient(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <summary>Datagrams received and dropped (undecodable, unmatched, failed authentication or decryption).</summary>
    public long DroppedDatagrams => Interlocked.Read(ref _dropped);

    public ValueTask<SnmpResult> GetAsync(SnmpTarget target, IEnumerable<ObjectIdentifier> oids, CancellationToken ct = default) =>
        RequestAsync(target, SnmpPdu.Get(0, oids), ct);

    public ValueTask<SnmpResult> GetNextAsync(SnmpTarget target, IEnumerable<ObjectIdentifier> oids, CancellationToken ct = default) =>
        RequestAsync(target, SnmpPdu.GetNext(0, oids), ct);

    public ValueTask<SnmpResult> GetBulkAsync(SnmpTarget target, int nonRepeaters, int maxRepetitions, IEnumerable<ObjectIdentifier> oids, CancellationToken ct = default) =>
        target.Version == SnmpVersion.V1
            ? ValueTask.FromResult(SnmpResult.Fail(new SnmpError(SnmpErrorKind.Transport, "GETBULK does not exist in SNMPv1 (RFC 3416 §4.2.3).")))
            : RequestAsync(target, SnmpPdu.GetBulk(0, nonRepeaters, maxRepetitions, oids), ct);

    public ValueTask<SnmpResult> SetAsync(SnmpTarget target, IReadOnlyList<VarBind> varBinds, CancellationToken ct = default) =>
        RequestAsync(target, SnmpPdu.Set(0, varBinds), ct);

    /// <summary>An InformRequest (v2c/v3): the receiver answers with a Response (RFC 3416 §4.2.7).</summary>
    public ValueTask<SnmpResult> InformAsync(SnmpTarget target, IReadOnlyList<VarBind> varBinds, CancellationToken ct = default) =>
        target.Version == SnmpVersion.V1
            ? ValueTask.FromResult(SnmpResult.Fail(new SnmpError(SnmpErrorKind.Transport, "InformRequest does not exist in SNMPv1.")))
            : RequestAsync(target, new SnmpPdu(PduType.InformRequest, 0, 0, 0, varBinds), ct);

    /// <summary>
    /// Sends a trap, unconfirmed: a v1 Trap-PDU for v1 targets (<paramref name="v1Fields"/> required), an SNMPv2-Trap
    /// for v2c. SNMPv3 traps need the sender to be authoritative; send an InformRequest over v3 instead.
    /// </summary>
    public async ValueTask<SnmpResult> SendTrapAsync(SnmpTarget target, IReadOnlyList<VarBind> varBinds, TrapV1Fields? v1Fields = null, CancellationToken ct = default)
    {
        byte[] datagram;
        if (target.Version == SnmpVersion.V1)
        {
            if (v1Fields is null) return SnmpResult.Fail(new SnmpError(SnmpErrorKind.Transport, "A v1 trap needs its enterprise, agent address and trap numbers."));
            datagram = SnmpCodec.EncodeCommunity(SnmpVersion.V1, target.CommunityBytes, new SnmpPdu(PduType.TrapV1, 0, 0, 0, varBinds) { Trap = v1Fields });
        }
        else if (target.Version == SnmpVersion.V2c)
            datagram = SnmpCodec.EncodeCommunity(SnmpVersion.V2c, target.CommunityBytes, new SnmpPdu(PduType.TrapV2, NextId(), 0, 0, varBinds));
        else
            return SnmpResult.Fail(new SnmpError(SnmpErrorKind.Transport, "An SNMPv3 trap needs a local authoritative engine; use InformAsync."));
        var sent = await SendAsync(target.Endpoint, datagram, ct).ConfigureAwait(false);
        return sent ?? new SnmpResult(null, null);
    }

    /// <summary>Walks the subtree under <paramref name="root"/> with GETBULK (GETNEXT on v1), in order, bounded.</summary>
    public async ValueTask<SnmpWalkResult> WalkAsync(SnmpTarget target, ObjectIdentifier root, int maxVarBinds = 100_000, CancellationToken ct = default)
    {
        var found = new List<VarBind>();
        var cursor = root;
        while (found.Count < maxVarBinds)
        {
            var r = target.Version == SnmpVersion.V1
                ? await GetNextAsync(target, [cursor], ct).ConfigureAwait(false)
                : await GetBulkAsync(target, 0, target.MaxRepetitions, [cursor], ct).ConfigureAwait(false);
            if (!r.Succeeded)
            {
                // v1 ends a walk with noSuchName (RFC 1157 §4.1.3).
                if (target.Version == SnmpVersion.V1 && r.Error!.Status == SnmpErrorStatus.NoSuchName) return new(found, null);
                return new(found, r.Error);
            }
            if (r.VarBinds.Count == 0) return new(found, null);
            foreach (var vb in r.VarBinds)
            {
                if (vb.Value.Type == SnmpType.EndOfMibView || !vb.Oid.StartsWith(root)) return new(found, null);
                if (vb.Oid <= cursor)
                    return new(found, new SnmpError(SnmpErrorKind.ErrorStatus, $"The agent returned .{vb.Oid}, not after .{cursor}: OID not increasing."));
                found.Add(vb);
                cursor = vb.Oid;
            }
        }
        return new(found, null);
    }

    /// <summary>Sends any request PDU (its request-id is assigned here) and waits for the matching response.</summary>
    public async ValueTask<SnmpResult> RequestAsync(SnmpTarget target, SnmpPdu pdu, CancellationToken ct = default)
    {
        try
        {
            return target.Version == SnmpVersion.V3
                ? await RequestV3Async(target, pdu, ct).ConfigureAwait(false)
                : await RequestCommunityAsync(target, pdu, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or ArgumentException or InvalidOperationException or CryptographicException)
        {
            return SnmpResult.Fail(new SnmpError(SnmpErrorKind.Transport, $"{e.GetType().Name}: {e.Message}"));
        }
    }

    // ------------------------------------------------------------------ v1 / v2c

    private async ValueTask<SnmpResult> RequestCommunityAsync(SnmpTarget target, SnmpPdu pdu, CancellationToken ct)
    {
        var community = target.CommunityBytes;
        var answer = await ExchangeAsync(target, id => SnmpCodec.EncodeCommunity(target.Version, community, pdu with { RequestId = id }),
            (id, _, m) => m.Version == target.Version && m.Pdu is { Type: PduType.Response } p && p.RequestId == id && m.Community.AsSpan().SequenceEqual(community), ct).ConfigureAwait(false);
        return answer is null ? Timeout(target) : Complete(answer.Pdu!);
    }

    // ------------------------------------------------------------------ v3

    private sealed class EngineState
    {
        public required byte[] EngineId { get; init; }
        public int Boots;
        public int Time;
        public long ReceivedAt;
        public readonly ConcurrentDictionary<string, LocalizedKeys> Keys = new();
    }

    private async ValueTask<SnmpResult> RequestV3Async(SnmpTarget target, SnmpPdu pdu, CancellationToken ct)
    {
        var user = target.User ?? throw new ArgumentException("An SNMPv3 target needs a user.", nameof(target));
        var level = target.EffectiveLevel;
        if (level > user.Level) throw new ArgumentException($"User {user.Name} has no keys for {level}.", nameof(target));
        string key = target.Endpoint.ToString();
        bool resynced = false, rediscovered = false;
        for (int round = 0; round < 4; round++)
        {
            if (!_engines.TryGetValue(key, out var engine))
            {
                var discovered = await DiscoverAsync(target, ct).ConfigureAwait(false);
                if (discovered is null) return Timeout(target, " (engine discovery)");
                _engines[key] = engine = discovered;
            }
            var keys = engine.Keys.GetOrAdd(user.Name, _ => user.Localize(engine.EngineId));
            var contextName = System.Text.Encoding.UTF8.GetBytes(target.ContextName);
            var answer = await ExchangeAsync(target,
                id =>
                {
                    var (boots, time) = EngineClock(engine);
                    return UsmWire.Encode(id, MaxDatagram - 28, level, reportable: true, user.Name, user.Auth, user.Priv, keys,
                        engine.EngineId, boots, time, engine.EngineId, contextName, pdu with { RequestId = id }, NextSalt());
                },
                (id, datagram, m) => AcceptV3(id, datagram, m, level, user, keys, engine),
                ct).ConfigureAwait(false);
            if (answer is null) return Timeout(target);
            var p = answer.Pdu!;
            if (p.Type != PduType.Report) return Complete(p);
            var counter = p.VarBinds.Count > 0 ? p.VarBinds[0].Oid : null;
            if (counter == UsmWire.NotInTimeWindows && !resynced)
            {
                // RFC 3414 §4: the (authenticated) report carries the agent's boots and time; resync once and retry.
                resynced = true;
                lock (engine) { engine.Boots = answer.Usm.EngineBoots; engine.Time = answer.Usm.EngineTime; engine.ReceivedAt = _time.GetTimestamp(); }
                continue;
            }
            if (counter == UsmWire.UnknownEngineIds && !rediscovered)
            {
                rediscovered = true;
                _engines.TryRemove(key, out _);
                continue;
            }
            return SnmpResult.Fail(MapReport(p, counter));
        }
        return SnmpResult.Fail(new SnmpError(SnmpErrorKind.NotInTimeWindow, "The agent kept answering with reports."));
    }

    private bool AcceptV3(int id, byte[] datagram, SnmpMessage m, SecurityLevel level, UsmUser user, LocalizedKeys keys, EngineState engine)
    {
        if (m.Version != SnmpVersion.V3 || m.MessageId != id || m.SecurityModel != 3) return false;
        bool authenticated = (m.Flags & V3Flags.Auth) != 0;
        if (authenticated)
        {
            if (!m.Usm.EngineId.AsSpan().SequenceEqual(engine.EngineId) || m.Usm.UserName != user.Name) return false;
            if (!UsmWire.VerifyDigest(user.Auth, keys, datagram, m)) return false;
            if ((m.Flags & V3Flags.Priv) != 0)
            {
                if (!UsmWire.TryOpen(user.Priv, keys, m, out var opened)) return false;
                m = opened;
                _opened.Value = opened;
            }
        }
        else if (m.EncryptedPdu is not null) return false;
        var pdu = m.Pdu;
        if (pdu is null) return false;
        // Unauthenticated REPORTs are how an agent says "unknown engine / user / level" (RFC 3414 §3.2); anything else must come at our level (RFC 3412 §7.2.10).
        if (pdu.Type == PduType.Report) return true;
        if (pdu.Type != PduType.Response || pdu.RequestId != id) return false;
        if (level >= SecurityLevel.AuthNoPriv && !authenticated) return false;
        if (level == SecurityLevel.AuthPriv && (m.Flags & V3Flags.Priv) == 0) return false;
        if (authenticated)
            lock (engine)
            {
                // RFC 3414 §3.2 step 7b: an authentic message moves our notion of the agent's clock forward.
                if (m.Usm.EngineBoots > engine.Boots || (m.Usm.EngineBoots == engine.Boots && m.Usm.EngineTime > EngineClock(engine).Time))
                {
                    engine.Boots = m.Usm.EngineBoots;
                    engine.Time = m.Usm.EngineTime;
                    engine.ReceivedAt = _time.GetTimestamp();
                }
            }
        return true;
    }

    // The decrypted message of the datagram just accepted, handed from the receive loop's validator to the exchange.
    private readonly ThreadLocal<SnmpMessage?> _opened = new();

    private async ValueTask<EngineState?> DiscoverAsync(SnmpTarget target, CancellationToken ct)
    {
        // RFC 3414 §4: an unauthenticated, reportable request with an empty engineID draws a Report with the agent's engineID, boots and time.
        var answer = await ExchangeAsync(target,
            id => UsmWire.Encode(id, MaxDatagram - 28, SecurityLevel.NoAuthNoPriv, reportable: true, "", AuthProtocol.None, PrivProtocol.None, null,
                [], 0, 0, [], [], new SnmpPdu(PduType.GetRequest, id, 0, 0, []), 0),
            (id, _, m) => m.Version == SnmpVersion.V3 && m.MessageId == id && m.Pdu?.Type == PduType.Report && m.Usm.EngineId.Length is >= 5 and <= 32,
            ct).ConfigureAwait(false);
        if (answer is null) return null;
        return new EngineState { EngineId = answer.Usm.EngineId, Boots = answer.Usm.EngineBoots, Time = answer.Usm.EngineTime, ReceivedAt = _time.GetTimestamp() };
    }

    private (int Boots, int Time) EngineClock(EngineState e)
    {
        lock (e)
        {
            long elapsed = (long)_time.GetElapsedTime(e.ReceivedAt).TotalSeconds;
            return (e.Boots, (int)Math.Min(int.MaxValue, e.Time + elapsed));
        }
    }

    private static SnmpError MapReport(SnmpPdu report, ObjectIdentifier? counter)
    {
        var (kind, text) = counter switch
        {
            _ when counter == UsmWire.UnsupportedSecLevels => (SnmpErrorKind.UnsupportedSecurityLevel, "unsupported security level (usmStatsUnsupportedSecLevels)"),
            _ when counter == UsmWire.NotInTimeWindows => (SnmpErrorKind.NotInTimeWindow, "not in time window after resynchronising (usmStatsNotInTimeWindows)"),
            _ when counter == UsmWire.UnknownUserNames => (SnmpErrorKind.UnknownUserName, "unknown user name (usmStatsUnknownUserNames)"),
            _ when counter == UsmWire.UnknownEngineIds => (SnmpErrorKind.UnknownEngineId, "unknown engine ID after rediscovery (usmStatsUnknownEngineIDs)"),
            _ when counter == UsmWire.WrongDigests => (SnmpErrorKind.WrongDigest, "authentication failure: wrong digest (usmStatsWrongDigests) — check the auth protocol and password"),
            _ when counter == UsmWire.DecryptionErrors => (SnmpErrorKind.DecryptionError, "decryption error (usmStatsDecryptionErrors) — check the privacy protocol and password"),
            _ => (SnmpErrorKind.OtherReport, $"report .{counter}"),
        };
        return new SnmpError(kind, "SNMPv3 " + text) { ReportOid = counter };
    }

    // ------------------------------------------------------------------ exchange

    private sealed record Answer(SnmpMessage Message)
    {
        public SnmpPdu? Pdu => Message.Pdu;
        public UsmParameters Usm => Message.Usm;
    }

    private sealed class Pending(IPEndPoint endpoint, Func<int, byte[], SnmpMessage, bool> accept)
    {
        public readonly IPEndPoint Endpoint = endpoint;
        public readonly Func<int, byte[], SnmpMessage, bool> Accept = accept;
        public readonly TaskCompletionSource<Answer> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Sends with retries; each attempt gets a fresh id (and, for v3, fresh time and salt); an answer to any attempt counts.</summary>
    private async ValueTask<Answer?> ExchangeAsync(SnmpTarget target, Func<int, byte[]> encode, Func<int, byte[], SnmpMessage, bool> accept, CancellationToken ct)
    {
        var pending = new Pending(target.Endpoint, accept);
        var ids = new List<int>(target.Retries + 1);
        EnsureSocket(target.Endpoint.AddressFamily);
        try
        {
            for (int attempt = 0; attempt <= target.Retries; attempt++)
            {
                int id = NextId();
                ids.Add(id);
                _pending[id] = pending;
                var datagram = encode(id);
                if (datagram.Length > MaxDatagram - 28) throw new ArgumentException($"The request is {datagram.Length} octets; a UDP datagram holds {MaxDatagram - 28}.");
                await SendAsync(target.Endpoint, datagram, ct).ConfigureAwait(false);
                try
                {
                    return await pending.Done.Task.WaitAsync(target.Timeout, _time, ct).ConfigureAwait(false);
                }
                catch (TimeoutException) { }
            }
            return null;
        }
        finally
        {
            foreach (var id in ids) _pending.TryRemove(id, out _);
        }
    }

    private async ValueTask<SnmpResult?> SendAsync(IPEndPoint to, byte[] datagram, CancellationToken ct)
    {
        var socket = EnsureSocket(to.AddressFamily);
        await socket.SendToAsync(datagram, SocketFlags.None, to, ct).ConfigureAwait(false);
        return null;
    }

    private Socket EnsureSocket(AddressFamily family)
    {
        lock (_socketGate)
        {
            ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
            ref var slot = ref family == AddressFamily.InterNetworkV6 ? ref _v6 : ref _v4;
            if (slot is not null) return slot;
            var s = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0));
            slot = s;
            _ = Task.Run(() => ReceiveLoopAsync(s));
            return s;
        }
    }

    private async Task ReceiveLoopAsync(Socket socket)
    {
        var buffer = new byte[MaxDatagram];
        EndPoint any = socket.AddressFamily == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult r;
            try { r = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { continue; }    // e.g. an ICMP port unreachable surfacing on the socket
            var datagram = buffer.AsSpan(0, r.ReceivedBytes).ToArray();
            if (!Dispatch(datagram, (IPEndPoint)r.RemoteEndPoint)) Interlocked.Increment(ref _dropped);
        }
    }

    private bool Dispatch(byte[] datagram, IPEndPoint from)
    {
        if (!SnmpCodec.TryDecode(datagram, out var m).IsOk) return false;
        int id = m!.Version == SnmpVersion.V3 ? m.MessageId : m.Pdu?.RequestId ?? -1;
        if (!_pending.TryGetValue(id, out var p) || !Normalise(p.Endpoint).Equals(Normalise(from))) return false;
        _opened.Value = null;
        bool ok;
        try { ok = p.Accept(id, datagram, m); }
        catch (CryptographicException) { ok = false; }
        if (!ok) return false;
        return p.Done.TrySetResult(new Answer(_opened.Value ?? m));
    }

    private static IPEndPoint Normalise(IPEndPoint e) => e.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(e.Address.MapToIPv4(), e.Port) : e;

    private int NextId()
    {
        int id = Interlocked.Increment(ref _nextId);
        if (id <= 0 || id == int.MaxValue) { Interlocked.Exchange(ref _nextId, 1); id = Interlocked.Increment(ref _nextId); }
        return id;
    }

    private ulong NextSalt() => unchecked((ulong)Interlocked.Increment(ref _salt));

    private static SnmpResult Complete(SnmpPdu response) =>
        response.ErrorStatus != 0
            ? new SnmpResult(response, new SnmpError(SnmpErrorKind.ErrorStatus, $"{response.Status} at varbind {response.ErrorIndex}") { Status = response.Status, Index = response.ErrorIndex })
            : new SnmpResult(response, null);

    private static SnmpResult Timeout(SnmpTarget t, string what = "") =>
        SnmpResult.Fail(new SnmpError(SnmpErrorKind.Timeout, $"Timeout: no answer from {t.Endpoint}{what} after {t.Retries + 1} tries of {t.Timeout.TotalMilliseconds:0} ms."));

    public ValueTask DisposeAsync()
    {
        lock (_socketGate)
        {
            if (_stop.IsCancellationRequested) return ValueTask.CompletedTask;
            _stop.Cancel();
            _v4?.Dispose();
            _v6?.Dispose();
        }
        foreach (var p in _pending.Values) p.Done.TrySetCanceled();
        _opened.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>A walk's varbinds in order, and the error that ended it early (null when it reached the subtree's end).</summary>
public sealed record SnmpWalkResult(IReadOnlyList<VarBind> VarBinds, SnmpError? Error)
{
    public bool Succeeded => Error is null;
}
