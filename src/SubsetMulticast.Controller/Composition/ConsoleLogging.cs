using Microsoft.Extensions.Logging;

namespace SubsetMulticast.Controller.Composition;

/// <summary>
/// How <c>tsm serve</c> logs: one line per event on the console, our own at Information and ASP.NET's at Warning;
/// nothing when quiet. The one place console logging is set up (the host applies it once, through
/// <see cref="ControllerOptions.ConfigureLogging"/>); another format (e.g. JSON) belongs here.
/// </summary>
public static class ConsoleLogging
{
    /// <param name="format">Text lines for a person, or one JSON object per line (<c>--log-format json</c>).</param>
    public static Action<ILoggingBuilder> For(bool quiet, Observability.LogFormat format = Observability.LogFormat.Text) =>
        logging => Observability.ConsoleLogs.AddTsmConsole(logging, format, quiet);
}
