using SubsetMulticast.Cli.Cluster;
using Xunit.Abstractions;

namespace SubsetMulticast.OpenFlow.Tests.Interop;

/// <summary>
/// Issue 12's failover on emulated switches, short: a private etcd, three <c>tsm serve --cluster</c> nodes, a small
/// emulated fabric whose every switch connects to all three (roles as Open vSwitch keeps them); the busiest master is
/// killed with SIGKILL while clients create and release through every node and a host streams to a live group. No
/// acknowledged group may be lost or missing on a switch, released ones must be gone, every switch must have a live
/// master again, and every datagram must reach exactly the group's members. The measured 100-switch run is
/// <c>tsm cluster-failover</c> (results/cluster.md).
/// </summary>
[Trait("Category", "Interop")]
public class ClusterEmulatedFailoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ThreeNodes_EmulatedSwitches_KillTheBusiestMaster_NothingLost_StreamExact()
    {
        var log = new StringWriter();
        ClusterFailoverReport report;
        try
        {
            report = await ClusterFailoverRun.RunAsync(new ClusterFailoverOptions
            {
                Fabric = "leaf-spine:1:4:2",
                Clients = 3,
                GroupsPerNode = 2,
                Before = TimeSpan.FromSeconds(1),
                After = TimeSpan.FromSeconds(2),
                SettleTimeout = TimeSpan.FromSeconds(60),
            }, log);
        }
        finally { output.WriteLine(log.ToString()); }
        output.WriteLine(report.ToText());
        Assert.Equal(5, report.Switches);
        Assert.True(report.VictimMasterships >= 2, $"the victim mastered only {report.VictimMasterships} of 5 switches");
        Assert.Empty(report.Lost);
        Assert.Empty(report.MissingOnSwitches);
        Assert.Empty(report.Leftovers);
        Assert.True(report.Acknowledged >= 10, $"only {report.Acknowledged} groups were acknowledged");
        Assert.True(report.TimeToMaster > TimeSpan.Zero && report.TimeToMaster < TimeSpan.FromSeconds(5), $"time to master {report.TimeToMaster}");
        Assert.True(report.TimeToSwitchMaster > TimeSpan.Zero, "the switches' role tables never named a live master");
        Assert.True(report.StreamSent >= 100, $"only {report.StreamSent} datagrams sent");
        Assert.All(report.StreamToMembers, n => Assert.Equal(report.StreamSent, n));
        Assert.Equal(0, report.StreamToOthers);
    }
}
