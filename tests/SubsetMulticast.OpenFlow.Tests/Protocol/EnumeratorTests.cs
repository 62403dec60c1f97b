using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.OpenFlow.Tests.Protocol;

public class EnumeratorTests
{
    [Fact]
    public void Enumerators_OverFlowStatsReply_DoNotAllocate()
    {
        var reply = Samples.All().OfType<FlowStatsReply>().First().ToArray();
        Count(reply); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        int oxms = Count(reply);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(2 + 7, oxms);
        Assert.Equal(0, allocated);
    }

    /// <summary>Walks entries → match OXMs → instructions → actions with the ref-struct readers only.</summary>
    private static int Count(ReadOnlySpan<byte> message)
    {
        int oxms = 0, actions = 0;
        var body = message[16..];
        foreach (var entry in FlowStatsEntry.Enumerate(body, 16))
        {
            var r = new SpanReader(entry[FlowStatsEntry.FixedLength..]);
            var match = OfpMatch.ReadOxms(ref r, out int at);
            foreach (var oxm in new OxmEnumerator(match, at)) { if (oxm.IsBasic) oxms++; }
            var ins = OfpInstruction.Enumerate(r.Rest, r.Offset);
            while (ins.MoveNext())
            {
                var acts = OfpAction.Enumerate(ins.Current[8..], ins.CurrentOffset + 8);
                while (acts.MoveNext()) actions++;
            }
        }
        return actions == 1 ? oxms : -1;
    }

    [Fact]
    public void OxmEnumerator_TruncatedTlv_ThrowsWithOffset()
    {
        byte[] oxms = [0x80, 0x00, 0x18, 0x04, 0xEF, 0x01];
        var ex = Assert.Throws<OpenFlowFormatException>(() => { foreach (var _ in new OxmEnumerator(oxms, 100)) { } });
        Assert.Equal(103, ex.Offset);
    }
}
