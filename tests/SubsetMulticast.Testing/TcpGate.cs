using System.Net;
using System.Net.Sockets;

namespace SubsetMulticast.Testing;

/// <summary>
/// A loopback TCP forwarder that a test can close: <see cref="Close"/> cuts every connection through it and refuses new
/// ones (accepted, then closed at once) until <see cref="Open"/>. Stands between a client and a real peer to cut the
/// client off from that peer while others still reach it (a partition, without touching the peer).
/// </summary>
public sealed class TcpGate : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _live = [];
    private readonly Task _accepting;
    private volatile bool _open = true;

    public TcpGate(IPEndPoint target)
    {
        _target = target;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The address clients connect to.</summary>
    public IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Cuts every connection and refuses new ones.</summary>
    public void Close()
    {
        _open = false;
        lock (_live)
        {
            foreach (var s in _live) { try { s.Close(); } catch (ObjectDisposedException) { } }
            _live.Clear();
        }
    }

    /// <summary>Lets connections through again.</summary>
    public void Open() => _open = true;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false); }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { return; }
            if (!_open) { client.Close(); continue; }
            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(Socket client)
    {
        var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try { await upstream.ConnectAsync(_target, _stop.Token).ConfigureAwait(false); }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            client.Close(); upstream.Close();
            return;
        }
        lock (_live) { _live.Add(client); _live.Add(upstream); }
        if (!_open) { Close(); return; }
        await Task.WhenAny(PumpAsync(client, upstream), PumpAsync(upstream, client)).ConfigureAwait(false);
        client.Close(); upstream.Close();
        lock (_live) { _live.Remove(client); _live.Remove(upstream); }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16384];
        try
        {
            while (true)
            {
                int n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                if (n == 0) return;
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        Close();
        try { await _accepting.ConfigureAwait(false); } catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}
