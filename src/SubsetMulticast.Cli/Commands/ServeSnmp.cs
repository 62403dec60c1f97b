using System.Globalization;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using SubsetMulticast.Controller;
using SubsetMulticast.Controller.Composition;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Snmp.Client;
using SubsetMulticast.Snmp.Fabric;

namespace SubsetMulticast.Cli.Commands;

/// <summary>
/// <c>tsm serve --snmp FILE</c>: the controller for switches it reaches only over SNMP (<see cref="SnmpFabric"/>):
/// ports and links read at start, reference groups and hosts polled, rendezvous groups written as Q-BRIDGE static
/// multicast rows (<see cref="Snmp.Southbound.SnmpSouthbound"/>). Thin: parsing and printing; the rest is the library's.
/// </summary>
internal static class ServeSnmp
{
    public static async Task<int> RunAsync(string path, string api, string block, string v6Block, bool quiet, TextWriter stdout, TextWriter stderr, CancellationToken ct,
        Controller.Security.ApiSecurityOptions? security = null, int auditSeconds = 60)
    {
        SnmpFabricFile file;
        try
        {
            file = SnmpFabricFile.Parse(await File.ReadAllTextAsync(path, ct), baseDirectory: Path.GetDirectoryName(Path.GetFullPath(path)));
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            throw new CommandLine.UsageException($"--snmp {path}: {e.Message}");
        }
        await using var client = new SnmpClient();
        SnmpFabric fabric;
        try
        {
            fabric = await SnmpFabric.StartAsync(file, client, ct);
        }
        catch (IOException e)
        {
            await stderr.WriteLineAsync($"tsm serve: {e.Message}");
            return 1;
        }
        await fabric.PollOnceAsync(ct);
        var options = new ControllerOptions
        {
            ApiUrl = api,
            ApiSecurity = security ?? new(),
            Mode = ApplyMode.Computed,
            Lifecycle = new LifecycleOptions().AddVlan(file.Vlan.Value, block, v6Block),
            ConfigureLogging = ConsoleLogging.For(quiet),
            // --audit-interval: the periodic audit reads every switch's static multicast table back, as for OpenFlow.
            Audit = new Controller.Audit.RuleAuditOptions { Interval = auditSeconds == 0 ? null : TimeSpan.FromSeconds(auditSeconds) },
        };
        TsmControllerHost controller;
        try
        {
            controller = await TsmControllerHost.StartAsync(options, tsm =>
            {
                tsm.UseFabricModel(fabric.References, fabric.Hosts).UseSouthbound(fabric.Southbound);
                tsm.Services.AddHostedService(sp => new Poller(fabric, sp.GetRequiredService<TimeProvider>(), stderr));
                // The rule audit reads each switch's static multicast table back; rows of the block's MACs are ours.
                tsm.Services.TryAddEnumerable(ServiceDescriptor.Singleton<Core.Audit.IRuleAuditAdapter, Snmp.Southbound.SnmpRuleAudit>(sp =>
                    new Snmp.Southbound.SnmpRuleAudit(fabric.Southbound, client, Snmp.Southbound.SnmpRuleAudit.MacsOfBlock(block), sp.GetRequiredService<TimeProvider>())));
            }, ct);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            await stderr.WriteLineAsync($"tsm serve: cannot listen: {e.Message}");
            return 1;
        }
        catch (ArgumentException e)
        {
            await stderr.WriteLineAsync($"tsm serve: {e.Message}");
            return 2;
        }
        await using (controller)
        {
            var inv = CultureInfo.InvariantCulture;
            await stdout.WriteLineAsync(string.Create(inv, $"tsm serve: {fabric.Switches.Count} SNMP switches from {path}, {fabric.Topology.Links.Count} links ({(fabric.LinksFromLldp ? "LLDP-MIB" : "from the file")}), VLAN {file.Vlan}"));
            foreach (var sw in fabric.Switches)
                await stdout.WriteLineAsync($"  {sw.Id,-12} {sw.Target}  driver {sw.Driver.Name}, {sw.PortCount} ports");
            await stdout.WriteLineAsync($"  api       {controller.ApiUrl}api/v1/groups");
            foreach (var g in file.References)
                await stdout.WriteLineAsync(string.Create(inv, $"  reference {g}: learned on {(fabric.References.TryGet(file.Vlan, g, out var rg) ? rg.SwitchCount : 0)} switches; polled every {file.Poll.TotalSeconds:0} s"));
            await stdout.WriteLineAsync(string.Create(inv, $"  hosts     {fabric.Hosts.Count} of {file.Hosts.Count} located; block {block}"));
            await stdout.WriteLineAsync("  Ctrl-C stops.");
            await stdout.FlushAsync(CancellationToken.None);
            try { await controller.WaitForShutdownAsync(ct); }
            catch (OperationCanceledException) { }
        }
        return 0;
    }

    private sealed class Poller(SnmpFabric fabric, TimeProvider time, TextWriter stderr) : BackgroundService
    {
        private string _last = "";

        protected override Task ExecuteAsync(CancellationToken stoppingToken) => fabric.RunAsync(time, unreachable =>
        {
            var now = string.Join(", ", unreachable);
            if (now != _last && now.Length > 0) stderr.WriteLine($"tsm serve: cannot read {now} (keeping what was learned)");
            _last = now;
        }, stoppingToken);
    }
}
