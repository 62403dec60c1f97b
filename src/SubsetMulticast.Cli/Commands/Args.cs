using System.Globalization;

namespace SubsetMulticast.Cli.Commands;

/// <summary>"--name value" and "--flag" options; unknown names and missing values are usage errors.</summary>
internal sealed class Args
{
    private readonly Dictionary<string, List<string?>> _values = new(StringComparer.Ordinal);

    public Args(string[] args, params string[] known)
    {
        for (int i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (!known.Contains(name)) throw new UsageException($"unknown option '{name}' (known: {string.Join(", ", known)}).");
            string? value = null;
            if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) value = args[++i];
            if (!_values.TryGetValue(name, out var list)) _values[name] = list = [];
            list.Add(value);
        }
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string? Get(string name) => _values.TryGetValue(name, out var v)
        ? v[^1] ?? throw new UsageException($"{name} needs a value.")
        : null;

    public IReadOnlyList<string> All(string name) => _values.TryGetValue(name, out var v)
        ? [.. v.Select(x => x ?? throw new UsageException($"{name} needs a value."))]
        : [];

    public int Int(string name, int fallback, int min, int max)
    {
        var s = Get(name);
        if (s is null) return fallback;
        if (!int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
            throw new UsageException($"{name} must be a number {min}..{max}, not '{s}'.");
        return v;
    }
}
