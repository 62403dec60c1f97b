namespace SubsetMulticast.Controller.Security;

/// <summary>
/// Where a secret comes from: <c>file:PATH</c> or <c>env:VAR</c>, never the command line itself (a command line is
/// visible to every user of the machine in <c>ps</c>), and never printed. The same convention as the SNMP switch file.
/// </summary>
public static class SecretSource
{
    /// <summary>The text behind <paramref name="source"/>; <see cref="FormatException"/> names the source (never the secret) when it cannot be read.</summary>
    public static string Read(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.StartsWith("file:", StringComparison.Ordinal))
        {
            var path = source[5..];
            try { return File.ReadAllText(path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            { throw new FormatException($"{source}: cannot read ({e.Message})", e); }
        }
        if (source.StartsWith("env:", StringComparison.Ordinal))
        {
            var name = source[4..];
            return Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value
                : throw new FormatException($"{source}: the environment variable {name} is not set");
        }
        throw new FormatException($"'{Describe(source)}' must be file:PATH or env:VAR (a secret is never given inline)");
    }

    /// <summary>How a mistaken source is shown: its first characters only, in case someone pasted the secret itself.</summary>
    private static string Describe(string source) => source.Length <= 6 ? source : source[..6] + "…";
}
