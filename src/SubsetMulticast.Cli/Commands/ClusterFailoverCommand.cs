using System.CommandLine;
using SubsetMulticast.Cli.CommandLine;
using SubsetMulticast.Cli.Cluster;

namespace SubsetMulticast.Cli.Commands;

/// <summary>
/// <c>tsm cluster-failover</c>: issue 12's failover run on emulated switches — a private etcd, N <c>tsm serve --cluster</c>
/// nodes, an emulated OpenFlow fabric connected to every node; the busiest master is killed with SIGKILL under a
/// create/release load while a host streams to a live group. The work is <see cref="ClusterFailoverRun"/>'s; this parses
/// and calls it. Exits 1 when a group was lost, a switch misses an acknowledged group, or the stream missed a member or
/// reached anyone else.
/// </summary>
internal static class ClusterFailoverCommand
{
    public static Command Create()
    {
        const string DefaultFabric = "leaf-spine:4:96:2";
        var fabric = OptionKinds.Text("--fabric", $"The emulated fabric (leaf-spine:S:L:H, fat-tree:K, single:H; default {DefaultFabric}: 100 switches).", "SPEC");
        var nodes = OptionKinds.Int("--nodes", "Controller nodes.", 2, 9, 3);
        var clients = OptionKinds.Int("--clients", "Concurrent create/release clients over every node.", 1, 256, 4);
        var before = OptionKinds.Int("--before", "Seconds of load before the kill.", 0, 3600, 2);
        var after = OptionKinds.Int("--after", "Seconds of load after every switch has a master again.", 0, 3600, 3);
        var logs = OptionKinds.Text("--node-logs", "Keep each node's log lines in DIR/{node}.log (default: nodes run --quiet).", "DIR");
        var command = new Command("cluster-failover", "Failover run: N cluster nodes, emulated switches, kill -9 of the busiest master under load; time to master, lost groups, the stream.")
        {
            fabric, nodes, clients, before, after, logs,
        };
        command.SetAction(async (r, ct) =>
        {
            var options = new ClusterFailoverOptions
            {
                Fabric = r.GetValue(fabric) ?? DefaultFabric,
                Nodes = r.GetValue(nodes),
                Clients = r.GetValue(clients),
                Before = TimeSpan.FromSeconds(r.GetValue(before)),
                After = TimeSpan.FromSeconds(r.GetValue(after)),
                NodeLogDirectory = r.GetValue(logs),
            };
            var output = r.InvocationConfiguration.Output;
            ClusterFailoverReport report;
            try { report = await ClusterFailoverRun.RunAsync(options, output, ct); }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException or HttpRequestException)
            {
                await r.InvocationConfiguration.Error.WriteLineAsync($"tsm cluster-failover: {e.Message}");
                return 1;
            }
            await output.WriteLineAsync(report.ToText());
            return report.Passed ? 0 : 1;
        });
        return command;
    }
}
