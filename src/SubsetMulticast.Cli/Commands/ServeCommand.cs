namespace SubsetMulticast.Cli.Commands;

// Placeholder until the controller service lands; its owner replaces this file.
internal static class ServeCommand
{
    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        stderr.WriteLine("tsm serve: not built yet");
        return Task.FromResult(1);
    }
}
