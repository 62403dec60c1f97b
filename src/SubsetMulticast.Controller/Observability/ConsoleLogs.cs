using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace SubsetMulticast.Controller.Observability;

/// <summary>How the controller writes its log to the console.</summary>
public enum LogFormat
{
    /// <summary>One line per event for a person: time, level, category, message.</summary>
    Text,
    /// <summary>One JSON object per line for a log shipper: timestamp, level, category, event id, message and every structured field.</summary>
    Json,
}

public static class ConsoleLogs
{
    /// <summary>Parses a --log-format value ("text" or "json"); null when it is neither.</summary>
    public static LogFormat? Parse(string value) => value.ToLowerInvariant() switch
    {
        "text" => LogFormat.Text,
        "json" => LogFormat.Json,
        _ => null,
    };

    /// <summary>
    /// The one console-logging setup of every controller process: our own events at Information, ASP.NET Core's at
    /// Warning, nothing when <paramref name="quiet"/>. Call once, from <see cref="ControllerOptions.ConfigureLogging"/>.
    /// </summary>
    public static ILoggingBuilder AddTsmConsole(this ILoggingBuilder logging, LogFormat format, bool quiet)
    {
        ArgumentNullException.ThrowIfNull(logging);
        logging.ClearProviders();
        if (quiet) return logging;
        if (format == LogFormat.Json)
            logging.AddJsonConsole(o =>
            {
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
                o.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false };
            });
        else
            logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; o.ColorBehavior = LoggerColorBehavior.Default; });
        logging.SetMinimumLevel(LogLevel.Information);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        return logging;
    }
}
