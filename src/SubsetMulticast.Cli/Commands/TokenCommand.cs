using System.CommandLine;
using SubsetMulticast.Cli.CommandLine;
using SubsetMulticast.Controller.Security;

namespace SubsetMulticast.Cli.Commands;

/// <summary>
/// <c>tsm token create NAME --scope S [--scope S …] [--clients FILE]</c>: a new API client. The token is printed once,
/// on standard output, for the client to keep; only its SHA-256 goes into the clients file (appended to FILE, or
/// printed on standard error to paste). The controller reads the file with <c>tsm serve --api-clients file:FILE</c>.
/// </summary>
internal static class TokenCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "The client's name: the owner of the groups it creates (letters, digits, . - _ @)." };
        var scopes = OptionKinds.Many<ApiScope>("--scope", "A scope: read, admin, groups:write, groups:write:VLAN, groups:write:VLAN:REFERENCE (repeat, or commas).", "SCOPE",
            t => ApiScope.TryParse(t, out var s) ? (s.Value, null) : (default, $"'{t}' is not a scope (read, admin, groups:write[:VLAN[:REFERENCE]])"), commas: true);
        var clients = OptionKinds.Text("--clients", "Append the client's line (token hash and scopes) to this clients file.", "FILE");
        var create = new Command("create", "Make a client: print its new bearer token once; write its hashed line to the clients file.") { name, scopes, clients };
        create.AddCheck(r => { if (r.GetValue(scopes) is not { Count: > 0 }) r.AddError("--scope is required (read, admin, groups:write[:VLAN[:REFERENCE]])."); });
        create.SetAction(async (r, ct) =>
        {
            var token = ApiClientTable.NewToken();
            var client = new ApiClient(r.GetValue(name)!, r.GetValue(scopes)!, ApiClientTable.HashToken(token));
            string line = ApiClientTable.FormatLine(client);
            try
            {
                _ = ApiClientTable.Parse(line, "the new line"); // the name and scopes as the controller will read them
                if (r.GetValue(clients) is { } file)
                {
                    if (File.Exists(file) && ApiClientTable.Parse(await File.ReadAllTextAsync(file, ct), file).TryFind(client.Name, out _))
                        throw new FormatException($"{file} already has a client '{client.Name}'.");
                    await File.AppendAllTextAsync(file, line + "\n", ct);
                }
                else await r.InvocationConfiguration.Error.WriteLineAsync(line);
            }
            catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
            {
                await r.InvocationConfiguration.Error.WriteLineAsync($"tsm token create: {e.Message}");
                return 2;
            }
            await r.InvocationConfiguration.Output.WriteLineAsync(token);
            return 0;
        });
        return new Command("token", "API bearer tokens for tsm serve's clients file.") { create };
    }
}
