using SubsetMulticast.Cli.Load;
using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.Controller.Tests.Load;

/// <summary>
/// <c>tsm load</c>'s end-of-run audit against the emulated OpenFlow switches' own tables: after concurrent clients
/// created and released groups (some refused by a switch), every acknowledged live group is on its switches with
/// its portset and nothing released or refused is left; and the audit does fail when a switch's table is wrong.
/// Short runs (a few hundred cycles on a 14-switch fabric): the 60-s runs are the harness's.
/// </summary>
public class LoadAuditTests
{
    private static LoadOptions Small(int refuseOneIn = 0) => new()
    {
        Fabric = "leaf-spine:2:12:2",
        Clients = 8,
        Duration = TimeSpan.FromSeconds(30),
        MaxCycles = 200,
        Warmup = TimeSpan.Zero,
        LiveGroups = 40,
        RefuseOneIn = refuseOneIn,
        Seed = 7,
    };

    [Fact]
    public async Task ConcurrentCyclesWithRefusals_EveryLiveGroupOnItsSwitches_NothingRefusedOrReleasedLeft()
    {
        var report = await LoadRunner.RunAsync(Small(refuseOneIn: 9), TextWriter.Null);

        Assert.True(report.Cycles >= 200, $"only {report.Cycles} cycles");
        Assert.True(report.Refused > 0, "no transaction was refused: the refusal path went untested");
        Assert.Equal(0, report.Failed);
        Assert.Equal(40, report.LiveAtEnd); // the kept groups; every cycled one was released or refused
        Assert.True(report.Tables.Checked);
        Assert.True(report.Tables.ExpectedRules >= 40, $"{report.Tables}");
        Assert.True(report.Tables.Clean, report.Tables.ToString());
        Assert.Equal(report.Tables.ExpectedRules, report.Tables.Matched);
    }

    [Fact]
    public async Task SwitchLosesOneRuleAndKeepsAStrayOne_AuditFails()
    {
        var options = Small() with
        {
            BeforeAudit = agents => agents[^1].Mutate((groups, flows) =>
            {
                // A leaf forgets one live group and keeps one that nobody holds (as a lost DELETE would).
                uint live = groups.Keys.First(g => g >> 24 == OpenFlow.CookieSpaces.GroupIdPrefix);
                groups.Remove(live);
                uint stray = (uint)OpenFlow.CookieSpaces.GroupIdPrefix << 24 | 0x00ABCDEF;
                groups[stray] = new GroupMod(GroupModCommand.Add, GroupType.All, stray, [new OfpBucket([new OutputAction(1)])]);
            }),
        };
        var report = await LoadRunner.RunAsync(options, TextWriter.Null);

        Assert.False(report.Tables.Clean);
        Assert.Equal(1, report.Tables.Missing);
        Assert.Equal(1, report.Tables.Extra);
        Assert.True(report.Tables.OrphanFlows >= 1, report.Tables.ToString()); // the forgotten group's flow now points nowhere
    }

    [Fact]
    public async Task RestOverH2c_CyclesComplete()
    {
        var report = await LoadRunner.RunAsync(Small() with { Path = LoadPath.Rest2, MaxCycles = 100, LiveGroups = 0 }, TextWriter.Null);

        // The client insists on HTTP/2 (RequestVersionExact): an HTTP/1.1-only listener would fail every request.
        Assert.Equal(0, report.Failed);
        Assert.True(report.Cycles >= 100, $"{report.Cycles} cycles, first error {report.FirstError}");
        Assert.True(report.Tables.Clean, report.Tables.ToString());
    }

    [Fact]
    public async Task ExchangesPath_OnlyBarrierRoundTrips_NoGroupOnAnySwitch()
    {
        var report = await LoadRunner.RunAsync(Small() with { Path = LoadPath.Exchanges, MaxCycles = 100, LiveGroups = 0 }, TextWriter.Null);

        Assert.Equal(0, report.Failed);
        Assert.True(report.Cycles >= 100, $"{report.Cycles} cycles, first error {report.FirstError}");
        // Every cycle went to the switches: at least one barrier batch per cycle (a create's and a release's switches,
        // several submissions sharing a batch when they meet on one switch).
        Assert.True(report.Barriers >= report.Cycles, $"{report.Barriers} barrier batches for {report.Cycles} cycles");
        Assert.Equal(0, report.LiveAtEnd);
        Assert.True(report.Tables.Checked);
        Assert.Equal(0, report.Tables.ExpectedRules);
        Assert.True(report.Tables.Clean, report.Tables.ToString()); // no group or flow of ours was written
    }

    [Fact]
    public async Task ExchangesPath_WithoutOpenFlowSwitches_Refused()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => LoadRunner.RunAsync(
            Small() with { Path = LoadPath.Exchanges, Switches = LoadSwitches.Emulator }, TextWriter.Null));
        Assert.Contains("--switches openflow", e.Message);
    }

    [Theory]
    [InlineData(LoadPath.Coordinator)]
    [InlineData(LoadPath.Rest2)]
    public async Task PersistentSetup_CreatesAreLookUps_TheSetsStayOnTheirSwitches(LoadPath path)
    {
        // 24 hosts: two negotiating groups of 12, every 3-of-12 subset installed ahead (2 × 220 groups).
        var report = await LoadRunner.RunAsync(Small() with { Path = path, Setup = Core.Lifecycle.SetupMode.Persistent, MaxCycles = 300, LiveGroups = 0 }, TextWriter.Null);

        Assert.Equal(0, report.Failed); // every create found its installed group (a fallback to confirmed counts as failed)
        Assert.True(report.Cycles >= 300, $"{report.Cycles} creates, first error {report.FirstError}");
        Assert.Equal(2 * 220, report.LiveAtEnd);
        // Looking up touched no switch: no barrier in the measured window.
        Assert.Equal(0, report.Barriers);
        Assert.True(report.Tables.Clean, report.Tables.ToString());
        Assert.True(report.Tables.ExpectedRules >= 2 * 220, report.Tables.ToString()); // each installed group on its switches
        Assert.Equal(report.Tables.ExpectedRules, report.Tables.Matched);
    }
}
