using System.CommandLine;
using SubsetMulticast.Cli.CommandLine;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Cli.Load;

namespace SubsetMulticast.Cli.Commands;

/// <summary>
/// <c>tsm load</c>: N concurrent clients doing create → release against the controller and an emulated fabric
/// (OpenFlow switches over TCP, or the in-process emulator); prints ops/s, latency percentiles, CPU, memory and
/// an audit of every switch's tables. The work is <see cref="LoadRunner"/>'s; this parses and calls it.
/// Exits 1 when the switches' tables do not match the controller's live groups at the end.
/// </summary>
internal static class LoadCommand
{
    public static Command Create()
    {
        const string DefaultFabric = "leaf-spine:4:96:4";
        var fabric = OptionKinds.Text("--fabric", $"The emulated fabric (leaf-spine:S:L:H, fat-tree:K, single:H; default {DefaultFabric}).", "SPEC");
        var switches = OptionKinds.Choice("--switches", "openflow: emulated OpenFlow 1.3 switches over TCP; emulator: the in-process emulator southbound.", "openflow", "openflow", "emulator");
        var path = OptionKinds.Choice("--path", "How clients reach the controller: the coordinator in-process, or REST (HTTP/1.1 keep-alive; rest2: HTTP/2); exchanges: no group, only the barrier round trips a create and a release make with the switches (the floor, --switches openflow).", "coordinator", "coordinator", "rest", "rest2", "exchanges");
        var clients = OptionKinds.Int("--clients", "Concurrent clients.", 1, 4096, 32);
        var seconds = OptionKinds.Int("--seconds", "Measured duration.", 1, 86_400, 60);
        var warmup = OptionKinds.Int("--warmup", "Unmeasured warm-up, seconds.", 0, 3600, 3);
        var setup = OptionKinds.Choice("--setup", "When a create is answered.", "confirmed", "confirmed", "optimistic", "persistent");
        var members = OptionKinds.Int("--members", "Members per group.", 1, 255, 3);
        var live = OptionKinds.Int("--live", "Groups created and kept before the cycles (scale).", 0, 8_000_000, 0);
        var refuse = OptionKinds.Int("--refuse-one-in", "Every switch refuses GROUP_MOD ADDs for one group id in N (0: none).", 0, 1_000_000, 0);
        var ipv6 = OptionKinds.Flag("--ipv6", "Groups of IPv6 members in an IPv6 block (ff15::/105, 2^23 addresses) instead of IPv4.");
        var command = new Command("load", "Load generator: concurrent create → release clients against the controller and emulated switches; throughput, latency, and a table audit.")
        {
            fabric, switches, path, clients, seconds, warmup, setup, members, live, refuse, ipv6,
        };
        command.SetAction(async (r, ct) =>
        {
            var options = new LoadOptions
            {
                Fabric = r.GetValue(fabric) ?? DefaultFabric,
                Switches = r.GetValue(switches) == "emulator" ? LoadSwitches.Emulator : LoadSwitches.OpenFlow,
                Path = r.GetValue(path) switch { "rest" => LoadPath.Rest, "rest2" => LoadPath.Rest2, "exchanges" => LoadPath.Exchanges, _ => LoadPath.Coordinator },
                Clients = r.GetValue(clients),
                Duration = TimeSpan.FromSeconds(r.GetValue(seconds)),
                Warmup = TimeSpan.FromSeconds(r.GetValue(warmup)),
                Setup = r.GetValue(setup) switch { "optimistic" => SetupMode.Optimistic, "persistent" => SetupMode.Persistent, _ => SetupMode.Confirmed },
                Members = r.GetValue(members),
                LiveGroups = r.GetValue(live),
                RefuseOneIn = r.GetValue(refuse),
                Ipv6 = r.GetValue(ipv6),
            };
            var output = r.InvocationConfiguration.Output;
            LoadReport report;
            try { report = await LoadRunner.RunAsync(options, output, ct); }
            catch (ArgumentException e)
            {
                // A combination of options the harness cannot run (e.g. --path exchanges without OpenFlow switches).
                await r.InvocationConfiguration.Error.WriteLineAsync($"tsm load: {e.Message}");
                return 2;
            }
            await output.WriteLineAsync(report.ToText());
            return report.Tables.Checked && !report.Tables.Clean ? 1 : 0;
        });
        return command;
    }
}
