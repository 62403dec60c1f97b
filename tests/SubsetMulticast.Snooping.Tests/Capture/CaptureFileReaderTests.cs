using System.Buffers.Binary;
using System.Text;
using SubsetMulticast.Packets.Capture;
using SubsetMulticast.Capture;
using static SubsetMulticast.Snooping.Tests.Frames;

namespace SubsetMulticast.Snooping.Tests.Capture;

public sealed class CaptureFileReaderTests
{
    /// <summary>Writes pcapng blocks in either byte order.</summary>
    internal sealed class NgWriter(bool bigEndian)
    {
        private readonly MemoryStream _s = new();

        public byte[] ToArray() => _s.ToArray();

        private void U16(Span<byte> d, int v) { if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(d, (ushort)v); else BinaryPrimitives.WriteUInt16LittleEndian(d, (ushort)v); }
        private void U32(Span<byte> d, uint v) { if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(d, v); else BinaryPrimitives.WriteUInt32LittleEndian(d, v); }

        private void Block(uint type, byte[] body)
        {
            int padded = (body.Length + 3) & ~3;
            var b = new byte[12 + padded];
            U32(b, type);
            U32(b.AsSpan(4), (uint)b.Length);
            body.CopyTo(b, 8);
            U32(b.AsSpan(b.Length - 4), (uint)b.Length);
            _s.Write(b);
        }

        public NgWriter Section()
        {
            var body = new byte[16];
            U32(body, 0x1A2B3C4D);
            U16(body.AsSpan(4), 1);
            BinaryPrimitives.WriteInt64LittleEndian(body.AsSpan(8), -1);
            Block(0x0A0D0D0A, body);
            return this;
        }

        public NgWriter Interface(string name, byte? tsresol = null, int linkType = 1)
        {
            var opts = new List<byte>();
            void Opt(int code, byte[] value)
            {
                var h = new byte[4];
                U16(h, code);
                U16(h.AsSpan(2), value.Length);
                opts.AddRange(h);
                opts.AddRange(value);
                while (opts.Count % 4 != 0) opts.Add(0);
            }
            Opt(2, Encoding.UTF8.GetBytes(name));
            if (tsresol is { } r) Opt(9, [r]);
            Opt(0, []);
            var body = new byte[8 + opts.Count];
            U16(body, linkType);
            U32(body.AsSpan(4), 65535);
            opts.CopyTo(body, 8);
            Block(1, body);
            return this;
        }

        public NgWriter Enhanced(int iface, ulong ts, byte[] data)
        {
            var body = new byte[20 + ((data.Length + 3) & ~3)];
            U32(body, (uint)iface);
            U32(body.AsSpan(4), (uint)(ts >> 32));
            U32(body.AsSpan(8), (uint)ts);
            U32(body.AsSpan(12), (uint)data.Length);
            U32(body.AsSpan(16), (uint)data.Length);
            data.CopyTo(body, 20);
            Block(6, body);
            return this;
        }

        public NgWriter Simple(byte[] data)
        {
            var body = new byte[4 + ((data.Length + 3) & ~3)];
            U32(body, (uint)data.Length);
            data.CopyTo(body, 4);
            Block(3, body);
            return this;
        }

        public NgWriter Statistics(int iface, ulong ts)
        {
            var body = new byte[12];
            U32(body, (uint)iface);
            U32(body.AsSpan(4), (uint)(ts >> 32));
            U32(body.AsSpan(8), (uint)ts);
            Block(5, body);
            return this;
        }

        public NgWriter Custom()
        {
            Block(0x00000BAD, new byte[8]);
            return this;
        }
    }

