using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace SubsetMulticast.Transfer.Tests.Emulated;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that moves only when the code under test waits on it. <see cref="RunAsync{T}"/> runs an
/// operation and jumps to the next timer due whenever (a) the caller's <c>busy</c> test finds no work under way — no
/// datagram in flight, no request to the controller out, no server task running — and (b) a one-shot timer is pending:
/// a round's wait or a pacer's delay, which someone awaits. Periodic timers (a server's sweep) fire on the way but never
/// move the clock on their own. So what the client decides depends on the order of events, never on how fast the
/// machine runs them: an ack on its way is never late, and a lost one costs its round of fake time and no wall-clock wait.
/// Timers are counted per owner (<see cref="For"/>), so <c>busy</c> can tell a server task that waits on its pacer from
/// one that runs.
/// </summary>
internal sealed class DrivenFakeClock : FakeTimeProvider
{
    private readonly Lock _gate = new();
    // Held while the clock moves and while a timer is set, so a timer set from another thread computes its due from
    // the same "now" as the fake clock does (else the two disagree and the clock jumps to an instant where nothing fires).
    // A Monitor: a timer fired under it may set another on the same thread.
    private readonly object _move = new();
    private readonly HashSet<TrackedTimer> _timers = [];
    private readonly SemaphoreSlim _changed = new(0);
    private int _running;

    /// <summary>Times the clock was moved (one jump to the next timer due).</summary>
    public long Jumps { get; private set; }

    /// <summary>This clock, with the timers created through it counted under <paramref name="owner"/>.</summary>
    public TimeProvider For(string owner) => new View(this, owner);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        Create(null, callback, state, dueTime, period);

    /// <summary>Something <see cref="RunAsync{T}"/> may be waiting for has changed: it looks again at once.</summary>
    public void Poke()
    {
        if (_changed.CurrentCount == 0) _changed.Release();
    }

    /// <summary>Pending one-shot timers (each awaited by someone) of <paramref name="owner"/>.</summary>
    public int Awaited(string owner)
    {
        lock (_gate) return _timers.Count(t => t.Owner == owner && t.Due is not null && t.Period == TimeSpan.Zero);
    }

