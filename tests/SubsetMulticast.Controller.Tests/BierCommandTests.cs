using System.Text.Json;
using SubsetMulticast.Cli.CommandLine;

namespace SubsetMulticast.Controller.Tests;

/// <summary>tsm bier encode / decode through the real command line (parsing, output, exit codes).</summary>
public sealed class BierCommandTests
{
    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = await TsmCommandLine.RunAsync(args, stdout, stderr, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Encode_IssueExampleJson_PrintsSetsPerSi()
    {
        var (code, stdout, stderr) = await RunAsync("bier", "encode", "--bsl", "256", "--ids", "27,235,497", "--json");
        Assert.Equal(0, code);
        Assert.Empty(stderr);
        Assert.Equal(
            """{"bsl":256,"sets":[{"si":0,"bits":[27,235],"hex":"0000040000000000000000000000000000000000000000000000000004000000"},{"si":1,"bits":[241],"hex":"0001000000000000000000000000000000000000000000000000000000000000"}]}""",
            stdout.TrimEnd());
    }

    [Fact]
    public async Task Decode_ExternalVectorJson_EveryField()
    {
        var (code, stdout, _) = await RunAsync("bier", "decode", "12345140 503abcde 00040004 80" + new string('0', 60) + "05", "--json");
        Assert.Equal(0, code);
        var root = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(0x12345, root.GetProperty("biftId").GetInt32());
        Assert.Equal(0xABCDE, root.GetProperty("entropy").GetInt32());
        Assert.Equal([1, 3, 256], root.GetProperty("bits").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Theory]
    [InlineData(2, "--bsl must be 64, 128, 256, 512, 1024, 2048 or 4096, not '100'", "bier", "encode", "--bsl", "100", "--ids", "1")]
    [InlineData(2, "--ids must be BFR-ids 1..65535 separated by commas, not '0,5'", "bier", "encode", "--ids", "0,5")]
    [InlineData(2, "--ids", "bier", "encode")]
    [InlineData(2, "HEX: 'z' at digit 2 is not a hex digit", "bier", "decode", "12zz")]
    [InlineData(1, "UnknownVersion at offset 4", "bier", "decode", "12345140513abcde00040004" + "0000000000000000")]
    [InlineData(1, "Truncated at offset 8", "bier", "decode", "12345140503abcde")]
    public async Task BadInput_OneLineOnStderr(int exit, string message, params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync(args);
        Assert.Equal(exit, code);
        Assert.Empty(stdout);
        Assert.Contains(message, stderr);
    }
}
