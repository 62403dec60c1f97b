using SubsetMulticast.Packets.Tests.Support;

namespace SubsetMulticast.Packets.Tests;

/// <summary>tshark (a real peer) decodes every frame our builders emit with the same field values and no
/// expert info or malformed mark. Fails with "install tshark" when the dissector is absent.</summary>
public sealed class TsharkCrossCheckTests
{
    [Fact]
    public void Tshark_DecodesEveryBuiltFrame_WithExpectedFields()
    {
        var frames = Catalog.All();
        var fields = frames.SelectMany(f => f.Expect.Select(e => e.Field)).Distinct().ToArray();
        var pcap = Tshark.WritePcap(frames.Select(f => f.Bytes));
        try
        {
            var args = new List<string> { "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=," };
            foreach (var f in fields.Prepend("frame.protocols")) { args.Add("-e"); args.Add(f); }
            var lines = Tshark.Run(pcap, args.ToArray());
            Assert.Equal(frames.Count, lines.Length);
            var errors = new List<string>();
            for (int i = 0; i < frames.Count; i++)
            {
                var cols = lines[i].Split('\t');
                for (int c = 0; c < fields.Length; c++)
                {
                    var expected = frames[i].Expect.FirstOrDefault(e => e.Field == fields[c]);
                    if (expected.Field is null) continue;
                    if (cols[c + 1] != expected.Value) errors.Add($"{frames[i].Name}: {fields[c]} = '{cols[c + 1]}', expected '{expected.Value}' (protocols {cols[0]})");
                }
            }
            Assert.True(errors.Count == 0, string.Join("\n", errors));
        }
        finally
        {
            File.Delete(pcap);
        }
    }

    [Fact]
    public void Tshark_ReportsGoodChecksums_AndNoExpertOrMalformed()
    {
        var frames = Catalog.All();
        // Negative control: the same frames with the last byte flipped (breaks every checksum) must be flagged,
        // proving the filter below is live.
        var corrupted = frames.Where(f => !f.Name.StartsWith("arp", StringComparison.Ordinal)).Select(f =>
        {
            var b = (byte[])f.Bytes.Clone();
            b[^1] ^= 0x55;
            return b;
        }).ToArray();
        var bad = Tshark.WritePcap(corrupted);
        try
        {
            var flagged = Tshark.Run(bad, "-Y", "_ws.expert || _ws.malformed", "-T", "fields", "-e", "frame.number");
            Assert.Equal(corrupted.Length, flagged.Length);
        }
        finally
        {
            File.Delete(bad);
        }

        var pcap = Tshark.WritePcap(frames.Select(f => f.Bytes));
        try
        {
            var expert = Tshark.Run(pcap, "-Y", "_ws.expert || _ws.malformed || _ws.short", "-T", "fields", "-e", "frame.number", "-e", "_ws.expert.message");
            Assert.True(expert.Length == 0, "tshark flagged frames:\n" + string.Join("\n", expert.Select(l =>
            {
                var n = int.Parse(l.Split('\t')[0], System.Globalization.CultureInfo.InvariantCulture);
                return $"{frames[n - 1].Name}: {l}";
            })));

            var sums = Tshark.Run(pcap, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,",
                "-e", "ip.checksum.status", "-e", "igmp.checksum.status", "-e", "icmpv6.checksum.status", "-e", "udp.checksum.status");
            Assert.Equal(frames.Count, sums.Length);
            for (int i = 0; i < frames.Count; i++)
            {
                // 1 = good in tshark's checksum status; every present checksum must be good.
                foreach (var v in sums[i].Split('\t', ',').Where(v => v.Length > 0))
                    Assert.True(v == "1", $"{frames[i].Name}: checksum status '{sums[i]}'");
                if (frames[i].Name.StartsWith("arp", StringComparison.Ordinal)) continue;
                Assert.True(sums[i].Replace("\t", "").Length > 0, $"{frames[i].Name}: no checksum verified");
            }
        }
        finally
        {
            File.Delete(pcap);
        }
    }
}
