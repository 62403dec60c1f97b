using SubsetMulticast.Packets.Capture;
using SubsetMulticast.Packets.Tests.Support;
// Where the capture reader lives; if it moves (issue 13 talks of src/SubsetMulticast.Capture), this line and
// the ProjectReference are all that change.
using CaptureReader = SubsetMulticast.Capture.CaptureFileReader;

namespace SubsetMulticast.Fuzz.Targets;

/// <summary>
/// A pcap or pcapng file as <c>tsm snoop --pcap</c> reads it: every record to the end. The reader documents
/// <see cref="InvalidDataException"/> for a structurally impossible file; nothing else may escape, and every
/// record's data lies within what the file held.
/// </summary>
public sealed class CaptureTarget : FuzzTarget
{
    public override string Name => "capture";
    public override string Description => "pcap/pcapng file: CaptureFileReader over every record";
    public override Type? DocumentedException => typeof(InvalidDataException);

    protected override void Run(ReadOnlySpan<byte> input)
    {
        using var reader = CaptureReader.Open(new MemoryStream(input.ToArray(), writable: false));
        long total = 0;
        for (int i = 0; i < 100_000 && reader.TryRead(out var record); i++)
        {
            total += record.Data.Length;
            ContractViolation.Check(total <= input.Length, "records hold more bytes than the file");
            ContractViolation.Check((uint)record.Interface < (uint)Math.Max(1, reader.Interfaces.Count), $"record names interface {record.Interface} of {reader.Interfaces.Count}");
            _ = record.Time;
        }
        _ = (reader.EndedEarly, reader.LastTimestamp, reader.IsPcapNg);
    }

    public override IEnumerable<(string, byte[])> Seeds()
    {
        var frames = Catalog.All().Take(4).Select(f => f.Bytes).ToArray();
        var pcap = new MemoryStream();
        using (var w = new PcapWriter(pcap, ownsStream: false))
            for (int i = 0; i < frames.Length; i++) w.WriteFrame(frames[i], (1_764_633_600L + i) * 1_000_000);
        yield return ("pcap-four-frames", pcap.ToArray());
        yield return ("pcapng-le-two-interfaces", PcapNg.Build(bigEndian: false, frames));
        yield return ("pcapng-be-nanoseconds", PcapNg.Build(bigEndian: true, frames[..2], tsresol: 9));
    }

    /// <summary>A pcapng writer after CaptureFileReaderTests.NgWriter: SHB, IDBs (if_name, if_tsresol), EPBs, an ISB.</summary>
    private static class PcapNg
    {
        public static byte[] Build(bool bigEndian, byte[][] frames, byte? tsresol = null)
        {
            var s = new MemoryStream();
            void U16(Span<byte> d, int v) { if (bigEndian) System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(d, (ushort)v); else System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(d, (ushort)v); }
            void U32(Span<byte> d, uint v) { if (bigEndian) System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(d, v); else System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(d, v); }
            void Block(uint type, byte[] body)
            {
                int padded = (body.Length + 3) & ~3;
                var b = new byte[12 + padded];
                U32(b, type);
                U32(b.AsSpan(4), (uint)b.Length);
                body.CopyTo(b, 8);
                U32(b.AsSpan(b.Length - 4), (uint)b.Length);
                s.Write(b);
            }
            var shb = new byte[16];
            U32(shb, 0x1A2B3C4D);
            U16(shb.AsSpan(4), 1);
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(shb.AsSpan(8), -1);
            Block(0x0A0D0D0A, shb);
            foreach (var name in new[] { "br0-p1", "br0-p2" })
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
                Opt(2, System.Text.Encoding.UTF8.GetBytes(name));
                if (tsresol is { } r) Opt(9, [r]);
                Opt(0, []);
                var idb = new byte[8 + opts.Count];
                U16(idb, 1);
                U32(idb.AsSpan(4), 65535);
                opts.CopyTo(idb, 8);
                Block(1, idb);
            }
            for (int i = 0; i < frames.Length; i++)
            {
                var epb = new byte[20 + frames[i].Length];
                U32(epb, (uint)(i % 2));
                U32(epb.AsSpan(4), 0x0006_4A2B);
                U32(epb.AsSpan(8), (uint)(1000 * i));
                U32(epb.AsSpan(12), (uint)frames[i].Length);
                U32(epb.AsSpan(16), (uint)frames[i].Length);
                frames[i].CopyTo(epb, 20);
                Block(6, epb);
            }
            var isb = new byte[12];
            U32(isb.AsSpan(4), 0x0006_4A2B);
            Block(5, isb);
            return s.ToArray();
        }
    }
}
