using System.Buffers.Binary;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Protocol;
using SubsetMulticast.OpenFlow.Southbound;
using SubsetMulticast.OpenFlow.Tests.Protocol;
using Xunit.Abstractions;

namespace SubsetMulticast.OpenFlow.Tests.Interop;

/// <summary>
/// Every message the codec emits, written into a pcap as TCP payload to port 6653, must be decoded by
/// tshark's OpenFlow 1.3 dissector with the right type and without a malformed / expert-error mark.
/// </summary>
[Trait("Category", "Interop")]
public class TsharkDissectorTests(ITestOutputHelper output)
{
    [Fact]
    public void Tshark_EveryEmittedMessage_DecodesWithoutMalformedOrExpertError()
    {
        string tshark = Shell.Require("tshark", "tshark");
        var messages = Samples.All().ToList();
        // What the adapter emits for a real transaction, v4 and v6, with and without VLAN.
        var sb = new OpenFlowSouthbound(new SubsetMulticast.OpenFlow.Connections.OpenFlowListener(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0)));
        foreach (var rule in new[] { new GroupRule(new VlanId(0), IpAddress.Parse("239.1.2.3"), [1, 2, 3]), new GroupRule(new VlanId(42), IpAddress.Parse("ff0e::77"), [4]) })
        {
            messages.AddRange(sb.InstallMessages(rule, GroupModCommand.Add));
            messages.AddRange(sb.InstallMessages(rule, GroupModCommand.Modify));
            messages.AddRange(sb.RemoveMessages(rule));
        }
        messages.Add(new ErrorMessage(OfpErrorNames.HelloFailed, 0, "We support only OpenFlow 1.3"u8.ToArray()));
        // Hitless reconcile's ONF bundle: open, one add, commit (tshark shows them as experimenter messages).
        messages.Add(new BundleControl(7, BundleControlType.OpenRequest, OfpBundle.FlagAtomic | OfpBundle.FlagOrdered) { Xid = 1 });
        messages.Add(new BundleAdd(7, OfpBundle.FlagAtomic | OfpBundle.FlagOrdered, sb.InstallMessages(new GroupRule(new VlanId(0), IpAddress.Parse("239.255.0.9"), [1]), GroupModCommand.Add).First()) { Xid = 2 });
        messages.Add(new BundleControl(7, BundleControlType.CommitRequest, OfpBundle.FlagAtomic | OfpBundle.FlagOrdered) { Xid = 3 });

        string dir = Directory.CreateTempSubdirectory("of-tshark").FullName;
        try
        {
            string pcap = Path.Combine(dir, "of13.pcap");
            File.WriteAllBytes(pcap, Pcap(messages.Select(m => m.ToArray()).ToList()));
            var (code, text, err) = Shell.Run(tshark, $"-n -r {pcap} -d tcp.port==6653,openflow -T fields -E separator=; -e frame.number -e openflow_v4.type -e _ws.malformed -e _ws.expert.severity -e _ws.expert.message", timeoutMs: 60_000);
            Assert.True(code == 0, $"tshark failed: {err}");
            var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(messages.Count, lines.Length);
            for (int i = 0; i < messages.Count; i++)
            {
                var f = lines[i].Split(';');
                output.WriteLine($"{messages[i].Type,-18} {lines[i]}");
                Assert.Equal(((byte)messages[i].Type).ToString(System.Globalization.CultureInfo.InvariantCulture), f[1].Split(",")[0]); // an ERROR also shows the embedded request type
                Assert.True(f[2].Length == 0, $"frame {i + 1} ({messages[i].GetType().Name}) malformed: {lines[i]}");
                // Expert severities: 0x00600000 warning, 0x00800000 error. Chat/note are allowed.
                Assert.False(f[3].Contains("6291456") || f[3].Contains("8388608") || f[3].Contains("0x00600000") || f[3].Contains("0x00800000"),
                    $"frame {i + 1} ({messages[i].GetType().Name}) has an expert warning/error: {lines[i]}");
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>One Ethernet/IPv4/TCP segment per message, 10.0.0.1:40000 → 10.0.0.2:6653, consecutive sequence numbers.</summary>
    internal static byte[] Pcap(IReadOnlyList<byte[]> payloads)
    {
        using var ms = new MemoryStream();
        Span<byte> gh = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(gh, 0xA1B2C3D4);
        BinaryPrimitives.WriteUInt16LittleEndian(gh[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(gh[6..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(gh[16..], 65535);
        BinaryPrimitives.WriteUInt32LittleEndian(gh[20..], 1); // LINKTYPE_ETHERNET
        ms.Write(gh);
        uint seq = 1000;
        int n = 0;
        foreach (var payload in payloads)
        {
            int ipLen = 20 + 20 + payload.Length;
            var frame = new byte[14 + ipLen];
            // Ethernet
            new byte[] { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00 }.CopyTo(frame, 0);
            var ip = frame.AsSpan(14);
            ip[0] = 0x45; BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)ipLen);
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)n);
            ip[6] = 0x40; ip[8] = 64; ip[9] = 6;
            new byte[] { 10, 0, 0, 1, 10, 0, 0, 2 }.CopyTo(ip[12..]);
            uint sum = 0;
            for (int i = 0; i < 20; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(ip[i..]);
            while (sum > 0xFFFF) sum = (sum & 0xFFFF) + (sum >> 16);
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], (ushort)~sum);
            var tcp = ip[20..];
            BinaryPrimitives.WriteUInt16BigEndian(tcp, 40000);
            BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], 6653);
            BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], seq);
            BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], 1);
            tcp[12] = 0x50; tcp[13] = 0x18; // PSH ACK
            BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], 65535);
            payload.CopyTo(tcp[20..]);
            // TCP checksum over the pseudo-header
            uint c = 0x0A00 + 0x0001 + 0x0A00 + 0x0002 + 6 + (uint)(20 + payload.Length);
            for (int i = 0; i < 20 + payload.Length; i += 2)
                c += i + 1 < 20 + payload.Length ? BinaryPrimitives.ReadUInt16BigEndian(tcp[i..]) : (uint)(tcp[i] << 8);
            while (c > 0xFFFF) c = (c & 0xFFFF) + (c >> 16);
            BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], (ushort)~c);
            seq += (uint)payload.Length;

            var rh = new byte[16].AsSpan();
            BinaryPrimitives.WriteUInt32LittleEndian(rh, 1_700_000_000);
            BinaryPrimitives.WriteUInt32LittleEndian(rh[4..], (uint)(n * 1000));
            BinaryPrimitives.WriteUInt32LittleEndian(rh[8..], (uint)frame.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(rh[12..], (uint)frame.Length);
            ms.Write(rh);
            ms.Write(frame);
            n++;
        }
        return ms.ToArray();
    }
}
