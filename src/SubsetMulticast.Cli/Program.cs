using System.Runtime.InteropServices;
using SubsetMulticast.Cli.CommandLine;

namespace SubsetMulticast.Cli;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
        // SIGTERM (systemd stop, docker stop, kill) shuts down as Ctrl-C does: the controller and the emulator
        // close their sessions instead of dying mid-write.
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; cts.Cancel(); });
        return await TsmCommandLine.RunAsync(args, Console.Out, Console.Error, cts.Token);
    }
}
