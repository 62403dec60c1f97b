using System.Net;
using System.Net.Sockets;

namespace SubsetMulticast.Snmp.Agent;

/// <summary>Serves an <see cref="SnmpAgent"/> on one UDP endpoint: one receive loop, answers sent from the same socket.</summary>
public sealed class SnmpUdpAgent : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public SnmpUdpAgent(SnmpAgent agent, IPEndPoint endpoint)
    {
        Agent = agent;
        _socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(endpoint);
        Endpoint = (IPEndPoint)_socket.LocalEndPoint!;
        _loop = Task.Run(LoopAsync);
    }

    public SnmpAgent Agent { get; }
    public IPEndPoint Endpoint { get; }

    private async Task LoopAsync()
    {
        var buffer = new byte[65_535];
        EndPoint any = new IPEndPoint(Endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult r;
            try { r = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { continue; }
            var response = Agent.Handle(buffer.AsSpan(0, r.ReceivedBytes));
            if (response is null) continue;
            try { await _socket.SendToAsync(response, SocketFlags.None, r.RemoteEndPoint, _stop.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            catch (SocketException) { }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        _socket.Dispose();
        try { await _loop.ConfigureAwait(false); } catch (OperationCanceledException) { }
    }
}
