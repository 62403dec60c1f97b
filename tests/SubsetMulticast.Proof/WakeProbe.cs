using System.Net;
using System.Net.Sockets;

namespace SubsetMulticast.Proof;

/// <summary>
/// What one cross-thread hand-off costs on this machine right now: two threads ping-pong a datagram over loopback
/// UDP with blocking receives, so each hop wakes a sleeping thread — the same kind of hop the setup path makes
/// (client → Kestrel → switch channel → ovs-vswitchd → our read loop → the response) a dozen times. On a VM whose
/// idle vCPUs halt (cpuidle driver "none": HLT exits to the host), a wake-up on an idle vCPU costs a host
/// scheduling round; on a busy machine the vCPUs do not halt. Recorded with every latency run, because it is
/// the figure that explains a quiet run slower than a loaded one.
/// </summary>
internal static class WakeProbe
{
    public static (double P50Us, double P99Us, string Idle) Measure(int roundTrips = 2000)
    {
        using var a = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        using var b = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        a.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        b.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        a.ReceiveTimeout = b.ReceiveTimeout = 2000;
        var echo = new Thread(() =>
        {
            var buf = new byte[16];
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            try { for (int i = 0; i < roundTrips; i++) { int n = b.ReceiveFrom(buf, ref from); b.SendTo(buf.AsSpan(0, n), from); } }
            catch (SocketException) { }
        }) { IsBackground = true };
        echo.Start();
        var rtts = new List<double>(roundTrips);
        var msg = new byte[8];
        var reply = new byte[16];
        try
        {
            for (int i = 0; i < roundTrips; i++)
            {
                long t0 = Native.NowNs();
                a.SendTo(msg, b.LocalEndPoint!);
                a.Receive(reply);
                rtts.Add((Native.NowNs() - t0) / 1e3);
                Native.usleep(200); // let both threads go idle, as between two setups
            }
        }
        catch (SocketException) { }
        echo.Join(3000);
        string idle = File.Exists("/sys/devices/system/cpu/cpuidle/current_driver") ? File.ReadAllText("/sys/devices/system/cpu/cpuidle/current_driver").Trim() : "?";
        return (Stats.P(rtts, 50), Stats.P(rtts, 99), idle);
    }
}
