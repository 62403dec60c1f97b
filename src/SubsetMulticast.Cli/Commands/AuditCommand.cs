using System.CommandLine;
using SubsetMulticast.Cli.CommandLine;
using SubsetMulticast.Controller.Audit;

namespace SubsetMulticast.Cli.Commands;

/// <summary>
/// <c>tsm audit [--controller URL] [--switch ID] [--repair] [--json]</c>: intended vs installed rules on every switch,
/// through the running controller's /api/v1/audit. Exit 0 when every switch is in sync (or was repaired into it), 1 when
/// something differs or could not be read. The work is <see cref="AuditClient"/>'s and the controller's.
/// </summary>
internal static class AuditCommand
{
    public static Command Create()
    {
        var controller = OptionKinds.Parsed<Uri>("--controller", "The controller's REST API (default http://127.0.0.1:8080).", "URL",
            t => Uri.TryCreate(t.EndsWith('/') ? t : t + "/", UriKind.Absolute, out var u) && u.Scheme is "http" or "https" ? u : null, "must be an http:// or https:// URL");
        controller.DefaultValueFactory = _ => new Uri("http://127.0.0.1:8080/");
        var switchId = OptionKinds.Text("--switch", "Audit this switch only (its id as GET /api/v1/topology shows it).", "ID");
        var repair = OptionKinds.Flag("--repair", "Also fix what differs: install what is missing, rewrite what was modified, remove what is extra.");
        var json = OptionKinds.Flag("--json", "One JSON object: startedAt, durationMs, repair, totals, and per switch its counts, items and history.");
        var command = new Command("audit", "Compare the rules each switch holds with what the controller intends (and --repair them).") { controller, switchId, repair, json };
        command.SetAction(async (r, ct) =>
        {
            using var http = new HttpClient { BaseAddress = r.GetValue(controller), Timeout = TimeSpan.FromSeconds(120) };
            AuditRunView run;
            try
            {
                run = await AuditClient.RunAsync(http, r.GetValue(switchId), r.GetValue(repair), ct);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
            {
                await r.InvocationConfiguration.Error.WriteLineAsync($"tsm audit: {e.Message}");
                return 1;
            }
            await r.InvocationConfiguration.Output.WriteAsync(r.GetValue(json) ? AuditClient.Json(run) + "\n" : AuditClient.Text(run));
            bool ok = run.Switches.All(s => s.Error is null && (s.InSync || (run.Repair && s.Items.All(i => i.Action == "repaired"))));
            return ok ? 0 : 1;
        });
        return command;
    }
}
