using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;

namespace SubsetMulticast.Snooping.Capture;

/// <summary>libpcap (Debian libpcap0.8: libpcap.so.0.8) entry points we use.</summary>
internal static unsafe partial class LibPcap
{
    public const string Library = "libpcap.so.0.8";
    public const int ErrorBufferSize = 256;
    public const int DirectionIn = 1;      // PCAP_D_IN
    public const uint NetmaskUnknown = 0xFFFFFFFF;

    [StructLayout(LayoutKind.Sequential)]
    public struct PacketHeader
    {
        public nint Seconds;       // struct timeval tv_sec (long)
        public nint Microseconds;  // tv_usec (suseconds_t, long)
        public uint CapturedLength;
        public uint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct BpfProgram
    {
        public uint Length;
        public nint Instructions;
    }

    [LibraryImport(Library, EntryPoint = "pcap_create", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint Create(string source, byte* errorBuffer);

    [LibraryImport(Library, EntryPoint = "pcap_set_snaplen")]
    public static partial int SetSnapLength(nint p, int snaplen);

    [LibraryImport(Library, EntryPoint = "pcap_set_promisc")]
    public static partial int SetPromiscuous(nint p, int on);

    [LibraryImport(Library, EntryPoint = "pcap_set_timeout")]
    public static partial int SetTimeout(nint p, int milliseconds);

    [LibraryImport(Library, EntryPoint = "pcap_set_immediate_mode")]
    public static partial int SetImmediateMode(nint p, int on);

    [LibraryImport(Library, EntryPoint = "pcap_activate")]
    public static partial int Activate(nint p);

    [LibraryImport(Library, EntryPoint = "pcap_datalink")]
    public static partial int DataLink(nint p);

    [LibraryImport(Library, EntryPoint = "pcap_setdirection")]
    public static partial int SetDirection(nint p, int direction);

    [LibraryImport(Library, EntryPoint = "pcap_compile", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Compile(nint p, BpfProgram* program, string filter, int optimize, uint netmask);

    [LibraryImport(Library, EntryPoint = "pcap_setfilter")]
    public static partial int SetFilter(nint p, BpfProgram* program);

    [LibraryImport(Library, EntryPoint = "pcap_freecode")]
    public static partial void FreeCode(BpfProgram* program);

    [LibraryImport(Library, EntryPoint = "pcap_next_ex")]
    public static partial int NextEx(nint p, PacketHeader** header, byte** data);

    [LibraryImport(Library, EntryPoint = "pcap_inject")]
    public static partial int Inject(nint p, byte* data, nuint size);

    [LibraryImport(Library, EntryPoint = "pcap_breakloop")]
    public static partial void BreakLoop(nint p);

    [LibraryImport(Library, EntryPoint = "pcap_geterr")]
    public static partial byte* GetError(nint p);

    [LibraryImport(Library, EntryPoint = "pcap_close")]
    public static partial void Close(nint p);

    public static string ErrorText(nint p) => Marshal.PtrToStringUTF8((nint)GetError(p)) ?? "unknown libpcap error";
}

/// <summary>A libpcap error (open, filter, inject), with libpcap's own message.</summary>
public sealed class CaptureException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// One live capture handle on one interface: inbound frames only (pcap_setdirection PCAP_D_IN, so frames we or
/// the bridge send out are not mistaken for the port's own), a BPF filter, immediate mode, and pcap_inject.
/// </summary>
public sealed unsafe class LiveCaptureHandle : IDisposable
{
    /// <summary>Snooping traffic plus what host learning needs, tagged or not.</summary>
    public const string DefaultFilter = "igmp or ip6 or arp or (vlan and (igmp or ip6 or arp))";

    private nint _handle;
    private readonly Lock _injectLock = new();

    private LiveCaptureHandle(nint handle, string name) { _handle = handle; Name = name; }

    public string Name { get; }

    public static LiveCaptureHandle Open(string interfaceName, string? filter = DefaultFilter, int readTimeoutMilliseconds = 100)
    {
        byte* err = stackalloc byte[LibPcap.ErrorBufferSize];
        err[0] = 0;
        nint p;
        try
        {
            p = LibPcap.Create(interfaceName, err);
        }
        catch (DllNotFoundException e)
        {
            throw new CaptureException($"{LibPcap.Library} is not installed (Debian package libpcap0.8).", e);
        }
        if (p == 0) throw new CaptureException($"pcap_create({interfaceName}): {Marshal.PtrToStringUTF8((nint)err)}");
        try
        {
            LibPcap.SetSnapLength(p, 65535);
            LibPcap.SetPromiscuous(p, 1);
            LibPcap.SetTimeout(p, readTimeoutMilliseconds);
            LibPcap.SetImmediateMode(p, 1);
            int rc = LibPcap.Activate(p);
            if (rc < 0) throw new CaptureException($"pcap_activate({interfaceName}) failed ({rc}): {LibPcap.ErrorText(p)}");
            if (LibPcap.DataLink(p) != CaptureFileReader.LinkTypeEthernet)
                throw new CaptureException($"{interfaceName} is not an Ethernet interface (DLT {LibPcap.DataLink(p)}).");
            if (LibPcap.SetDirection(p, LibPcap.DirectionIn) != 0)
                throw new CaptureException($"pcap_setdirection({interfaceName}): {LibPcap.ErrorText(p)}");
            if (!string.IsNullOrEmpty(filter))
            {
                LibPcap.BpfProgram program;
                if (LibPcap.Compile(p, &program, filter, 1, LibPcap.NetmaskUnknown) != 0)
                    throw new CaptureException($"BPF filter '{filter}': {LibPcap.ErrorText(p)}");
                try
                {
                    if (LibPcap.SetFilter(p, &program) != 0) throw new CaptureException($"pcap_setfilter({interfaceName}): {LibPcap.ErrorText(p)}");
                }
                finally { LibPcap.FreeCode(&program); }
            }
            return new LiveCaptureHandle(p, interfaceName);
        }
        catch
        {
            LibPcap.Close(p);
            throw;
        }
    }

    /// <summary>
    /// Waits up to the read timeout for one frame. True with the frame (valid until the next call) and its
    /// time in ticks since the Unix epoch; false on timeout.
    /// </summary>
    public bool TryNext(out ReadOnlySpan<byte> frame, out long timestamp)
    {
        frame = default;
        timestamp = 0;
        LibPcap.PacketHeader* header;
        byte* data;
        int rc = LibPcap.NextEx(Handle, &header, &data);
        if (rc == 0) return false;
        if (rc < 0) throw new CaptureException($"pcap_next_ex({Name}) failed ({rc}): {LibPcap.ErrorText(Handle)}");
        frame = new ReadOnlySpan<byte>(data, (int)header->CapturedLength);
        timestamp = header->Seconds * TimeSpan.TicksPerSecond + header->Microseconds * TimeSpan.TicksPerMicrosecond;
        return true;
    }

    /// <summary>Sends <paramref name="frame"/> out of this interface.</summary>
    public void Inject(ReadOnlySpan<byte> frame)
    {
        lock (_injectLock)
        {
            fixed (byte* b = frame)
            {
                if (LibPcap.Inject(Handle, b, (nuint)frame.Length) < 0) throw new CaptureException($"pcap_inject({Name}): {LibPcap.ErrorText(Handle)}");
            }
        }
    }

    private nint Handle => _handle != 0 ? _handle : throw new ObjectDisposedException(nameof(LiveCaptureHandle));

    public void Dispose()
    {
        nint p = Interlocked.Exchange(ref _handle, 0);
        if (p != 0) LibPcap.Close(p);
    }
}