    private static readonly long Epoch2026 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PcapNg_BothByteOrders_InterfacesBecomePorts_TimestampsPerResolution(bool bigEndian)
    {
        var r1 = V2Report("239.1.1.1");
        var r2 = Mld1Report("ff0e::1");
        ulong micros = (ulong)Epoch2026 * 1_000_000 + 250_000;
        ulong nanos = (ulong)Epoch2026 * 1_000_000_000 + 500_000_000;
        ulong binary = ((ulong)Epoch2026 << 10) + 256;   // 2^-10 s units: +0.25 s
        var file = new NgWriter(bigEndian).Section()
            .Interface("x-p1")
            .Interface("x-p2", tsresol: 9)
            .Custom()
            .Interface("x-p3", tsresol: 0x80 | 10)
            .Enhanced(0, micros, r1)
            .Enhanced(1, nanos, r2)
            .Enhanced(2, binary, r1)
            .Statistics(1, nanos + 2_000_000_000)
            .ToArray();
        using var reader = CaptureFileReader.Open(new MemoryStream(file));
        var records = new List<(CaptureRecordKind Kind, int Iface, long Ts, byte[] Data)>();
        while (reader.TryRead(out var rec)) records.Add((rec.Kind, rec.Interface, rec.Timestamp, rec.Data.ToArray()));
        Assert.Equal(["x-p1", "x-p2", "x-p3"], reader.Interfaces.Select(i => i.Name));
        Assert.Equal(4, records.Count);
        long epochTicks = Epoch2026 * TimeSpan.TicksPerSecond;
        Assert.Equal((CaptureRecordKind.Packet, 0, epochTicks + TimeSpan.TicksPerSecond / 4), (records[0].Kind, records[0].Iface, records[0].Ts));
        Assert.Equal(r1, records[0].Data);
        Assert.Equal(epochTicks + TimeSpan.TicksPerSecond / 2, records[1].Ts);
        Assert.Equal(r2, records[1].Data);
        Assert.Equal(epochTicks + TimeSpan.TicksPerSecond / 4, records[2].Ts);
        Assert.Equal(CaptureRecordKind.Statistics, records[3].Kind);
        Assert.Equal(epochTicks + TimeSpan.TicksPerSecond * 5 / 2, records[3].Ts);
        Assert.False(reader.EndedEarly);
    }

    [Fact]
    public void PcapNg_SimplePacketsAndSecondSection_MapToTheRightInterfaces()
    {
        var r1 = V2Report("239.1.1.1");
        var file = new NgWriter(false).Section().Interface("a").Enhanced(0, 1_000_000, r1).Simple(r1)
            .Section().Interface("b").Enhanced(0, 2_000_000, r1).ToArray();
        using var reader = CaptureFileReader.Open(new MemoryStream(file));
        var ifaces = new List<(int, long)>();
        while (reader.TryRead(out var rec)) ifaces.Add((rec.Interface, rec.Timestamp));
        Assert.Equal([(0, TimeSpan.TicksPerSecond), (0, TimeSpan.TicksPerSecond), (1, 2 * TimeSpan.TicksPerSecond)], ifaces);
        Assert.Equal(["a", "b"], reader.Interfaces.Select(i => i.Name));
    }

    [Fact]
    public void PcapNg_CutShort_EndsEarlyWithoutThrowing()
    {
        var file = new NgWriter(false).Section().Interface("a").Enhanced(0, 1, V2Report("239.1.1.1")).ToArray();
        for (int cut = 28 + 1; cut < file.Length; cut += 3)
        {
            using var reader = CaptureFileReader.Open(new MemoryStream(file[..cut]));
            while (reader.TryRead(out _)) { }
        }
    }

