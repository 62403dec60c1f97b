using System.CommandLine;
using System.CommandLine.Invocation;
using SubsetMulticast.Cli.Commands;

namespace SubsetMulticast.Cli.CommandLine;

/// <summary>
/// The <c>tsm</c> command line: every command, registered here in one list. A command is one file under
/// Commands/ with <c>public static Command Create()</c>: it declares typed, validated options and an action that
/// parses nothing itself and calls a library. To add one, write that file and add it to <see cref="Commands"/>.
/// </summary>
public static class TsmCommandLine
{
    /// <summary>The exit code of a usage error (unknown option, bad value, missing option).</summary>
    public const int UsageError = 2;

    private static IEnumerable<Command> Commands() =>
    [
        DemoCommand.Create(),
        ServeCommand.Create(),
        EmulateCommand.Create(),
        SnoopCommand.Create(),
        BierCommand.Create(),
        StoreCommand.Create(),
        PutCommand.Create(),
        GetCommand.Create(),
        PushCommand.Create(),
        LoadCommand.Create(),
        ClusterFailoverCommand.Create(),
        BridgeAgentCommand.Create(),
        AuditCommand.Create(),
        TokenCommand.Create(),
    ];

    /// <summary>The root command with every subcommand; <c>--help</c>, <c>--version</c> and the <c>[suggest]</c> completion directive come with it.</summary>
    public static RootCommand Create()
    {
        var root = new RootCommand("tsm — transactional subset multicast: controller, emulator and IGMP/MLD snooper.");
        root.HelpName = "tsm"; // not the host's name when run in-process (tests)
        foreach (var c in Commands()) root.Subcommands.Add(c);
        root.SetAction(r =>
        {
            // A bare "tsm" is a usage error: the usage, and exit 2.
            var help = new System.CommandLine.Help.HelpAction();
            var output = r.InvocationConfiguration.Output;
            r.InvocationConfiguration.Output = r.InvocationConfiguration.Error;
            help.Invoke(r);
            r.InvocationConfiguration.Output = output;
            return UsageError;
        });
        return root;
    }

    /// <summary>
    /// Parses and runs <paramref name="args"/>: exit 0 for <c>--help</c>; on a usage error one line on
    /// <paramref name="stderr"/> naming the option or value, and exit <see cref="UsageError"/>; otherwise the command's exit code.
    /// Ctrl-C and SIGTERM are the caller's: they cancel <paramref name="cancellationToken"/>.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var root = Create();
        var result = root.Parse(args);
        var fromConfiguration = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            if (ConfigurationArguments.For(result, args, fromConfiguration) is { } withConfig)
                result = withConfig;
        }
        catch (UsageException e)
        {
            await stderr.WriteLineAsync($"{CommandPath(result)}: {e.Message}");
            return UsageError;
        }
        if (result.Action is ParseErrorAction && result.Errors.Count > 0)
        {
            string problem = Describe(result).TrimEnd('.');
            string? from = fromConfiguration.Where(kv => problem.StartsWith(kv.Key + " ", StringComparison.Ordinal) || problem.StartsWith(kv.Key + ":", StringComparison.Ordinal))
                .Select(kv => kv.Value).FirstOrDefault();
            await stderr.WriteLineAsync($"{CommandPath(result)}: {problem}{(from is null ? "" : $" (set by {from})")} (see {CommandPath(result)} --help).");
            return UsageError;
        }
        var invocation = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            ProcessTerminationTimeout = null, // our own SIGINT/SIGTERM handling: a clean stop, exit 0
            EnableDefaultExceptionHandler = false,
        };
        try
        {
            return await result.InvokeAsync(invocation, cancellationToken);
        }
        catch (UsageException e)
        {
            await stderr.WriteLineAsync($"{CommandPath(result)}: {e.Message}");
            return UsageError;
        }
    }

    private static string CommandPath(ParseResult result)
    {
        var names = new List<string>();
        for (var c = result.CommandResult; c is not null; c = c.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, c.Command is RootCommand ? "tsm" : c.Command.Name);
        return string.Join(' ', names);
    }

    /// <summary>The first error, as one line; an unmatched token is an unknown option or argument.</summary>
    private static string Describe(ParseResult result)
    {
        if (result.UnmatchedTokens.Count > 0)
        {
            var token = result.UnmatchedTokens[0];
            if (token.StartsWith('-')) return $"unknown option '{token}'.";
            // "--json foo": say which flag the value was given to.
            var tokens = result.Tokens;
            int at = tokens.Select((t, i) => (t, i)).FirstOrDefault(x => x.t.Value == token).i;
            if (at > 0 && result.CommandResult.Command.Options.FirstOrDefault(o => o.Name == tokens[at - 1].Value) is Option<bool> flag)
                return $"{flag.Name} is a flag and takes no value, not '{token}'.";
            return $"unexpected argument '{token}'.";
        }
        return result.Errors[0].Message.ReplaceLineEndings(" ");
    }
}

/// <summary>A command line a command cannot run with, found after parsing (e.g. a file that is not a fabric spec); the message says what is wrong.</summary>
public sealed class UsageException(string message) : Exception(message);
