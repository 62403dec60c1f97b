using System.CommandLine;
using Microsoft.Extensions.Configuration;

namespace SubsetMulticast.Cli.CommandLine;

/// <summary>
/// Settings from a JSON file (<c>--config FILE.json</c>) and from <c>TSM_</c>-prefixed environment variables,
/// read through <see cref="IConfiguration"/> into the very options the flags set: a setting the command line
/// does not give is taken from the environment, else from the file, and parsed and validated exactly as the
/// flag would be. Flags win. A command takes part by having the <see cref="Create">--config</see> option.
/// </summary>
/// <remarks>
/// Keys are the option names: <c>--query-interval</c> is <c>"queryInterval"</c> or <c>"query-interval"</c> in the
/// file and <c>TSM_QUERY_INTERVAL</c> (or <c>TSM_QUERYINTERVAL</c>) in the environment; a flag is true or false.
/// A key in the file that names no option of the command is a usage error (a typo must not be ignored).
/// </remarks>
public static class ConfigurationArguments
{
    public const string Name = "--config";
    public const string EnvironmentPrefix = "TSM_";

    public static Option<FileInfo?> Create() => new(Name)
    {
        Description = "A JSON file of settings (keys are the option names: \"api\", \"openflow\", \"queryInterval\", …); TSM_* environment variables override it, flags override both.",
        HelpName = "FILE.json",
    };

    /// <summary>The parse of the command line completed from configuration; null when the command takes no configuration.</summary>
    /// <param name="sources">Filled with where each setting taken from configuration came from ("TSM_VLAN", "serve.json"), by option name.</param>
    public static ParseResult? For(ParseResult parsed, IReadOnlyList<string> args, IDictionary<string, string> sources)
    {
        var command = parsed.CommandResult.Command;
        var configOption = command.Options.OfType<Option<FileInfo?>>().FirstOrDefault(o => o.Name == Name);
        if (configOption is null) return null;
        var file = parsed.GetValue(configOption);
        var settable = command.Options.Where(o => o != configOption && o.Name.StartsWith("--", StringComparison.Ordinal) && o is not System.CommandLine.Help.HelpOption)
            .ToDictionary(o => Normalize(o.Name), StringComparer.Ordinal);

        // Environment first, then the file: the first value found for an option is taken.
        var layers = new List<(IConfiguration Values, string Name)> { (new ConfigurationBuilder().AddEnvironmentVariables(EnvironmentPrefix).Build(), EnvironmentPrefix) };
        if (file is not null)
        {
            if (!file.Exists) throw new UsageException($"{Name} {file.FullName}: no such file.");
            IConfiguration fromFile;
            try
            {
                fromFile = new ConfigurationBuilder().AddJsonFile(file.FullName, optional: false, reloadOnChange: false).Build();
            }
            catch (Exception e) when (e is FormatException or InvalidDataException or IOException)
            {
                throw new UsageException($"{Name} {file.Name}: {e.InnerException?.Message ?? e.Message}");
            }
            foreach (var section in fromFile.GetChildren())
                if (!settable.ContainsKey(Normalize(section.Key)))
                    throw new UsageException($"{Name} {file.Name}: '{section.Key}' is not a setting of {command.Name} (settings: {string.Join(", ", settable.Values.Select(o => o.Name.TrimStart('-')))}).");
            layers.Add((fromFile, file.Name));
        }

        var extra = new List<string>();
        foreach (var (key, option) in settable)
        {
            if (parsed.GetResult(option) is { Implicit: false }) continue; // the flag wins
            var found = layers.SelectMany(l => l.Values.GetChildren().Select(c => (c.Key, c.Value, Layer: l.Name)))
                .FirstOrDefault(c => c.Value is not null && Normalize(c.Key) == key);
            if (found.Value is null) continue;
            extra.Add(option.Name);
            extra.Add(found.Value);
            sources[option.Name] = found.Layer == EnvironmentPrefix ? EnvironmentPrefix + found.Key : $"{found.Layer}: {found.Key}";
        }
        if (extra.Count == 0) return null;
        return parsed.RootCommandResult.Command.Parse([.. args, .. extra]);
    }

    /// <summary>"--query-interval", "queryInterval", "QUERY_INTERVAL" → "queryinterval".</summary>
    private static string Normalize(string key) =>
        new string([.. key.Where(c => c is not ('-' or '_')).Select(char.ToLowerInvariant)]);
}
