using Microsoft.Extensions.Logging;

namespace SubsetMulticast.Controller.Composition;

/// <summary>
/// How <c>tsm serve</c> logs: one line per event on the console, our own at Information and ASP.NET's at Warning;
/// nothing when quiet. The one place console logging is set up (the host applies it once, through
/// <see cref="ControllerOptions.ConfigureLogging"/>); another format (e.g. JSON) belongs here.
/// </summary>
public static class ConsoleLogging
{
    public static Action<ILoggingBuilder> For(bool quiet) => logging =>
    {
        logging.ClearProviders();
        if (quiet) return;
        logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
        logging.SetMinimumLevel(LogLevel.Information);
        logging.AddFilter("Microsoft", LogLevel.Warning);
    };
}
