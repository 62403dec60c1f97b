using System.CommandLine;
using System.Diagnostics;
using SubsetMulticast.Cli.CommandLine;

namespace SubsetMulticast.Controller.Tests;

/// <summary>The tsm command line: help, usage errors, completion and settings from --config and TSM_* variables.</summary>
public sealed class CommandLineTests
{
    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = await TsmCommandLine.RunAsync(args, stdout, stderr, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    public static TheoryData<string> Commands() => [.. TsmCommandLine.Create().Subcommands.Select(c => c.Name)];

    [Fact]
    public async Task RootHelp_ListsEveryCommand_ExitsZero()
    {
        var (code, stdout, stderr) = await RunAsync("--help");
        Assert.Equal(0, code);
        Assert.Empty(stderr);
        foreach (var name in TsmCommandLine.Create().Subcommands.Select(c => c.Name)) Assert.Contains(name, stdout);
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task EveryCommand_Help_PrintsItsOptions_ExitsZero(string command)
    {
        var (code, stdout, stderr) = await RunAsync(command, "--help");
        Assert.Equal(0, code);
        Assert.Empty(stderr);
        // A command with subcommands (tsm bier encode|decode) says so in its usage line.
        bool parent = TsmCommandLine.Create().Subcommands.Single(c => c.Name == command).Subcommands.Count > 0;
        // A command with arguments (tsm put <file>) names them between the command and its options.
        Assert.Matches(parent ? $@"tsm {command} \[command\] \[options\]" : $@"tsm {command}( <[^>]+>)* \[options\]", stdout);
        foreach (var option in TsmCommandLine.Create().Subcommands.Single(c => c.Name == command).Options.Where(o => o.Name.StartsWith("--", StringComparison.Ordinal)))
            Assert.Contains(option.Name, stdout);
    }

    [Theory]
    [InlineData("--json", "'foo'", "demo", "--json", "foo")]
    [InlineData("--bogus", "unknown option '--bogus'", "serve", "--bogus")]
    [InlineData("--vlan", "--vlan must be a number 0..4094, not 'x'", "serve", "--openflow", "127.0.0.1:0", "--vlan", "x")]
    [InlineData("--targets", "--targets 9 exceeds --negotiating 4", "demo", "--negotiating", "4", "--targets", "9")]
    [InlineData("--mode", "--mode must be computed or pushed, not 'fast'", "demo", "--mode", "fast")]
    [InlineData("--lldp-interval", "--lldp-interval applies with --openflow only", "serve", "--lldp-interval", "3")]
    [InlineData("--pcap", "give either --pcap FILE or --iface IF", "snoop")]
    [InlineData("nope", "'nope'", "nope")]
    public async Task UsageError_OneLineNamingIt_ExitsTwo(string names, string message, params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync(args);
        Assert.Equal(TsmCommandLine.UsageError, code);
        Assert.Empty(stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(names, line);
        Assert.Contains(message, line);
    }

    [Fact]
    public async Task BareTsm_PrintsUsageToStderr_ExitsTwo()
    {
        var (code, stdout, stderr) = await RunAsync();
        Assert.Equal(TsmCommandLine.UsageError, code);
        Assert.Empty(stdout);
        Assert.Contains("serve", stderr);
    }

    [Fact]
    public async Task SuggestDirective_CompletesOptionsAndValues()
    {
        // As a shell's completion script asks: the command line so far and the cursor position.
        var (code, stdout, _) = await RunAsync("[suggest:13]", "serve --mode ");
        Assert.Equal(0, code);
        Assert.Equal(["computed", "pushed"], stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        (code, stdout, _) = await RunAsync("[suggest:9]", "serve --q");
        Assert.Equal(0, code);
        Assert.Contains("--querier", stdout);
        Assert.Contains("--query-interval", stdout);
    }

    /// <summary>
    /// The same settings from a file, from TSM_* variables and from flags: the file names the OpenFlow endpoint,
    /// the querier and the query interval; the environment the query response (and an LLDP interval the flag
    /// overrides). What serve prints is what it runs with: 30 s queries, membership interval 2 × 30 + 5 = 65 s, LLDP 3 s.
    /// </summary>
    [Fact]
    public async Task Serve_SettingsFromConfigFileAndEnvironment_FlagsWin()
    {
        string file = Path.Combine(Path.GetTempPath(), $"tsm-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, """
            { "openflow": "127.0.0.1:0", "api": "http://127.0.0.1:0", "querier": "10.0.0.254", "queryInterval": 30, "quiet": true }
            """);
        try
        {
            var lines = await ServeLinesAsync(["serve", "--config", file, "--lldp-interval", "3"],
                new() { ["TSM_QUERY_RESPONSE"] = "5", ["TSM_LLDP_INTERVAL"] = "7" });
            Assert.Contains(lines, l => l.Contains("LLDP every 3 s", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.Contains("querier   10.0.0.254", StringComparison.Ordinal)
                && l.Contains("every 30 s", StringComparison.Ordinal) && l.Contains("membership interval 65 s", StringComparison.Ordinal));

            // A bad value from the environment is refused like the flag, saying where it came from.
            var (code, stderr) = await UsageErrorAsync(["serve", "--config", file], new() { ["TSM_VLAN"] = "9999" });
            Assert.Equal(2, code);
            Assert.Contains("--vlan must be a number 0..4094, not '9999' (set by TSM_VLAN)", stderr);

            // A key the command does not have is refused, not ignored.
            await File.WriteAllTextAsync(file, """{ "openflow": "127.0.0.1:0", "querierr": "10.0.0.254" }""");
            (code, stderr) = await UsageErrorAsync(["serve", "--config", file], []);
            Assert.Equal(2, code);
            Assert.Contains("'querierr' is not a setting of serve", stderr);
        }
        finally { File.Delete(file); }
    }

    private static ProcessStartInfo Tsm(string[] args, Dictionary<string, string> environment)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(typeof(SubsetMulticast.Cli.Program).Assembly.Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        return psi;
    }

    private static async Task<List<string>> ServeLinesAsync(string[] args, Dictionary<string, string> environment)
    {
        using var p = Process.Start(Tsm(args, environment))!;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var lines = new List<string>();
            while (lines.Count < 20)
            {
                var line = await p.StandardOutput.ReadLineAsync(cts.Token) ?? throw new Xunit.Sdk.XunitException($"serve exited: {await p.StandardError.ReadToEndAsync()}");
                lines.Add(line);
                if (line.Contains("Ctrl-C stops", StringComparison.Ordinal)) break;
            }
            return lines;
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }
    }

    private static async Task<(int Code, string Stderr)> UsageErrorAsync(string[] args, Dictionary<string, string> environment)
    {
        using var p = Process.Start(Tsm(args, environment))!;
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
        return (p.ExitCode, await stderr);
    }
}
