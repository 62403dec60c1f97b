using System.Runtime.InteropServices;

namespace SubsetMulticast.Proof;

/// <summary>The few libc calls .NET does not wrap: entering a network namespace, AF_PACKET with kernel receive timestamps, CLOCK_REALTIME.</summary>
internal static unsafe partial class Native
{
    public const int AfPacket = 17, SockRaw = 3, SolSocket = 1, SoTimestampNs = 35, SoRcvBuf = 8, SoRcvBufForce = 33;
    public const int CloneNewNet = 0x40000000, ORdOnly = 0, PollIn = 1, MsgDontWait = 0x40;
    public const ushort EthPAll = 0x0003;
    public const byte PacketOutgoing = 4;

    [StructLayout(LayoutKind.Sequential)]
    public struct TimeSpec { public long Sec; public long Nsec; }

    [StructLayout(LayoutKind.Sequential)]
    public struct SockAddrLl
    {
        public ushort Family; public ushort Protocol; public int IfIndex; public ushort HaType; public byte PktType; public byte HaLen;
        public ulong Addr;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec { public void* Base; public nuint Len; }

    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name; public uint NameLen; public IoVec* Iov; public nuint IovLen; public void* Control; public nuint ControlLen; public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd { public int Fd; public short Events; public short REvents; }

    [LibraryImport("libc", SetLastError = true)] public static partial int setns(int fd, int nstype);
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial int open(string path, int flags);
    [LibraryImport("libc", SetLastError = true)] public static partial int close(int fd);
    [LibraryImport("libc", SetLastError = true)] public static partial int socket(int domain, int type, int protocol);
    [LibraryImport("libc", SetLastError = true)] public static partial int bind(int fd, void* addr, int len);
    [LibraryImport("libc", SetLastError = true)] public static partial int setsockopt(int fd, int level, int name, void* value, int len);
    [LibraryImport("libc", SetLastError = true)] public static partial nint recvmsg(int fd, MsgHdr* msg, int flags);
    [LibraryImport("libc", SetLastError = true)] public static partial int poll(PollFd* fds, nuint count, int timeoutMs);
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial uint if_nametoindex(string name);
    [LibraryImport("libc")] public static partial int clock_gettime(int clock, TimeSpec* ts);
    [LibraryImport("libc")] public static partial int usleep(uint micros);

    /// <summary>CLOCK_REALTIME in ns: the clock SO_TIMESTAMPNS stamps received packets with, the same in every namespace.</summary>
    public static long NowNs()
    {
        TimeSpec ts;
        clock_gettime(0, &ts);
        return ts.Sec * 1_000_000_000L + ts.Nsec;
    }

    public static int Check(int rc, string what) =>
        rc < 0 ? throw new InvalidOperationException($"{what} failed: errno {Marshal.GetLastPInvokeError()}") : rc;
}
