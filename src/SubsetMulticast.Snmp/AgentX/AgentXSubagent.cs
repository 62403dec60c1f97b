using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using SubsetMulticast.Snmp.Agent;
using SubsetMulticast.Snmp.Messages;

namespace SubsetMulticast.Snmp.AgentX;

/// <summary>
/// An AgentX subagent (RFC 2741) serving a <see cref="MibTree"/> through a master agent such as net-snmp's snmpd
/// (<c>master agentx</c>). It opens a session, registers its subtrees, then answers Get/GetNext/GetBulk and the SET
/// phases: TestSet checks the whole varbind list (nothing changes), CommitSet applies it atomically, UndoSet puts
/// back a committed set, CleanupSet forgets it — so a multi-varbind SET that fails anywhere changes nothing.
/// One read loop; a malformed PDU from the master closes the session (§7.2.2: parseError).
/// </summary>
public sealed class AgentXSubagent : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly MibTree _mib;
    private readonly TimeProvider _time;
    private readonly long _started;
    private readonly ConcurrentDictionary<uint, TaskCompletionSource<(ushort Error, ushort Index)>> _waiting = new();
    private readonly Dictionary<uint, PreparedSet?> _sets = new();
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private uint _session, _nextPacket = 1;
    private Task _loop = Task.CompletedTask;

    private AgentXSubagent(Socket socket, MibTree mib, TimeProvider time)
    {
        _socket = socket;
        _mib = mib;
        _time = time;
        _started = time.GetTimestamp();
    }

    /// <summary>Ends when the master closes the session or the connection drops.</summary>
    public Task Completion => _loop;

    /// <summary>SETs committed through this session (for tests and counters).</summary>
    public long CommittedSets { get; private set; }

    /// <summary>
    /// Connects to the master at <paramref name="master"/> (<c>tcp:HOST:PORT</c>, <c>HOST:PORT</c>, or a Unix socket path,
    /// net-snmp's default being /var/agentx/master), opens a session and registers <paramref name="subtrees"/>.
    /// </summary>
    public static async Task<AgentXSubagent> ConnectAsync(string master, MibTree mib, IReadOnlyList<ObjectIdentifier> subtrees, string description,
        TimeProvider? time = null, CancellationToken ct = default)
    {
        EndPoint endpoint = ParseEndpoint(master);
        var socket = endpoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, ct).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var agent = new AgentXSubagent(socket, mib, time ?? TimeProvider.System);
        agent._loop = Task.Run(agent.ReadLoopAsync, CancellationToken.None);
        // Open-PDU (§6.2.1): timeout 0 (use the master's default), our id, a description.
        var open = await agent.RequestAsync(AgentXType.Open, new AgentXWriter().U8(0).U8(0).U8(0).U8(0).Oid(null).Octets(System.Text.Encoding.UTF8.GetBytes(description)), ct).ConfigureAwait(false);
        if (open.Error != 0) { await agent.DisposeAsync().ConfigureAwait(false); throw new IOException($"AgentX master refused Open: {(AgentXError)open.Error}"); }
        foreach (var subtree in subtrees)
        {
            // Register-PDU (§6.2.3): timeout 0, priority 127, range_subid 0, subtree.
            var reg = await agent.RequestAsync(AgentXType.Register, new AgentXWriter().U8(0).U8(127).U8(0).U8(0).Oid(subtree), ct).ConfigureAwait(false);
            if (reg.Error != 0) { await agent.DisposeAsync().ConfigureAwait(false); throw new IOException($"AgentX master refused Register .{subtree}: {(AgentXError)reg.Error}"); }
        }
        return agent;
    }

    public static EndPoint ParseEndpoint(string master)
    {
        var m = master.StartsWith("tcp:", StringComparison.Ordinal) ? master[4..] : master;
        if (m.StartsWith('/') || master.StartsWith("unix:", StringComparison.Ordinal)) return new UnixDomainSocketEndPoint(m.StartsWith("unix:", StringComparison.Ordinal) ? m[5..] : m);
        return IPEndPoint.Parse(m.Contains(':', StringComparison.Ordinal) ? m : m + ":705");
    }

    private async Task<(ushort Error, ushort Index)> RequestAsync(AgentXType type, AgentXWriter body, CancellationToken ct)
    {
        uint packet = Interlocked.Increment(ref _nextPacket);
        var tcs = new TaskCompletionSource<(ushort, ushort)>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[packet] = tcs;
        try
        {
            await SendAsync(body.ToPdu(type, _session, 0, packet)).ConfigureAwait(false);
            return await tcs.Task.WaitAsync(TimeSpan.FromSeconds(10), _time, ct).ConfigureAwait(false);
        }
        finally { _waiting.TryRemove(packet, out _); }
    }

    private async Task SendAsync(byte[] pdu)
    {
        await _writeGate.WaitAsync().ConfigureAwait(false);
        try { await _socket.SendAsync(pdu, SocketFlags.None).ConfigureAwait(false); }
        finally { _writeGate.Release(); }
    }

    private async Task ReadLoopAsync()
    {
        var header = new byte[AgentXHeader.Length];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                if (!await ReadExactlyAsync(header).ConfigureAwait(false)) return;
                if (!AgentXWriter.TryReadHeader(header, out var h)) return;     // not AgentX, or an absurd length: close
                var payload = new byte[h.PayloadLength];
                if (!await ReadExactlyAsync(payload).ConfigureAwait(false)) return;
                var reply = Handle(h, payload);
                if (reply is null && h.Type == AgentXType.Close) return;
                if (reply is not null) await SendAsync(reply).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException or IOException) { }
        finally
        {
            foreach (var w in _waiting.Values) w.TrySetException(new IOException("AgentX session closed."));
        }
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer)
    {
        int got = 0;
        while (got < buffer.Length)
        {
            int n = await _socket.ReceiveAsync(buffer.AsMemory(got), SocketFlags.None, _stop.Token).ConfigureAwait(false);
            if (n == 0) return false;
            got += n;
        }
        return true;
    }

    private uint SysUpTime => (uint)(_time.GetElapsedTime(_started).TotalMilliseconds / 10);

    private byte[] Response(in AgentXHeader h, ushort error, ushort index, IEnumerable<VarBind>? vbs = null)
    {
        var w = new AgentXWriter().U32(SysUpTime).U16(error).U16(index);
        if (vbs is not null) foreach (var vb in vbs) w.VarBind(vb);
        return w.ToPdu(AgentXType.Response, h.SessionId, h.TransactionId, h.PacketId);
    }

    /// <summary>One PDU from the master → our answer (null: none).</summary>
    internal byte[]? Handle(in AgentXHeader h, ReadOnlySpan<byte> payload)
    {
        var r = new AgentXReader(payload, h.BigEndian);
        if ((h.Flags & AgentXHeader.NonDefaultContext) != 0 && h.Type is AgentXType.Get or AgentXType.GetNext or AgentXType.GetBulk or AgentXType.TestSet)
        {
            if (!r.TryOctets(out _)) return Response(h, (ushort)AgentXError.ParseError, 0);
            return Response(h, (ushort)AgentXError.UnsupportedContext, 0);
        }
        switch (h.Type)
        {
            case AgentXType.Response:
            {
                if (!r.TryU32(out _) || !r.TryU16(out ushort err) || !r.TryU16(out ushort idx)) return null;
                if (_waiting.TryGetValue(h.PacketId, out var tcs))
                {
                    if (_session == 0) _session = h.SessionId;
                    tcs.TrySetResult((err, idx));
                }
                return null;
            }
            case AgentXType.Get:
            {
                var result = new List<VarBind>();
                while (!r.IsEmpty)
                {
                    if (!r.TrySearchRange(out var range)) return Response(h, (ushort)AgentXError.ParseError, 0);
                    lock (_mib.Gate) result.Add(new VarBind(range.Start, _mib.Get(range.Start)));
                }
                return Response(h, 0, 0, result);
            }
            case AgentXType.GetNext:
            {
                var result = new List<VarBind>();
                while (!r.IsEmpty)
                {
                    if (!r.TrySearchRange(out var range)) return Response(h, (ushort)AgentXError.ParseError, 0);
                    result.Add(Next(range));
                }
                return Response(h, 0, 0, result);
            }
            case AgentXType.GetBulk:
            {
                if (!r.TryU16(out ushort nonRep) || !r.TryU16(out ushort maxRep)) return Response(h, (ushort)AgentXError.ParseError, 0);
                var ranges = new List<SearchRange>();
                while (!r.IsEmpty)
                {
                    if (!r.TrySearchRange(out var range)) return Response(h, (ushort)AgentXError.ParseError, 0);
                    ranges.Add(range);
                }
                var result = new List<VarBind>();
                for (int i = 0; i < Math.Min(nonRep, ranges.Count); i++) result.Add(Next(ranges[i]));
                var rep = ranges.Skip(nonRep).ToArray();
                for (int k = 0; k < Math.Min((int)maxRep, 1000) && rep.Length > 0; k++)
                    for (int i = 0; i < rep.Length; i++)
                    {
                        var vb = Next(rep[i]);
                        result.Add(vb);
                        if (vb.Value.Type != SnmpType.EndOfMibView) rep[i] = rep[i] with { Start = vb.Oid, Include = false };
                    }
                return Response(h, 0, 0, result);
            }
            case AgentXType.TestSet:
            {
                var vbs = new List<VarBind>();
                while (!r.IsEmpty)
                {
                    if (!r.TryVarBind(out var vb)) return Response(h, (ushort)AgentXError.ParseError, 0);
                    vbs.Add(vb!);
                }
                PreparedSet? prepared;
                SetOutcome outcome;
                lock (_mib.Gate) prepared = _mib.Prepare(vbs, out outcome);
                _sets[h.TransactionId] = prepared;
                return Response(h, (ushort)outcome.Status, (ushort)outcome.Index);
            }
            case AgentXType.CommitSet:
            {
                if (!_sets.TryGetValue(h.TransactionId, out var prepared) || prepared is null) return Response(h, (ushort)SnmpErrorStatus.CommitFailed, 0);
                SetOutcome outcome;
                lock (_mib.Gate) outcome = prepared.Commit(out _);
                if (outcome.Succeeded) CommittedSets++;
                return Response(h, (ushort)outcome.Status, (ushort)outcome.Index);
            }
            case AgentXType.UndoSet:
            {
                bool ok = true;
                if (_sets.TryGetValue(h.TransactionId, out var prepared) && prepared is not null)
                    lock (_mib.Gate) ok = prepared.Undo();
                return Response(h, ok ? (ushort)0 : (ushort)SnmpErrorStatus.UndoFailed, 0);
            }
            case AgentXType.CleanupSet:
                _sets.Remove(h.TransactionId);
                return null;
            case AgentXType.Close:
                return null;
            case AgentXType.Ping:
                return Response(h, 0, 0);
            default:
                return Response(h, (ushort)AgentXError.ProcessingError, 0);
        }
    }

    // GetNext over one search range (§7.2.3.2): the first instance ≥ start (or > start), below end; else endOfMibView.
    private VarBind Next(SearchRange range)
    {
        lock (_mib.Gate)
        {
            if (range.Include)
            {
                var v = _mib.Get(range.Start);
                if (!v.IsException) return new VarBind(range.Start, v);
            }
            var next = _mib.GetNext(range.Start);
            if (next is null || (range.End is not null && next.Oid >= range.End)) return new VarBind(range.Start, SnmpValue.EndOfMibView);
            return next;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        try
        {
            // Close-PDU (§6.2.2), reason 5 = shutdown.
            if (_session != 0) await SendAsync(new AgentXWriter().U8(5).U8(0).U8(0).U8(0).ToPdu(AgentXType.Close, _session, 0, Interlocked.Increment(ref _nextPacket))).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        _stop.Cancel();
        _socket.Dispose();
        try { await _loop.ConfigureAwait(false); } catch (OperationCanceledException) { }
    }
}