    /// <summary>A stream that cannot seek, as a pipe or a socket gives: the reader cannot know how much is left.</summary>
    private sealed class ForwardOnlyStream(byte[] data) : Stream
    {
        private readonly MemoryStream _inner = new(data);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => _inner.Read(buffer);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>
    /// A record header claiming 60 MiB in a file of a few hundred bytes (what a fuzzer writes first) is cut short,
    /// and costs no 60 MiB buffer: the reader grows its buffer only as bytes arrive.
    /// </summary>
    [Theory]
    [InlineData(false, true)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(true, false)]
    public void HugeClaimedLength_InAShortFile_EndsEarlyWithoutAllocatingIt(bool pcapng, bool seekable)
    {
        const uint claim = 60u << 20;
        byte[] file;
        if (pcapng)
        {
            var head = new NgWriter(false).Section().Interface("a").ToArray();
            var block = new byte[300];
            BinaryPrimitives.WriteUInt32LittleEndian(block, 6);
            BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(4), claim);
            file = [.. head, .. block];
        }
        else
        {
            file = new byte[24 + 16 + 300];
            BinaryPrimitives.WriteUInt32LittleEndian(file, 0xA1B2C3D4);
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(16), 65535);
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(20), 1);
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(32), claim);
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(36), claim);
        }
        using var reader = CaptureFileReader.Open(seekable ? new MemoryStream(file) : new ForwardOnlyStream(file));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.False(reader.TryRead(out _));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(reader.EndedEarly);
        Assert.True(allocated < 1 << 20, $"{allocated} bytes allocated for a record of {file.Length} bytes claiming {claim}");
        Assert.False(reader.TryRead(out _));
    }

    [Fact]
    public void PcapNg_ImpossibleBlockLength_ThrowsInvalidData()
    {
        var file = new NgWriter(false).Section().Interface("a").ToArray();
        var bad = file.Concat(new byte[] { 6, 0, 0, 0, 5, 0, 0, 0 }).ToArray();
        using var reader = CaptureFileReader.Open(new MemoryStream(bad));
        Assert.Throws<InvalidDataException>(() => reader.TryRead(out _));
    }

    [Fact]
    public void Pcap_FromPacketsWriter_ReplaysIntoOnePort()
    {
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms, ownsStream: false))
        {
            w.WriteFrame(V2Report("239.2.2.2"), Epoch2026 * 1_000_000);
            w.WriteFrame(V2Report("239.3.3.3"), Epoch2026 * 1_000_000 + 1_500_000);
        }
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, ms.ToArray());
            var snooper = SnoopSessions.ReplayFile(path);
            var s = snooper.Snapshot();
            Assert.Equal(["239.2.2.2", "239.3.3.3"], s.Groups.Select(g => g.Group.ToString()));
            Assert.All(s.Groups, g => Assert.Equal("pcap", g.Port));
            Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(Epoch2026).AddSeconds(1.5), s.Time);
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Pcap_MicroAndNanoMagic_BothByteOrders(bool bigEndian, bool nano)
    {
        var frame = V2Report("239.1.1.1");
        var b = new byte[24 + 16 + frame.Length];
        void U32(int at, uint v) { if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(at), v); else BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), v); }
        U32(0, nano ? 0xA1B23C4D : 0xA1B2C3D4);
        U32(16, 65535);
        U32(20, 1);
        U32(24, (uint)Epoch2026);
        U32(28, nano ? 250_000_000u : 250_000u);
        U32(32, (uint)frame.Length);
        U32(36, (uint)frame.Length);
        frame.CopyTo(b, 40);
        using var reader = CaptureFileReader.Open(new MemoryStream(b));
        Assert.True(reader.TryRead(out var rec));
        Assert.Equal(Epoch2026 * TimeSpan.TicksPerSecond + TimeSpan.TicksPerSecond / 4, rec.Timestamp);
        Assert.Equal(frame, rec.Data.ToArray());
        Assert.False(reader.TryRead(out _));
    }

    [Fact]
    public void Replay_Until_StopsThereAndRunsTimersToIt()
    {
        var file = new NgWriter(false).Section().Interface("x-p5")
            .Enhanced(0, (ulong)Epoch2026 * 1_000_000, V2Report("239.2.2.2"))
            .Enhanced(0, (ulong)(Epoch2026 + 10) * 1_000_000, V2Report("239.3.3.3"))
            .ToArray();
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, file);
            var at = DateTimeOffset.FromUnixTimeSeconds(Epoch2026 + 5);
            var s = SnoopSessions.ReplayFile(path, new SnoopingOptions { GroupMembershipInterval = TimeSpan.FromSeconds(4) }, at).Snapshot();
            Assert.Empty(s.Groups);   // 239.2.2.2 expired at +4 s; 239.3.3.3 not yet replayed
            Assert.Equal(at, s.Time);
            var json = Reporting.SnoopingJson.ToJson(SnoopSessions.ReplayFile(path).Snapshot());
            Assert.StartsWith("{\"groups\":[{\"vlan\":0,\"group\":\"239.2.2.2\",\"port\":\"x-p5\",\"mode\":\"EXCLUDE\",\"sources\":[],\"compatibility\":\"IGMPv2\"},", json, StringComparison.Ordinal);
            Assert.Contains("\"hosts\":[{\"mac\":\"02:00:00:00:00:0a\",\"vlan\":0,\"ips\":[\"10.0.0.10\"],\"port\":\"x-p5\"}]", json, StringComparison.Ordinal);
        }
        finally { File.Delete(path); }
    }
}
