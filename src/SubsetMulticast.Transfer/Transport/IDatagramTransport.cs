using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Transfer.Transport;

/// <summary>
/// Receives datagrams from a transport, on the transport's receive thread, one at a time. The payload span is
/// valid only during the call. It must not throw; it may call <see cref="IDatagramTransport.Send"/>.
/// </summary>
public interface IDatagramSink
{
    void OnDatagram(IpAddress source, ushort sourcePort, IpAddress destination, ReadOnlySpan<byte> payload);
}

/// <summary>
/// The seam between the protocol and the network: real UDP sockets (<see cref="LinuxUdpTransport"/>: a socket for
/// the negotiating group and unicast, an AF_PACKET tap for rendezvous groups nobody joins) or the emulator's
/// hosts. One transport is one host's endpoint: <see cref="Address"/> and <see cref="Port"/>.
/// </summary>
public interface IDatagramTransport : IAsyncDisposable
{
    IpAddress Address { get; }
    ushort Port { get; }
    /// <summary>Starts delivering received datagrams to the sink (once).</summary>
    void Start(IDatagramSink sink);
    /// <summary>Sends one datagram (unicast or to a group). Best effort: loss is the protocol's business.</summary>
    void Send(IpAddress destination, ushort port, ReadOnlySpan<byte> datagram);
    /// <summary>Joins a group with the host's IGMP/MLD stack (the negotiating/reference group only; never a rendezvous group).</summary>
    void JoinReference(IpAddress group);
}
