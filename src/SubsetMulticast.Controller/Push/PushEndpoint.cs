using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Controller.Groups;
using SubsetMulticast.Controller.Observability;
using SubsetMulticast.Controller.Security;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Push;

namespace SubsetMulticast.Controller.Push;

/// <summary>
/// The controller's UDP endpoint for push instructions (draft §7.1, drafts/push-instruction.md). Each datagram
/// is verified (MAC, key, replay window); an accepted PushMembership creates or supersedes the group at the
/// instruction's group address, Release and Refresh act on the group at that address. Every datagram is counted;
/// only one that verified (MAC under a known key id, fresh sequence) is answered — anything else gets nothing
/// back, so the endpoint is no reflector for spoofed sources, and costs one bounded parse and at most one HMAC over
/// at most 64 KiB, and logs at a bounded rate. Datagrams are handled one at a time, in arrival
/// order, so that a Release never overtakes the PushMembership before it.
/// <para>Each key id is a client (<see cref="ClientName"/>): like a REST client it may supersede, refresh and release only
/// the groups it created, and holds at most its quota of live groups (<see cref="ApiSecurityOptions.ClientGroupQuota"/>,
/// and <see cref="ApiSecurityOptions.ReferenceGroupQuota"/> per reference group, shared with REST), so no key holder
/// can exhaust a block or take over another client's group.</para>
/// </summary>
internal sealed partial class PushEndpoint : BackgroundService
{
    private const int MaxDatagram = 65_527;
    private readonly GroupCoordinator _groups;
    private readonly PushVerifier _verifier;
    private readonly ILogger _log;
    private readonly Socket _socket;
    private readonly LogRateLimit _rejections;
    private readonly GroupOwnership _ownership;
    private readonly int _clientQuota, _referenceQuota;

