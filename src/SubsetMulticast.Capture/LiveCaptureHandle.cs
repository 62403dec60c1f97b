using SharpPcap;
using SharpPcap.LibPcap;

namespace SubsetMulticast.Capture;

/// <summary>A capture error (open, filter, read, inject), with libpcap's own message.</summary>
public sealed class CaptureException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// One live capture handle on one interface, through SharpPcap (which finds libpcap under any of its sonames:
/// libpcap.so, .so.0.8, .so.1): inbound frames only (the BPF <c>inbound</c> qualifier, so frames we or the bridge
/// send out are not mistaken for the port's own), a BPF filter, immediate mode, and frame injection.
/// </summary>
/// <remarks>
/// Frames are read by <see cref="PcapFrames.Next"/> (libpcap's pointers), not <see cref="PcapDevice.GetNextPacket"/>:
/// the latter wraps every frame's header in two new objects (a <c>PcapHeader</c> and a <c>PosixTimeval</c>, with
/// decimal arithmetic), which the snooping benchmark measures (results/snooping.md); the pointers cost nothing per
/// frame and the span over libpcap's buffer is handed to the snooper as it is.
/// </remarks>
public sealed class LiveCaptureHandle : IDisposable
{
    /// <summary>Snooping traffic plus what host learning needs, tagged or not.</summary>
    public const string DefaultFilter = "igmp or ip6 or arp or (vlan and (igmp or ip6 or arp))";

    private LibPcapLiveDevice? _device;
    private readonly Lock _injectLock = new();

    private LiveCaptureHandle(LibPcapLiveDevice device, string name) { _device = device; Name = name; }

    public string Name { get; }

    public static LiveCaptureHandle Open(string interfaceName, string? filter = DefaultFilter, int readTimeoutMilliseconds = 100)
    {
        ArgumentException.ThrowIfNullOrEmpty(interfaceName);
        LibPcapLiveDevice? device;
        try
        {
            // A fresh list, not the cached LibPcapLiveDeviceList.Instance: interfaces (veths of a test) come and go.
            device = LibPcapLiveDeviceList.New().FirstOrDefault(d => d.Name == interfaceName);
        }
        catch (Exception e) when (IsMissingLibrary(e))
        {
            throw new CaptureException("libpcap is not installed (Debian package libpcap0.8).", e);
        }
        catch (PcapException e)
        {
            throw new CaptureException($"listing interfaces: {e.Message}", e);
        }
        if (device is null) throw new CaptureException($"{interfaceName}: no such interface (or no permission to capture on it).");
        try
        {
            device.Open(new DeviceConfiguration
            {
                Mode = DeviceModes.Promiscuous,
                ReadTimeout = readTimeoutMilliseconds,
                Immediate = true,
                Snaplen = 65535,
            });
            if (device.LinkType != PacketDotNet.LinkLayers.Ethernet)
                throw new CaptureException($"{interfaceName} is not an Ethernet interface (DLT {(int)device.LinkType}).");
            device.Filter = string.IsNullOrEmpty(filter) ? "inbound" : $"inbound and ({filter})";
            return new LiveCaptureHandle(device, interfaceName);
        }
        catch (PcapException e)
        {
            device.Close();
            throw new CaptureException($"{interfaceName}: {e.Message}", e);
        }
        catch
        {
            device.Close();
            throw;
        }
    }

    private static bool IsMissingLibrary(Exception e) =>
        e is DllNotFoundException || (e is TypeInitializationException { InnerException: { } inner } && IsMissingLibrary(inner));

    /// <summary>
    /// Waits up to the read timeout for one frame. True with the frame (valid until the next call) and its
    /// time in ticks since the Unix epoch; false on timeout.
    /// </summary>
    public bool TryNext(out ReadOnlySpan<byte> frame, out long timestamp)
    {
        var device = Device;
        int rc = PcapFrames.Next(device, out frame, out timestamp);
        if (rc < 0) throw new CaptureException($"reading {Name} failed ({rc}): {device.LastError}");
        return rc > 0;
    }

    /// <summary>Sends <paramref name="frame"/> out of this interface.</summary>
    public void Inject(ReadOnlySpan<byte> frame)
    {
        lock (_injectLock)
        {
            try { Device.SendPacket(frame); }
            catch (PcapException e) { throw new CaptureException($"sending on {Name}: {e.Message}", e); }
        }
    }

    private LibPcapLiveDevice Device => _device ?? throw new ObjectDisposedException(nameof(LiveCaptureHandle));

    public void Dispose() => Interlocked.Exchange(ref _device, null)?.Close();
}
