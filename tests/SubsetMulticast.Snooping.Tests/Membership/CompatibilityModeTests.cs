using SubsetMulticast.Packets;
using static SubsetMulticast.Snooping.Tests.Frames;

namespace SubsetMulticast.Snooping.Tests.Membership;

/// <summary>
/// RFC 3376 §7.3.2 / RFC 3810 §8.3.2: a (group, port) that heard an older report runs in that version's
/// compatibility mode for the older-version-host-present timeout (here 2 × 10 s + 1 s = 21 s).
/// </summary>
public sealed class CompatibilityModeTests
{
    private static SnoopingOptions Options(bool compat) => new()
    {
        QueryInterval = TimeSpan.FromSeconds(10),
        QueryResponseInterval = TimeSpan.FromSeconds(1),
        Robustness = 2,
        OlderVersionCompatibility = compat,
    };

    /// <summary>
    /// The older host joins at 0 s; the newer message comes at <paramref name="at"/> s; the state is read LMQT (2 s)
    /// and a bit later. Expected: "gone", or the mode and the blocked sources.
    /// </summary>
    [Theory]
    // IGMPv2 host present: BLOCK ignored, TO_EX source lists dropped, TO_IN and leaves handled.
    [InlineData("v2", "TO_EX", 5, true, "EXCLUDE{S}", "EXCLUDE{}")]
    [InlineData("v2", "TO_EX", 5, false, "EXCLUDE{S}", "EXCLUDE{S}")]
    [InlineData("v2", "TO_EX", 30, true, "EXCLUDE{S}", "EXCLUDE{S}")]      // the 21-s timer ran out: IGMPv3 rules again
    [InlineData("v2", "BLOCK", 5, true, "EXCLUDE{S}", "EXCLUDE{}")]
    [InlineData("v2", "BLOCK", 5, false, "EXCLUDE{S}", "EXCLUDE{S}")]
    [InlineData("v2", "TO_IN", 5, true, "", "gone")]
    [InlineData("v2", "LEAVE", 5, true, "", "gone")]
    // IGMPv1 host present: also IGMPv2 leaves and IGMPv3 TO_IN are ignored.
    [InlineData("v1", "TO_IN", 5, true, "", "EXCLUDE{}")]
    [InlineData("v1", "TO_IN", 5, false, "", "gone")]
    [InlineData("v1", "LEAVE", 5, true, "", "EXCLUDE{}")]
    [InlineData("v1", "LEAVE", 5, false, "", "gone")]
    [InlineData("v1", "LEAVE", 30, true, "", "gone")]
    [InlineData("v1", "BLOCK", 5, true, "EXCLUDE{S}", "EXCLUDE{}")]
    // MLDv1 host present: MLDv2 BLOCK ignored and TO_EX source lists dropped; dones handled.
    [InlineData("mld1", "TO_EX", 5, true, "EXCLUDE{S}", "EXCLUDE{}")]
    [InlineData("mld1", "BLOCK", 5, true, "EXCLUDE{S}", "EXCLUDE{}")]
    [InlineData("mld1", "BLOCK", 5, false, "EXCLUDE{S}", "EXCLUDE{S}")]
    [InlineData("mld1", "DONE", 5, true, "", "gone")]
    [InlineData("mld1", "BLOCK", 30, true, "EXCLUDE{S}", "EXCLUDE{S}")]
    // No older host: IGMPv3/MLDv2 rules.
    [InlineData("v3", "BLOCK", 5, true, "EXCLUDE{S}", "EXCLUDE{S}")]
    [InlineData("mld2", "TO_EX", 5, true, "EXCLUDE{S}", "EXCLUDE{S}")]
    public void OlderHostPresent_TranslatesOrIgnoresNewerMessages(string older, string message, double at, bool compat, string withoutOlder, string expected)
    {
        _ = withoutOlder;   // what IGMPv3/MLDv2 rules alone would give, for the reader of the row
        bool v6 = older.StartsWith("mld", StringComparison.Ordinal);
        string g = v6 ? "ff0e::1" : "239.1.1.1", s = v6 ? "fd00::9" : "10.9.9.1";
        var h = new SnooperHarness(Options(compat));
        h.Feed(1, older switch
        {
            "v1" => V1Report(g),
            "v2" => V2Report(g),
            "mld1" => Mld1Report(g),
            "v3" => V3Report(GroupRecordType.ChangeToExclude, g),
            _ => Mld2Report(GroupRecordType.ChangeToExclude, g),
        }, 0);
        if (at > 21) h.Feed(1, v6 ? Mld2Report(GroupRecordType.ModeIsExclude, g) : V3Report(GroupRecordType.ModeIsExclude, g), at - 1); // keeps the member, not the old timer
        byte[] Record(GroupRecordType t, params string[] src) => v6 ? Mld2Report(t, g, src) : V3Report(t, g, src);
        Assert.Equal(FrameOutcome.Applied, h.Feed(1, message switch
        {
            "TO_EX" => Record(GroupRecordType.ChangeToExclude, s),
            "BLOCK" => Record(GroupRecordType.BlockOldSources, s),
            "TO_IN" => Record(GroupRecordType.ChangeToInclude),
            "LEAVE" => V2Leave(g),
            _ => Mld1Done(g),
        }, at));
        h.Advance(at + 2.5);
        var m = h.Membership(g, "p1");
        string actual = m is null ? "gone" : $"{(m.Mode == FilterMode.Exclude ? "EXCLUDE" : "INCLUDE")}{{{string.Join(',', m.Sources.Select(x => x.ToString() == s ? "S" : x.ToString()))}}}";
        Assert.Equal(expected, actual);
    }

