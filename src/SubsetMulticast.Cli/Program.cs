using System.Runtime.InteropServices;
using SubsetMulticast.Cli.Commands;

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
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.Out.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        var rest = args[1..];
        try
        {
            return args[0] switch
            {
                "demo" => await DemoCommand.RunAsync(rest, Console.Out, Console.Error, cts.Token),
                "serve" => await ServeCommand.RunAsync(rest, Console.Out, Console.Error, cts.Token),
                "snoop" => await SnoopCommand.RunAsync(rest, Console.Out, Console.Error, cts.Token),
                "emulate" => await EmulateCommand.RunAsync(rest, Console.Out, Console.Error, cts.Token),
                "store" => await StoreCommand.RunAsync(rest, Console.Out, Console.Error, cts.Token),
                "put" => await PutCommand.RunAsync(rest, Console.Out, Console.Error, cts.Token),
                "get" => await GetCommand.RunAsync(rest, Console.OpenStandardOutput(), Console.Error, cts.Token),
                "push" => await PushCommand.RunAsync(rest, Console.Out, Console.Error, cts.Token),
                _ => Unknown(args[0]),
            };
        }
        catch (Exception e) when (e is UsageException or FormatException)
        {
            await Console.Error.WriteLineAsync($"tsm {args[0]}: {e.Message}");
            return 2;
        }
    }

    private static int Unknown(string command)
    {
        Console.Error.WriteLine($"tsm: unknown command '{command}'.\n{Usage}");
        return 2;
    }

    public const string Usage = """
        tsm — transactional subset multicast controller

          tsm demo  [--fabric leaf-spine:2:4:8] [--negotiating 12] [--targets 3] [--mode computed|pushed] [--json]
          tsm serve [--fabric SPEC] [--api http://127.0.0.1:8080] [--push-udp 127.0.0.1:9470] [--mode computed|pushed]
          tsm serve --openflow 0.0.0.0:6653 [--api URL] [--vlan 0] [--block 239.255.0.0/16]   (real switches)
                    [--querier 10.0.0.254 [--querier-v6 fe80::…]] [--query-interval 125] [--query-response 10]
          tsm emulate --fabric SPEC --controller HOST:PORT [--join GROUP] [--vlan N]         (emulated OpenFlow switches)
          tsm snoop --pcap FILE [--at TIME ...] [--json] | --iface IF [--iface IF2 ...]
          tsm store --dir DIR --negotiating 239.1.0.1 [--iface IF] [--port 9480] [--block 239.255.0.0/16]
          tsm put FILE --negotiating 239.1.0.1 --replicas 3 --controller URL [--vlan 0] [--fec 8x2] [--encrypt] [--json]
          tsm get CHUNKID|MANIFEST --negotiating 239.1.0.1 [-o FILE]
          tsm push FILE --to ADDR,ADDR,… --reference 239.1.0.1 --controller URL [--json]

        A bad command line is refused with what is wrong and exit code 2.
        """;
}

/// <summary>A command line a command cannot run with; the message says what is wrong.</summary>
public sealed class UsageException(string message) : Exception(message);
