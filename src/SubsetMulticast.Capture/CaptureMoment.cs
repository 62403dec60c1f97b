using System.Globalization;

namespace SubsetMulticast.Capture;

/// <summary>How a <see cref="CaptureMoment"/> is anchored.</summary>
public enum CaptureMomentKind
{
    /// <summary>An absolute UTC time.</summary>
    Absolute,
    /// <summary>An offset from the capture's first record.</summary>
    SinceStart,
    /// <summary>A UTC time of day on the day of the capture's first record ("what did the bridge think at 12:00:03?").</summary>
    TimeOfDay,
}

/// <summary>
/// A moment of a capture at which to read the snooper's state: <c>1767225603.5</c> (unix seconds),
/// <c>2026-01-01T12:00:03Z</c> (ISO 8601; no offset means UTC), <c>+2.5</c> (seconds after the first record)
/// or <c>12:00:03</c> / <c>12:00:03.250</c> (UTC time of day on the capture's first day).
/// Relative forms are resolved once the first record's time is known.
/// </summary>
public readonly record struct CaptureMoment(CaptureMomentKind Kind, long Ticks)
{
    public static CaptureMoment At(DateTimeOffset time) => new(CaptureMomentKind.Absolute, time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks);

    /// <summary>Ticks since the Unix epoch, given the capture's first record time (same unit).</summary>
    public long Resolve(long firstTimestamp) => Kind switch
    {
        CaptureMomentKind.SinceStart => firstTimestamp + Ticks,
        CaptureMomentKind.TimeOfDay => firstTimestamp - Mod(firstTimestamp, TimeSpan.TicksPerDay) + Ticks,
        _ => Ticks,
    };

    /// <summary>Parses one moment; false with a message saying what is accepted.</summary>
    public static bool TryParse(string text, out CaptureMoment moment, out string error)
    {
        moment = default;
        error = "";
        const NumberStyles Num = NumberStyles.AllowDecimalPoint;
        if (text.StartsWith('+'))
        {
            if (double.TryParse(text.AsSpan(1), Num, CultureInfo.InvariantCulture, out double s) && s < 1e9)
            {
                moment = new CaptureMoment(CaptureMomentKind.SinceStart, (long)Math.Round(s * TimeSpan.TicksPerSecond));
                return true;
            }
        }
        else if (decimal.TryParse(text, Num, CultureInfo.InvariantCulture, out decimal unix))
        {
            // decimal, not double: 1767225603.1234567 needs 17 digits to keep its 100-ns ticks.
            if (unix < 253402300799m) // the last second DateTimeOffset can hold
            {
                moment = new CaptureMoment(CaptureMomentKind.Absolute, (long)decimal.Round(unix * TimeSpan.TicksPerSecond));
                return true;
            }
        }
        else if (TimeSpan.TryParseExact(text, [@"hh\:mm\:ss", @"hh\:mm\:ss\.FFFFFFF", @"h\:mm\:ss", @"h\:mm\:ss\.FFFFFFF"],
                     CultureInfo.InvariantCulture, out var tod) && tod < TimeSpan.FromDays(1))
        {
            moment = new CaptureMoment(CaptureMomentKind.TimeOfDay, tod.Ticks);
            return true;
        }
        else if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) && text.Contains('-', StringComparison.Ordinal))
        {
            moment = At(t);
            return true;
        }
        error = $"'{text}' is not a moment: give unix seconds (1767225603.5), an ISO 8601 time (2026-01-01T12:00:03Z), " +
                "seconds after the capture's first frame (+2.5) or a UTC time of day on the capture's first day (12:00:03).";
        return false;
    }

    public override string ToString() => Kind switch
    {
        CaptureMomentKind.SinceStart => "+" + (Ticks / (double)TimeSpan.TicksPerSecond).ToString("0.#######", CultureInfo.InvariantCulture),
        CaptureMomentKind.TimeOfDay => new TimeSpan(Ticks).ToString(@"hh\:mm\:ss\.FFFFFFF", CultureInfo.InvariantCulture).TrimEnd('.'),
        _ => DateTimeOffset.UnixEpoch.AddTicks(Ticks).ToString("O", CultureInfo.InvariantCulture),
    };

    private static long Mod(long a, long m) => ((a % m) + m) % m;
}
