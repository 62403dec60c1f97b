using System.Diagnostics;
using System.Text.Json.Nodes;

namespace SubsetMulticast.Controller.Tests;

/// <summary>Runs the real `tsm demo --json` process and checks what the emulated fabric delivered.</summary>
public sealed class DemoCommandTests
{
    [Theory]
    [InlineData("leaf-spine:2:4:8", "computed", 12, 3)]
    [InlineData("leaf-spine:2:4:8", "pushed", 12, 3)]
    [InlineData("fat-tree:4", "computed", 10, 4)]
    [InlineData("leaf-spine:3:6:4", "pushed", 20, 3)]
    public async Task DemoDeliversToEveryTargetAndNoOneElse(string fabric, string mode, int negotiating, int targets)
    {
        var (code, stdout, stderr) = await RunTsm("demo", "--json", "--fabric", fabric, "--mode", mode,
            "--negotiating", negotiating.ToString(), "--targets", targets.ToString());
        Assert.True(code == 0, $"exit {code}: {stderr}");
        var j = JsonNode.Parse(stdout)!;
        Assert.Equal(targets, (int)j["targets"]!);
        Assert.Equal(targets, (int)j["delivered"]!);
        Assert.Equal(0, (int)j["excessDeliveries"]!);
        Assert.Equal(1, (int)j["maxCopiesPerLink"]!);
        long uni = (long)j["unicastSenderLinkBytes"]!, multi = (long)j["multicastSenderLinkBytes"]!;
        Assert.InRange((double)uni / multi, targets * 0.99, targets * 1.01);
        Assert.True((int)j["referenceExcessDeliveries"]! > 0, "plain reference multicast should reach the servers that were not chosen");
        Assert.True((bool)j["released"]!);
    }

    [Fact]
    public async Task DemoRejectsBadArgumentsWithAClearMessage()
    {
        var (code, _, stderr) = await RunTsm("demo", "--fabric", "ring:3");
        Assert.Equal(2, code);
        Assert.Contains("not a fabric spec", stderr);
        (code, _, stderr) = await RunTsm("demo", "--targets", "20", "--negotiating", "12");
        Assert.Equal(2, code);
        Assert.Contains("exceeds", stderr);
    }

    private static async Task<(int, string, string)> RunTsm(params string[] args)
    {
        var dll = typeof(SubsetMulticast.Cli.Program).Assembly.Location;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await o, await e);
    }
}
