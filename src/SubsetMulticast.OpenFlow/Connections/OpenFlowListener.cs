using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.OpenFlow.Connections;

/// <summary>
/// Accepts OpenFlow switches on a TCP endpoint (6653 by default), one <see cref="OpenFlowSession"/> per
/// connection, all running concurrently. A session that fails is closed alone. When a switch with the same
/// datapath id connects again, the older session is closed and replaced.
/// </summary>
public sealed class OpenFlowListener : IAsyncDisposable
{
    private readonly IPEndPoint _endpoint;
    private readonly OpenFlowOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, OpenFlowSession> _switches = new();
    private readonly ConcurrentDictionary<OpenFlowSession, Task> _running = new();
    private readonly CancellationTokenSource _stop = new();
    private TcpListener? _listener;
    private Task? _acceptLoop;

    public OpenFlowListener(IPEndPoint endpoint, OpenFlowOptions? options = null, ILoggerFactory? loggers = null, TimeProvider? time = null)
    {
        _endpoint = endpoint;
        _options = options ?? new OpenFlowOptions();
        _loggers = loggers ?? NullLoggerFactory.Instance;
        _logger = _loggers.CreateLogger("SubsetMulticast.OpenFlow");
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The bound endpoint (useful with port 0).</summary>
    public IPEndPoint LocalEndpoint => (IPEndPoint)(_listener?.LocalEndpoint ?? _endpoint);

    /// <summary>Ready sessions by switch id (datapath id as 16 hex digits).</summary>
    public IReadOnlyDictionary<string, OpenFlowSession> Switches => _switches;

    /// <summary>Raised (on a pool thread) after a switch completed its handshake.</summary>
    public event Action<OpenFlowSession>? SwitchConnected;

    /// <summary>Raised when a ready switch's session closed, with the reason.</summary>
    public event Action<OpenFlowSession, string>? SwitchDisconnected;

    /// <summary>
    /// Every PACKET_IN from every switch (punted IGMP/MLD, ARP/ND, LLDP …), raised on the session's read loop, decoded
    /// into a message that owns a copy of its frame. The hot path subscribes to <see cref="PacketInViewReceived"/> instead.
    /// </summary>
    public event Action<OpenFlowSession, PacketIn>? PacketInReceived;

    /// <summary>
    /// Every PACKET_IN from every switch read in place from the session's receive buffer: nothing is allocated per
    /// message, and the view (its frame included) is valid only until the handler returns. Raised before
    /// <see cref="PacketInReceived"/>.
    /// </summary>
    public event PacketInViewAction? PacketInViewReceived;

    /// <summary>Every PORT_STATUS from every switch; the session's port table is already updated.</summary>
    public event Action<OpenFlowSession, PortStatus>? PortStatusReceived;

    /// <summary>Any session's <see cref="OpenFlowSession.BarrierCompleted"/> (for the barrier round-trip histogram).</summary>
    public event Action<OpenFlowSession, TimeSpan>? BarrierCompleted;

    public void Start()
    {
        _listener = new TcpListener(_endpoint);
        _listener.Start(backlog: 512);
        Log.Listening(_logger, _listener.LocalEndpoint);
        if (_options.Tls is null && !IPAddress.IsLoopback(_endpoint.Address)) Log.PlainTcpBeyondLoopback(_logger, _listener.LocalEndpoint);
        _acceptLoop = AcceptLoopAsync(_stop.Token);
    }

    public bool TryGetSwitch(string switchId, out OpenFlowSession session) =>
        _switches.TryGetValue(switchId, out session!) && session.IsReady;

    private async Task AcceptLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket socket;
            try { socket = await _listener!.AcceptSocketAsync(ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            catch (SocketException) { continue; }
            catch (ObjectDisposedException) { return; }
            socket.NoDelay = true;
            if (_options.Tls is { } tls)
            {
                // The handshake runs beside the accept loop: a slow or hostile peer holds up nobody else.
                _ = AcceptTlsAsync(socket, tls, ct);
                continue;
            }
            var session = Attach(socket, new NetworkStream(socket, ownsSocket: true));
            _running[session] = RunSessionAsync(session, socket, ct);
        }
    }

    /// <summary>TLS first; the session gets the decrypted stream, and a refused peer never reaches it.</summary>
    private async Task AcceptTlsAsync(Socket socket, OpenFlowTlsOptions tls, CancellationToken ct)
    {
        string remote = socket.RemoteEndPoint?.ToString() ?? "?";
        System.Net.Security.SslStream stream;
        try
        {
            stream = await tls.AuthenticateAsync(socket, ct).ConfigureAwait(false);
        }
        catch (System.Security.Authentication.AuthenticationException e)
        {
            socket.Dispose();
            Interlocked.Increment(ref _tlsRefused);
            if (_tlsRefusalLog.TryAcquire(_time, out long suppressed))
            {
                if (suppressed > 0) Log.TlsRefusalsSuppressed(_logger, suppressed);
                Log.TlsRefused(_logger, remote, e.Message);
            }
            return;
        }
        if (ct.IsCancellationRequested) { await stream.DisposeAsync().ConfigureAwait(false); return; }
        var session = Attach(socket, stream);
        _running[session] = RunSessionAsync(session, socket, ct);
    }

    private long _tlsRefused;
    private readonly RefusalLogLimit _tlsRefusalLog = new();

    /// <summary>Connections refused during the TLS handshake (no certificate, another CA, a stalled handshake).</summary>
    public long TlsRefused => Interlocked.Read(ref _tlsRefused);

    private OpenFlowSession Attach(Socket socket, Stream stream)
    {
        var pipe = new StreamDuplexPipe(PipeReader.Create(stream), PipeWriter.Create(stream));
        var session = new OpenFlowSession(pipe, socket.RemoteEndPoint?.ToString() ?? "?", _options, _logger, _time);
        // PACKET_INs arrive as views of the receive buffer; only a PacketInReceived subscriber costs a copy.
        session.PacketInViewReceived += (s, p) =>
        {
            PacketInViewReceived?.Invoke(s, p);
            if (PacketInReceived is { } owned) owned(s, p.ToMessage());
        };
        session.BarrierCompleted += (s, t) => BarrierCompleted?.Invoke(s, t);
        session.PortStatusReceived += (s, m) => PortStatusReceived?.Invoke(s, m);
        return session;
    }

    private async Task RunSessionAsync(OpenFlowSession session, Socket socket, CancellationToken ct)
    {
        try
        {
            var run = session.RunAsync(ct);
            try
            {
                await session.Ready.ConfigureAwait(false);
                if (_switches.TryGetValue(session.SwitchId, out var old) && !ReferenceEquals(old, session))
                    await old.CloseAsync("replaced by a new connection from the same datapath").ConfigureAwait(false);
                _switches[session.SwitchId] = session;
                SwitchConnected?.Invoke(session);
            }
            catch (OpenFlowSessionException) { }
            string reason = await run.ConfigureAwait(false);
            if (session.Features is not null && _switches.TryRemove(new KeyValuePair<string, OpenFlowSession>(session.SwitchId, session)))
                SwitchDisconnected?.Invoke(session, reason);
        }
        finally
        {
            socket.Dispose();
            await session.DisposeAsync().ConfigureAwait(false);
            _running.TryRemove(session, out _);
        }
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stop.Cancel();
        _listener?.Stop();
        if (_acceptLoop is not null) await _acceptLoop.ConfigureAwait(false);
        foreach (var s in _running.Keys) await s.CloseAsync("listener stopped").ConfigureAwait(false);
        try { await Task.WhenAll(_running.Values).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); }
        catch (TimeoutException) { /* sessions are closed; their sockets go with the process */ }
        _stop.Dispose();
    }

    /// <summary>A peer can make refusals at will: at most 10 log lines per 10 s, the rest counted (<see cref="TlsRefused"/>).</summary>
    private sealed class RefusalLogLimit
    {
        private readonly Lock _gate = new();
        private long _windowStart = long.MinValue, _suppressed;
        private int _logged;

        public bool TryAcquire(TimeProvider time, out long suppressedBefore)
        {
            long now = time.GetTimestamp();
            lock (_gate)
            {
                if (_windowStart == long.MinValue || now - _windowStart >= 10 * time.TimestampFrequency) { _windowStart = now; _logged = 0; }
                suppressedBefore = 0;
                if (_logged >= 10) { _suppressed++; return false; }
                _logged++;
                suppressedBefore = _suppressed;
                _suppressed = 0;
                return true;
            }
        }
    }

    private sealed class StreamDuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }
}
