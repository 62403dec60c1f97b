using System.Buffers.Binary;
using SubsetMulticast.Snmp.Messages;
using SubsetMulticast.Snmp.Security;
using SubsetMulticast.Snmp.Tests.Support;

namespace SubsetMulticast.Snmp.Tests.Interop;

/// <summary>tshark (Wireshark 4.0's SNMP dissector) decodes our v1/v2c/v3 messages with no malformed or expert warning, and decrypts v3 with the user table.</summary>
public sealed class TsharkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tsm-tshark-snmp-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    // Malformed, cut short, or an expert item of warning (0x600000) or error severity.
    private const string Flagged = "_ws.malformed || _ws.short || _ws.expert.severity >= 0x600000";

    [Fact]
    public void OurMessages_DecodeCleanly_AndV3Decrypts()
    {
        var messages = Ber.CodecTests.Samples().Skip(1).ToList();
        var pcap = WritePcap("ours.pcap", messages);
        // Expert notes are allowed (tshark notes every noSuchInstance value); warnings and errors are not.
        var flagged = Run(pcap, "-Y", Flagged, "-T", "fields", "-e", "frame.number", "-e", "_ws.expert.message");
        Assert.Empty(flagged);
        Assert.NotEmpty(Run(pcap, "-Y", "_ws.expert", "-T", "fields", "-e", "frame.number"));   // the notes are there: the fields are live
        var decoded = Run(pcap, "-Y", "snmp", "-T", "fields", "-e", "snmp.version", "-e", "snmp.msgVersion", "-e", "snmp.community");
        Assert.Equal(messages.Count, decoded.Length);
        Assert.Equal(["1\t\tprivate", "0\t\tpublic", "1\t\tpublic", "\t3\t", "\t3\t", "\t3\t"], decoded);

        // Negative control: the same filter flags a NULL whose length runs past the message, so it is live.
        // (tshark 4.0 does not flag a message simply cut short: no control there.)
        var bad = WritePcap("bad.pcap", [Convert.FromHexString("302902010104067075626c6963a01c02045e3b0a0a020100020100300e300c06082b060102010105000501")]);
        Assert.NotEmpty(Run(bad, "-Y", Flagged, "-T", "fields", "-e", "frame.number"));

        // With the user table, tshark decrypts our AES-128 SET and authenticates it (snmp.msgAuthentication ok).
        var uat = $"000000000000000000000002,\"u256\",\"SHA2-256\",\"authpass256\",\"AES\",\"privpass256\"";
        var setOids = Run(pcap, "-o", $"uat:snmp_users:{uat}", "-Y", "snmp.msgID == 77", "-T", "fields", "-e", "snmp.name", "-e", "snmp.authentication_ok", "-e", "snmp.authentication_error");
        var line = Assert.Single(setOids).Split('\t');
        Assert.Contains("1.3.6.1.2.1.17.7.1.3.2.1.3.1.1.0.94.0.0.85.0", line[0]);
        Assert.NotEqual("", line[1]);          // SNMP Authentication OK
        Assert.Equal("", line[2]);
        var expertWithKeys = Run(pcap, "-o", $"uat:snmp_users:{uat}", "-Y", Flagged, "-T", "fields", "-e", "frame.number", "-e", "_ws.expert.message");
        Assert.Empty(expertWithKeys);
    }

    private string[] Run(string pcap, params string[] args)
    {
        var (code, o, e) = Tools.Run(_dir, "tshark", ["-n", "-r", pcap, "-d", "udp.port==16161,snmp", .. args], 60);
        Assert.True(code == 0, e);
        return o.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    // Ethernet/IPv4/UDP frames 127.0.0.1:40000 → 127.0.0.1:161 in a classic pcap.
    private string WritePcap(string name, IEnumerable<byte[]> payloads)
    {
        var path = Path.Combine(_dir, name);
        using var f = File.Create(path);
        Span<byte> gh = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(gh, 0xa1b2c3d4);
        BinaryPrimitives.WriteUInt16LittleEndian(gh[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(gh[6..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(gh[16..], 65535);
        BinaryPrimitives.WriteUInt32LittleEndian(gh[20..], 1);
        f.Write(gh);
        uint t = 1_700_000_000;
        foreach (var p in payloads)
        {
            var frame = new byte[14 + 20 + 8 + p.Length];
            frame[12] = 0x08;
            var ip = frame.AsSpan(14, 20);
            ip[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(20 + 8 + p.Length));
            ip[8] = 64;
            ip[9] = 17;
            ip[12] = 127; ip[15] = 1; ip[16] = 127; ip[19] = 1;
            uint sum = 0;
            for (int i = 0; i < 20; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(ip[i..]);
            while (sum > 0xFFFF) sum = (sum & 0xFFFF) + (sum >> 16);
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], (ushort)~sum);
            var udp = frame.AsSpan(34, 8);
            BinaryPrimitives.WriteUInt16BigEndian(udp, 40000);
            BinaryPrimitives.WriteUInt16BigEndian(udp[2..], 161);
            BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)(8 + p.Length));
            p.CopyTo(frame, 42);
            var rh = new byte[16];
            BinaryPrimitives.WriteUInt32LittleEndian(rh, t++);
            BinaryPrimitives.WriteUInt32LittleEndian(rh.AsSpan(8), (uint)frame.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(rh.AsSpan(12), (uint)frame.Length);
            f.Write(rh);
            f.Write(frame);
        }
        return path;
    }
}
