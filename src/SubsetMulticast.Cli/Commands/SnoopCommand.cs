namespace SubsetMulticast.Cli.Commands;

// Placeholder until the snooping work lands (issue 3); its owner replaces this file.
internal static class SnoopCommand
{
    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        stderr.WriteLine("tsm snoop: not built yet");
        return Task.FromResult(1);
    }
}
