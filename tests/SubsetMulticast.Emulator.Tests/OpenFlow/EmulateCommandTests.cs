using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Discovery;

namespace SubsetMulticast.Emulator.Tests.OpenFlow;

/// <summary>Runs the real `tsm emulate` process against an OpenFlow listener in the test.</summary>
public sealed class EmulateCommandTests
{
    /// <summary>Ctrl-C (SIGINT) and a service manager's stop (SIGTERM) both end in a clean stop.</summary>
    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task Emulate_ConnectsEverySwitchPuntsEveryJoinAndStopsCleanlyOnSignal(string signal)
    {
        await using var listener = new OpenFlowListener(new IPEndPoint(IPAddress.Loopback, 0), new OpenFlowOptions { HandshakeTimeout = TimeSpan.FromSeconds(20) });
        listener.Start();
        await using var discovery = new FabricDiscovery(listener, new DiscoveryOptions { LldpInterval = TimeSpan.FromSeconds(1) });
        var igmpFrom = new ConcurrentDictionary<string, int>();
        listener.PacketInReceived += (s, p) =>
        {
            if (p.Data.Span is { Length: > 23 } d && d[12] == 0x08 && d[13] == 0x00 && d[23] == 2) igmpFrom.AddOrUpdate(s.SwitchId, 1, (_, n) => n + 1);
        };

        using var tsm = Start("emulate", "--fabric", "leaf-spine:2:4:2", "--controller", $"127.0.0.1:{listener.LocalEndpoint.Port}", "--no-ipv6", "--wait", "20");
        var lines = new List<string>();
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            for (int i = 0; i < 50; i++)
            {
                var line = await tsm.StandardOutput.ReadLineAsync(cts.Token);
                if (line is null) Assert.Fail($"tsm emulate ended early: {string.Join('\n', lines)}\n{await tsm.StandardError.ReadToEndAsync()}");
                lines.Add(line);
                if (line.Contains("Ctrl-C stops.", StringComparison.Ordinal)) break;
            }
            var output = string.Join('\n', lines);
            Assert.Contains("6 switches connected", output);
            Assert.Contains("8 hosts announced and joined 239.1.0.1", output);
            Assert.Contains("punt flows and probed every link", output);
            Assert.Equal(6, listener.Switches.Count);
            // The last LLDP packet-ins may still be in the listener's read loops when the summary is printed.
            await OpenFlowFabricWait(() => discovery.Links.Count == 16, "16 link directions");
            // 8 joins flooded on the tree, punted by each of the 6 switches.
            await OpenFlowFabricWait(() => igmpFrom.Values.Sum() >= 48, "48 punted IGMP reports");
            Assert.Equal(6, igmpFrom.Count);
            Assert.All(igmpFrom.Values, n => Assert.Equal(8, n));

            await Signal(tsm, signal);
            // Bounded, and generous: the CI machine runs every test assembly at once on 2 cores.
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try { await tsm.WaitForExitAsync(exit.Token); }
            catch (OperationCanceledException)
            {
                tsm.Kill();
                Assert.Fail($"tsm emulate did not stop within 60 s of SIG{signal}.\nstdout: {await tsm.StandardOutput.ReadToEndAsync()}\nstderr: {await tsm.StandardError.ReadToEndAsync()}");
            }
            Assert.Equal(0, tsm.ExitCode);
            Assert.Contains("stopped", await tsm.StandardOutput.ReadToEndAsync());
        }
        finally
        {
            if (!tsm.HasExited) tsm.Kill();
        }
    }

    [Theory]
    [InlineData(new[] { "emulate", "--fabric", "single:4" }, "--controller (OpenFlow) or --snmp is required")]
    [InlineData(new[] { "emulate", "--controller", "127.0.0.1:6653" }, "--fabric is required")]
    [InlineData(new[] { "emulate", "--fabric", "ring:3", "--controller", "127.0.0.1:6653" }, "not a fabric spec")]
    [InlineData(new[] { "emulate", "--fabric", "single:4", "--controller", "nowhere" }, "HOST:PORT")]
    [InlineData(new[] { "emulate", "--fabric", "single:4", "--controller", "127.0.0.1:6653", "--vlan", "5000" }, "--vlan must be a number 0..4094")]
    [InlineData(new[] { "emulate", "--fabric", "single:4", "--controller", "127.0.0.1:6653", "--join", "10.0.0.1" }, "--join must be")]
    [InlineData(new[] { "emulate", "--fabric", "single:4", "--controller", "127.0.0.1:6653", "--color" }, "unknown option")]
    public async Task Emulate_BadArguments_ExitTwoWithAClearMessage(string[] args, string message)
    {
        using var tsm = Start(args);
        var stderr = tsm.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await tsm.WaitForExitAsync(cts.Token);
        Assert.Equal(2, tsm.ExitCode);
        Assert.Contains(message, await stderr);
    }

    [Fact]
    public async Task Emulate_NoControllerListening_ExitsOneSayingWhy()
    {
        // A port bound but never listened on: connections are refused, and no other test can take it meanwhile.
        using var held = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        held.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)held.LocalEndPoint!).Port;
        using var tsm = Start("emulate", "--fabric", "single:2", "--controller", $"127.0.0.1:{port}");
        var stderr = tsm.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await tsm.WaitForExitAsync(cts.Token);
        Assert.Equal(1, tsm.ExitCode);
        Assert.Contains($"cannot connect 1 switches to 127.0.0.1:{port}", await stderr);
    }

    private static Process Start(params string[] args)
    {
        var dll = typeof(SubsetMulticast.Cli.Program).Assembly.Location;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    /// <summary>A signal to the process we started (SIGINT is what Ctrl-C sends).</summary>
    private static async Task Signal(Process p, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", $"-{signal} {p.Id}") { RedirectStandardError = true })!;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await kill.WaitForExitAsync(cts.Token);
        Assert.Equal(0, kill.ExitCode);
    }

    private static Task OpenFlowFabricWait(Func<bool> condition, string what) =>
        Eventually.UntilAsync(condition, TimeSpan.FromSeconds(30), what);
}