    public PushEndpoint(ControllerOptions options, GroupCoordinator groups, GroupOwnership ownership, ILogger<PushEndpoint> log, TimeProvider time)
    {
        _ownership = ownership;
        // Every push is authenticated, so the quotas apply as they do to an authenticated REST API: the defaults unless set (0: off).
        _clientQuota = options.ApiSecurity.ClientGroupQuota ?? ApiSecurityPolicy.DefaultClientQuota;
        _referenceQuota = options.ApiSecurity.ReferenceGroupQuota ?? ApiSecurityPolicy.DefaultReferenceQuota;
        // Anyone who can reach the port can send garbage: 10 rejection warnings per 10 s, the rest counted (metrics count all).
        _rejections = new LogRateLimit(time);
        _groups = groups;
        _verifier = new PushVerifier(options.PushKeys);
        _log = log;
        var at = options.PushUdp ?? throw new ArgumentException("No push endpoint address.", nameof(options));
        _socket = new Socket(at.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            _socket.Bind(at);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
    }

    public IPEndPoint LocalEndPoint { get; }
    public PushEndpointStats Stats { get; } = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Log.Listening(_log, LocalEndPoint);
        var buffer = new byte[MaxDatagram];
        var ack = new byte[PushAck.Length];
        EndPoint any = new IPEndPoint(LocalEndPoint.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!stoppingToken.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { return; }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.MessageSize)
            {
                continue; // ICMP port unreachable from an earlier ack, or an oversized datagram: neither stops the endpoint
            }
            PushAck answer;
            try
            {
                answer = await HandleAsync(buffer.AsMemory(0, received.ReceivedBytes), received.RemoteEndPoint, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { return; }
            // Unverified (forged, unknown key, replayed, malformed): no answer at all. A verified one is answered, and
            // never with more bytes than it had (it is at least a header and a MAC, longer than an ack).
            if (answer.Verdict != PushVerdict.Accepted || received.ReceivedBytes < PushAck.Length) continue;
            answer.WriteTo(ack);
            try
            {
                await _socket.SendToAsync(ack, SocketFlags.None, received.RemoteEndPoint, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { return; }
            catch (SocketException e)
            {
                Log.AckFailed(_log, received.RemoteEndPoint, e.SocketErrorCode);
            }
        }
    }

    /// <summary>Verifies, applies and counts one datagram; returns the ack, which is sent only when <see cref="PushAck.Verdict"/> is Accepted. Internal for tests.</summary>
    internal async ValueTask<PushAck> HandleAsync(ReadOnlyMemory<byte> datagram, EndPoint from, CancellationToken cancellationToken)
    {
        var verdict = Decode(datagram.Span, out var command, out var detail);
        if (verdict != PushVerdict.Accepted)
        {
            Stats.Record(verdict, PushOutcome.NotProcessed);
            if (_rejections.TryAcquire(out long suppressed))
            {
                if (suppressed > 0) Log.RejectionsSuppressed(_log, suppressed);
                Log.Rejected(_log, verdict, from, detail ?? "");
            }
            return new PushAck(command.Opcode, verdict, PushOutcome.NotProcessed, 0, command.Vlan.Value, command.SenderId, command.Sequence);
        }
        var (code, why) = await ApplyAsync(command, cancellationToken).ConfigureAwait(false);
        var outcome = code == 0 ? PushOutcome.Applied : PushOutcome.Refused;
        Stats.Record(verdict, outcome);
        if (code == 0) Log.Applied(_log, command.Opcode, command.Group, command.Vlan, command.SenderId, command.Sequence, from);
        else Log.Refused(_log, command.Opcode, command.Group, command.Vlan, from, code, why!);
        return new PushAck(command.Opcode, verdict, outcome, code, command.Vlan.Value, command.SenderId, command.Sequence);
    }

    /// <summary>The client a push key id is: its groups, its quota.</summary>
    public static string ClientName(ushort keyId) => "push-key-" + keyId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Applies a verified instruction; returns the ack's problem code (0: applied) and, when refused, why.</summary>
    private async ValueTask<(ushort Code, string? Detail)> ApplyAsync(PushCommand command, CancellationToken cancellationToken)
    {
        string client = ClientName(command.KeyId);
        string? existingId = _groups.Lifecycle.TryFindByAddress(command.Vlan, command.Group, out var found) ? found : null;
        if (existingId is not null && _ownership.OwnerOf(existingId) != client)
            return (PushAck.NotOwner, $"The group at {command.Group} on VLAN {command.Vlan} was not created with key {command.KeyId}; only its creator may supersede, refresh or release it.");
        if (command.Opcode == PushOpcode.PushMembership)
        {
            var refusal = _ownership.TryReserve(client, command.Vlan, command.Reference, _clientQuota, _referenceQuota, out var reservation, existingId);
            if (refusal != QuotaRefusal.None)
                return (PushAck.QuotaExceeded, refusal == QuotaRefusal.Client
                    ? $"Key {command.KeyId} holds {_clientQuota} live groups, its quota."
                    : $"Reference group {command.Reference} on VLAN {command.Vlan} has {_referenceQuota} live groups, its quota.");
            var request = new CreateGroupRequest(command.Vlan, command.Reference, command.Members,
                command.LeaseMs == 0 ? null : TimeSpan.FromMilliseconds(command.LeaseMs), command.Group) { Owner = client };
            Outcome<GroupResult> created;
            try { created = await _groups.CreateAsync(request, cancellationToken).ConfigureAwait(false); }
            catch { _ownership.Cancel(reservation); throw; }
            if (created.Problem is { } p) { _ownership.Cancel(reservation); return (PushAck.ProblemCode(p.Kind), p.Detail); }
            var id = created.Value!.Group.Id;
            _ownership.Commit(reservation, id);
            if (!_groups.TryGet(id, out _)) _ownership.Forget(id); // gone already (a very short lease)
            return (0, null);
        }
        if (existingId is null)
            return (PushAck.ProblemCode(ProblemKind.GroupNotFound), $"No rendezvous group at {command.Group} on VLAN {command.Vlan}.");
        if (_groups.TryGet(existingId, out var existing) && existing.Reference != command.Reference)
            return (PushAck.ProblemCode(ProblemKind.InvalidRequest), $"The group at {command.Group} belongs to reference group {existing.Reference}, not {command.Reference}.");
        var done = command.Opcode == PushOpcode.Release
            ? (await _groups.ReleaseAsync(existingId, cancellationToken).ConfigureAwait(false)).Problem
            : (await _groups.RefreshAsync(existingId, cancellationToken).ConfigureAwait(false)).Problem;
        return done is null ? (0, null) : (PushAck.ProblemCode(done.Kind), done.Detail);
    }

    /// <summary>Verification and copying out of the datagram (the reader is a ref struct and cannot cross an await).</summary>
    private PushVerdict Decode(ReadOnlySpan<byte> datagram, out PushCommand command, out string? detail)
    {
        var verdict = _verifier.Verify(datagram, out var instruction, out detail);
        if (verdict is PushVerdict.Truncated or PushVerdict.Malformed || instruction.Length == 0)
        {
            command = PushCommand.Unreadable;
            return verdict;
        }
        var members = new IpAddress[verdict == PushVerdict.Accepted ? instruction.MemberCount : 0];
        for (int i = 0; i < members.Length; i++) members[i] = instruction.MemberAt(i);
        command = new PushCommand(instruction.Opcode, instruction.Vlan, instruction.KeyId, instruction.SenderId, instruction.Sequence, instruction.LeaseMs,
            instruction.Reference, instruction.Group, members);
        return verdict;
    }

    public override void Dispose()
    {
        _socket.Dispose();
        base.Dispose();
    }

    private sealed record PushCommand(PushOpcode Opcode, VlanId Vlan, ushort KeyId, uint SenderId, ulong Sequence, uint LeaseMs, IpAddress Reference, IpAddress Group, IpAddress[] Members)
    {
        public static readonly PushCommand Unreadable = new(0, default, 0, 0, 0, 0, default, default, []);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Push instructions accepted on udp://{EndPoint}")]
        public static partial void Listening(ILogger logger, IPEndPoint endPoint);

        [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "Push {Opcode} for {Group} on VLAN {Vlan} (sender {Sender}, sequence {Sequence}) from {From}: applied")]
        public static partial void Applied(ILogger logger, PushOpcode opcode, IpAddress group, VlanId vlan, uint sender, ulong sequence, EndPoint from);

        [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "Push {Opcode} for {Group} on VLAN {Vlan} from {From}: verified but refused (problem code {Code}): {Detail}")]
        public static partial void Refused(ILogger logger, PushOpcode opcode, IpAddress group, VlanId vlan, EndPoint from, ushort code, string detail);

        [LoggerMessage(EventId = 303, Level = LogLevel.Warning, Message = "Push instruction from {From} rejected ({Verdict}): {Detail}")]
        public static partial void Rejected(ILogger logger, PushVerdict verdict, EndPoint from, string detail);

        [LoggerMessage(EventId = 305, Level = LogLevel.Warning, Message = "{Count} more push instructions were rejected and not logged (at most 10 rejections are logged per 10 s; tsm_push_instructions_total counts them all)")]
        public static partial void RejectionsSuppressed(ILogger logger, long count);

        [LoggerMessage(EventId = 304, Level = LogLevel.Warning, Message = "Could not send the push ack to {To}: {Error}")]
        public static partial void AckFailed(ILogger logger, EndPoint to, SocketError error);
    }
}
