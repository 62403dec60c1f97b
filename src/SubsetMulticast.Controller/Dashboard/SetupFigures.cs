using System.Collections.Concurrent;

namespace SubsetMulticast.Controller.Dashboard;

/// <summary>The live figures the dashboard shows next to the fabric.</summary>
public sealed record FiguresView(int GroupsLive, double SetupsPerSecond, long? SetupP99Micros, long? SetupP50Micros, int SetupsInWindow, double WindowSeconds, string Source);

/// <summary>Where the dashboard's live figures come from.</summary>
public interface IDashboardFigures
{
    FiguresView Read(int groupsLive);

    /// <summary>The last setup time of a live group (create or refresh), when this process saw it.</summary>
    bool TryGetSetupMicros(string groupId, out long micros);
}

/// <summary>
/// Setups per second and setup p99 over the last <see cref="Window"/>, computed from the group change feed's
/// creates and refreshes (their request-to-confirmation time). This stands in until the controller's
/// System.Diagnostics.Metrics instruments (the ones /metrics exports) exist; then an <see cref="IDashboardFigures"/>
/// reading the same Meter through a MeterListener replaces it (registered first; this one is TryAdd'ed).
/// </summary>
public sealed class SetupFigures : IDashboardFigures
{
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);
    private const int Capacity = 16384; // setups kept for the window; beyond that the oldest are forgotten early

    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly long[] _at = new long[Capacity];
    private readonly long[] _micros = new long[Capacity];
    private readonly ConcurrentDictionary<string, long> _lastSetup = new(StringComparer.Ordinal);
    private int _next, _count;

    public SetupFigures(GroupChangeFeed feed, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(feed);
        _time = time;
        feed.Published += Observe;
    }

    public bool TryGetSetupMicros(string groupId, out long micros) => _lastSetup.TryGetValue(groupId, out micros);

    private void Observe(GroupChange change)
    {
        if (change.Superseded is { } old) _lastSetup.TryRemove(old, out _);
        if (change.Kind is GroupChangeKind.Released or GroupChangeKind.Expired)
        {
            _lastSetup.TryRemove(change.Group.Id, out _);
            return;
        }
        if (change.SetupMicros is not { } micros) return;
        _lastSetup[change.Group.Id] = micros;
        lock (_gate)
        {
            _at[_next] = _time.GetTimestamp();
            _micros[_next] = micros;
            _next = (_next + 1) % Capacity;
            if (_count < Capacity) _count++;
        }
    }

    public FiguresView Read(int groupsLive)
    {
        long now = _time.GetTimestamp();
        long horizon = now - (long)(Window.TotalSeconds * _time.TimestampFrequency);
        long[] recent;
        lock (_gate)
        {
            var list = new List<long>(_count);
            for (int i = 0; i < _count; i++)
            {
                int at = (_next - 1 - i + Capacity) % Capacity;
                if (_at[at] < horizon) break; // newest first: the rest are older
                list.Add(_micros[at]);
            }
            recent = [.. list];
        }
        Array.Sort(recent);
        return new FiguresView(groupsLive, recent.Length / Window.TotalSeconds,
            recent.Length == 0 ? null : Percentile(recent, 0.99),
            recent.Length == 0 ? null : Percentile(recent, 0.50),
            recent.Length, Window.TotalSeconds, "group change feed (creates and refreshes in the window)");
    }

    /// <summary>Nearest-rank percentile of a sorted array.</summary>
    private static long Percentile(long[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
