namespace SubsetMulticast.Controller.Observability;

/// <summary>
/// At most <c>burst</c> log lines per <c>window</c> for one kind of event that a peer can cause at will (rejected
/// datagrams, malformed input): a flood must not turn into a flood of warnings. Events past the limit are counted,
/// not logged; the next line logged says how many were suppressed before it. The metrics count every event.
/// </summary>
public sealed class LogRateLimit(TimeProvider time, int burst = 10, TimeSpan? window = null)
{
    private readonly Lock _gate = new();
    private readonly long _window = (long)((window ?? TimeSpan.FromSeconds(10)).TotalSeconds * time.TimestampFrequency);
    private long _windowStart = long.MinValue;
    private int _logged;
    private long _suppressed;

    /// <summary>True when this event may be logged; then <paramref name="suppressedBefore"/> is how many were not, since the last one logged.</summary>
    public bool TryAcquire(out long suppressedBefore)
    {
        long now = time.GetTimestamp();
        lock (_gate)
        {
            if (_windowStart == long.MinValue || now - _windowStart >= _window)
            {
                _windowStart = now;
                _logged = 0;
            }
            if (_logged >= burst)
            {
                _suppressed++;
                suppressedBefore = 0;
                return false;
            }
            _logged++;
            suppressedBefore = _suppressed;
            _suppressed = 0;
            return true;
        }
    }
}