    /// <summary>
    /// Runs <paramref name="operation"/> to its end, moving the clock to the next timer due each time <paramref name="busy"/>
    /// says nothing is under way (null; else what is) and a one-shot timer is pending. Fails after
    /// <paramref name="bound"/> of real time, saying what it was waiting for.
    /// </summary>
    public async Task<T> RunAsync<T>(Func<Task<T>> operation, Func<string?> busy, TimeSpan bound)
    {
        Interlocked.Increment(ref _running);
        try
        {
            var task = operation();
            var real = Stopwatch.StartNew();
            // Each pass either moves the clock or waits for a poke (a datagram handled, a timer made, a request back);
            // the 5 ms cap only covers a change that pokes nobody (a server task ending without sending).
            DateTimeOffset? last = null;
            for (long pass = 0; pass < 10_000_000 && !task.IsCompleted; pass++)
            {
                string? why = busy();
                if (real.Elapsed > bound)
                    throw new TimeoutException($"Not done after {bound.TotalSeconds:0} s of real time at fake {this}: {why ?? "nobody waits on a timer"}; timers: {Describe()}");
                if (why is null && NextDue() is { } due)
                {
                    // A jump that fired nothing at that instant: the fake clock wakes that timer a little later than we keep it
                    // (a sub-millisecond due we keep in whole milliseconds, or a timer set at "now" that fires only when time
                    // moves; CI, 2026-12-02: "a timer due at 00:00:12.228 did not fire"). One millisecond on fires it; a timer
                    // that never fires still ends in the real-time bound's TimeoutException, with the timers described.
                    if (last is { } l && due <= l) due = l + TimeSpan.FromMilliseconds(1);
                    last = due;
                    lock (_move) SetUtcNow(due > GetUtcNow() ? due : GetUtcNow());   // fires every timer due by then, in order
                    Jumps++;
                    continue;
                }
                await Task.WhenAny(task, _changed.WaitAsync(TimeSpan.FromMilliseconds(5))).ConfigureAwait(false);
            }
            if (!task.IsCompleted) throw new InvalidOperationException($"Not done after 10,000,000 passes at fake {this}; timers: {Describe()}");
            return await task.ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }

    /// <summary>The earliest due of all pending timers, when some one-shot timer is pending; else null.</summary>
    private DateTimeOffset? NextDue()
    {
        lock (_gate)
        {
            if (!_timers.Any(t => t.Due is not null && t.Period == TimeSpan.Zero)) return null;
            return _timers.Where(t => t.Due is not null).Min(t => t.Due!.Value);
        }
    }

    private string Describe()
    {
        lock (_gate)
            return string.Join(", ", _timers.Where(t => t.Due is not null).OrderBy(t => t.Due)
                .Select(t => $"{t.Owner ?? "?"} +{(t.Due!.Value - GetUtcNow()).TotalMilliseconds:0} ms{(t.Period > TimeSpan.Zero ? " periodic" : "")}"));
    }

    private TrackedTimer Create(string? owner, TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        bool oneShot = period <= TimeSpan.Zero || period == Timeout.InfiniteTimeSpan;
        // Nothing would ever move the clock for it: the call that waits on it must go through RunAsync.
        if (oneShot && dueTime != Timeout.InfiniteTimeSpan && Volatile.Read(ref _running) == 0)
            throw new InvalidOperationException($"A {dueTime.TotalMilliseconds:0} ms timer ({owner}) was started outside DrivenFakeClock.RunAsync: it would never fire.");
        var timer = new TrackedTimer(this, owner);
        lock (_move)
        {
            lock (_gate)
            {
                timer.Set(dueTime, period);
                _timers.Add(timer);
            }
            // The fake clock fires a timer due now inside CreateTimer, so the tracking above comes first.
            timer.Inner = base.CreateTimer(s => { timer.Fired(); callback(s); }, state, dueTime, period);
        }
        Poke();
        return timer;
    }

    /// <summary>A timer of the fake clock, with when it is due next as the fake clock keeps it (whole milliseconds).</summary>
    private sealed class TrackedTimer(DrivenFakeClock clock, string? owner) : ITimer
    {
        public string? Owner => owner;
        public ITimer? Inner { get; set; }
        /// <summary>Next due, or null when it will not fire (fired one-shot, stopped). Under the clock's gate.</summary>
        public DateTimeOffset? Due { get; private set; }
        /// <summary>Zero for a one-shot timer.</summary>
        public TimeSpan Period { get; private set; }

        public void Set(TimeSpan dueTime, TimeSpan period)
        {
            Period = period <= TimeSpan.Zero || period == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : TimeSpan.FromMilliseconds((long)period.TotalMilliseconds);
            Due = dueTime == Timeout.InfiniteTimeSpan ? null : clock.GetUtcNow() + TimeSpan.FromMilliseconds((long)dueTime.TotalMilliseconds);
        }

        public void Fired()
        {
            lock (clock._gate) Due = Period > TimeSpan.Zero ? clock.GetUtcNow() + Period : null;
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            bool changed;
            lock (clock._move)
            {
                lock (clock._gate) Set(dueTime, period);
                changed = Inner!.Change(dueTime, period);
            }
            clock.Poke();
            return changed;
        }

        public void Dispose()
        {
            lock (clock._gate) clock._timers.Remove(this);
            Inner?.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>The clock as one owner sees it: the same time, its timers counted under its name.</summary>
    private sealed class View(DrivenFakeClock clock, string owner) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => clock.GetUtcNow();
        public override long GetTimestamp() => clock.GetTimestamp();
        public override long TimestampFrequency => clock.TimestampFrequency;
        public override TimeZoneInfo LocalTimeZone => clock.LocalTimeZone;
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            clock.Create(owner, callback, state, dueTime, period);
    }
}