    /// <summary>
    /// The snapshot (and so <c>tsm snoop --json</c>) names the mode: the oldest version heard within the 21-s
    /// older-host-present timeout; a newer report alone never raises it before the timer runs out.
    /// </summary>
    [Theory]
    [InlineData("v1", 5, true, "IGMPv1")]
    [InlineData("v2", 5, true, "IGMPv2")]
    [InlineData("v2", 30, true, "IGMPv3")]
    [InlineData("v2", 5, false, "IGMPv3")]   // compatibility off: IGMPv3 rules whatever was heard
    [InlineData("v3", 5, true, "IGMPv3")]
    [InlineData("mld1", 5, true, "MLDv1")]
    [InlineData("mld1", 30, true, "MLDv2")]
    [InlineData("mld2", 5, true, "MLDv2")]
    public void Snapshot_NamesTheGroupCompatibilityMode(string older, double at, bool compat, string expected)
    {
        bool v6 = older.StartsWith("mld", StringComparison.Ordinal);
        string g = v6 ? "ff0e::1" : "239.1.1.1";
        var h = new SnooperHarness(Options(compat));
        h.Feed(1, older switch
        {
            "v1" => V1Report(g),
            "v2" => V2Report(g),
            "mld1" => Mld1Report(g),
            "v3" => V3Report(GroupRecordType.ChangeToExclude, g),
            _ => Mld2Report(GroupRecordType.ChangeToExclude, g),
        }, 0);
        // A current-state report in the newest version keeps the membership alive past the old timer.
        h.Feed(1, v6 ? Mld2Report(GroupRecordType.ModeIsExclude, g) : V3Report(GroupRecordType.ModeIsExclude, g), at);
        Assert.Equal(expected, h.Membership(g, "p1")!.Compatibility);
        var json = Reporting.SnoopingJson.ToJson(h.Snooper.Snapshot());
        Assert.Contains($"\"compatibility\":\"{expected}\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void OlderHostPresentTimeout_IsRobustnessTimesQueryIntervalPlusResponse()
    {
        var h = new SnooperHarness(Options(true));
        h.Feed(1, V1Report("239.1.1.1"), 0);
        h.Feed(1, V3Report(GroupRecordType.ModeIsExclude, "239.1.1.1"), 15);
        Assert.Equal(FrameOutcome.Applied, h.Feed(1, V2Leave("239.1.1.1"), 20.9));   // still IGMPv1 mode: ignored
        h.Advance(24);
        Assert.Equal(["p1"], h.Members("239.1.1.1"));
        h.Feed(1, V2Leave("239.1.1.1"), 21.1 + 3);                                    // timer ran out at 21 s
        h.Advance(27);
        Assert.Empty(h.Members("239.1.1.1"));
    }

    [Fact]
    public void CompatibilityIsPerPort_AnotherPortKeepsIgmpv3Rules()
    {
        var h = new SnooperHarness(Options(true));
        h.Feed(1, V2Report("239.1.1.1"), 0);
        h.Feed(2, V3Report(GroupRecordType.ChangeToExclude, "239.1.1.1"), 0);
        h.Feed(1, V3Report(GroupRecordType.ChangeToExclude, "239.1.1.1", "10.9.9.1"), 1);
        h.Feed(2, V3Report(GroupRecordType.ChangeToExclude, "239.1.1.1", "10.9.9.1"), 1);
        h.Advance(4);
        Assert.Empty(h.Membership("239.1.1.1", "p1")!.Sources);
        Assert.Equal([Ip("10.9.9.1")], h.Membership("239.1.1.1", "p2")!.Sources);
    }

    private static byte[] MulticastMacBytes(string group)
    {
        var b = new byte[6];
        Core.Addressing.MulticastMac.For(Ip(group)).WriteTo(b);
        return b;
    }

    [Fact]
    public void IgnoredLeave_DoesNotMakeOurQuerierSendGroupSpecificQueries()
    {
        var h = new SnooperHarness(new SnoopingOptions
        {
            QueryInterval = TimeSpan.FromSeconds(10),
            QueryResponseInterval = TimeSpan.FromSeconds(1),
            Querier = new QuerierOptions { IPv4Source = Ip("10.0.0.5") },
        });
        h.Feed(1, V1Report("239.1.1.1"), 0);
        h.Feed(2, V2Report("239.1.1.2"), 0);
        h.Sent.Clear();
        // Group-specific queries go to the group's own MAC (general ones to 01:00:5e:00:00:01).
        int QueriesTo(string group) => h.Sent.Count(f => f.AsSpan(0, 6).SequenceEqual(MulticastMacBytes(group)));
        h.Feed(1, V2Leave("239.1.1.1"), 1);   // IGMPv1 host present: ignored
        h.Advance(4.5);
        Assert.Equal(0, QueriesTo("239.1.1.1"));
        h.Feed(2, V2Leave("239.1.1.2"), 5);   // IGMPv2 mode: handled, Q(G) goes out
        h.Advance(8);
        Assert.True(QueriesTo("239.1.1.2") > 0);
        Assert.Equal(["p1"], h.Members("239.1.1.1"));
        Assert.Empty(h.Members("239.1.1.2"));
    }
}
