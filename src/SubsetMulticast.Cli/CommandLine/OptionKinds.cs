using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Emulator.Topology;

namespace SubsetMulticast.Cli.CommandLine;

/// <summary>An ADDRESS:PORT option's value: the address, or null for "off".</summary>
public sealed record EndPointOrOff(IPEndPoint? EndPoint);

/// <summary>
/// Typed options with their validation: each kind parses its text into the value the library takes, or
/// reports one line that names the option and the value ("--vlan must be a number 0..4094, not '5000'.").
/// </summary>
public static class OptionKinds
{
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    public static Option<string?> Text(string name, string description, string helpName) =>
        new(name) { Description = description, HelpName = helpName };

    public static Option<int> Int(string name, string description, int min, int max, int defaultValue) =>
        WithDefault(Parsed<int>(name, description, "N", text =>
            int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max ? v : null,
            $"must be a number {min}..{max}"), defaultValue);

    /// <summary>An integer ≥ <paramref name="min"/>, optional (null when not given).</summary>
    public static Option<int?> Count(string name, string description, int min) =>
        Parsed<int?>(name, description, "N", text =>
            int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v >= min ? v : null,
            $"wants an integer ≥ {min}");

    /// <summary>A positive number of seconds (fractions allowed), optional.</summary>
    public static Option<TimeSpan?> Seconds(string name, string description) =>
        Parsed<TimeSpan?>(name, description, "SECONDS", text =>
            double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0 && s < 1e7 ? TimeSpan.FromSeconds(s) : null,
            "wants a positive number of seconds");

    /// <summary>A whole number of seconds in a range.</summary>
    public static Option<int> WholeSeconds(string name, string description, int min, int max, int defaultValue) =>
        WithDefault(Parsed<int>(name, description, "SECONDS", text =>
            int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max ? v : null,
            $"must be a number {min}..{max}"), defaultValue);

    /// <summary>ADDRESS:PORT; with <paramref name="allowOff"/>, "off" is an <see cref="EndPointOrOff"/> without an address. Null: not given.</summary>
    public static Option<EndPointOrOff?> EndPoint(string name, string description, bool allowOff, string example) =>
        Parsed<EndPointOrOff?>(name, description, allowOff ? "ADDRESS:PORT|off" : "ADDRESS:PORT", text =>
            allowOff && text == "off" ? new EndPointOrOff(null)
            : IPEndPoint.TryParse(text, out var ep) && text.Contains(':', StringComparison.Ordinal) ? new EndPointOrOff(ep)
            : null,
            $"must be ADDRESS:PORT (e.g. {example}){(allowOff ? " or 'off'" : "")}");

    /// <summary>An IP address that <paramref name="accept"/> takes, optional.</summary>
    public static Option<IpAddress?> Address(string name, string description, Func<IpAddress, bool> accept, string requirement) =>
        Parsed<IpAddress?>(name, description, "ADDRESS", text =>
            IpAddress.TryParse(text, out var ip) && accept(ip) ? ip : null, requirement);

    /// <summary>One of <paramref name="values"/> (tab completion offers them).</summary>
    public static Option<string> Choice(string name, string description, string defaultValue, params string[] values)
    {
        var option = Parsed<string>(name, description, string.Join('|', values), text => values.Contains(text, StringComparer.Ordinal) ? text : null,
            $"must be {string.Join(" or ", values)}");
        option.DefaultValueFactory = _ => defaultValue;
        option.CompletionSources.Add(values);
        return option;
    }

    /// <summary>A fabric spec (single:HOSTS, leaf-spine:SPINES:LEAVES:HOSTS, fat-tree:K, file:PATH) on VLAN 1; null when not given (the caller's default).</summary>
    public static Option<FabricSpec?> Fabric(string name, string description, string defaultValue)
    {
        var option = new Option<FabricSpec?>(name) { Description = description + $" single:HOSTS, leaf-spine:SPINES:LEAVES:HOSTS, fat-tree:K or file:PATH (default {defaultValue}).", HelpName = "SPEC" };
        option.CustomParser = result =>
        {
            if (result.Tokens.Count == 0) return null;
            string text = result.Tokens[^1].Value;
            try
            {
                return FabricSpec.Parse(text);
            }
            catch (Exception e) when (e is FormatException or ArgumentException or IOException)
            {
                result.AddError($"{name}: {e.Message}");
                return null!;
            }
        };
        option.CompletionSources.Add("single:4", "leaf-spine:2:4:8", "fat-tree:4", "file:");
        return option;
    }

    /// <summary>An option whose value <paramref name="parse"/> makes from its text (null or FormatException: refused as "NAME REQUIREMENT, not 'TEXT'.").</summary>
    public static Option<T> Parsed<T>(string name, string description, string helpName, Func<string, object?> parse, string requirement)
    {
        var option = new Option<T>(name) { Description = description, HelpName = helpName };
        // Called with no tokens for an option not given: that is its default, not a bad value.
        option.CustomParser = result => result.Tokens.Count == 0
            ? (option.DefaultValueFactory is { } defaultValue ? defaultValue(result) : default!)
            : ParseOne<T>(result, name, parse, requirement);
        return option;
    }

    /// <summary>A repeatable option: every occurrence (and comma-separated values when <paramref name="commas"/>) parsed.</summary>
    public static Option<List<T>> Many<T>(string name, string description, string helpName, Func<string, (T? Value, string? Error)> parse, bool commas = false)
    {
        var option = new Option<List<T>>(name) { Description = description, HelpName = helpName, AllowMultipleArgumentsPerToken = false };
        option.CustomParser = result =>
        {
            var values = new List<T>();
            foreach (var token in result.Tokens)
                foreach (var text in commas ? token.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : [token.Value])
                {
                    var (value, error) = parse(text);
                    if (error is not null) { result.AddError($"{name}: {error}"); return values; }
                    values.Add(value!);
                }
            return values;
        };
        return option;
    }

    private static T ParseOne<T>(ArgumentResult result, string name, Func<string, object?> parse, string requirement)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        try
        {
            var value = parse(text);
            if (value is not null) return (T)value;
        }
        catch (FormatException) { }
        result.AddError($"{name} {requirement}, not '{text}'.");
        return default!;
    }

    private static Option<T> WithDefault<T>(Option<T> option, T value)
    {
        option.DefaultValueFactory = _ => value;
        return option;
    }

    /// <summary>
    /// A check across options. It runs only when every option parsed: an option's own error is the one to report,
    /// and reading its value here would throw.
    /// </summary>
    public static void AddCheck(this Command command, Action<CommandResult> check) => command.Validators.Add(r =>
    {
        try
        {
            check(r);
        }
        catch (InvalidOperationException) { }
    });

    /// <summary>The option's value in a check, or <paramref name="fallback"/> when not given (checks run before defaults are filled in).</summary>
    public static T ValueOr<T>(this CommandResult result, Option<T> option, T fallback) =>
        result.GetResult(option) is null ? fallback : result.GetValue(option)!;

    /// <summary>Whether the user gave <paramref name="option"/> (on the command line or through configuration), not just its default.</summary>
    public static bool Given(this ParseResult result, Option option) => result.GetResult(option) is { Implicit: false };
}
