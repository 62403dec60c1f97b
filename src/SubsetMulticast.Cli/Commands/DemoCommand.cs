namespace SubsetMulticast.Cli.Commands;

internal static class DemoCommand
{
    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        stderr.WriteLine("tsm demo: not built yet");
        return Task.FromResult(1);
    }
}
