namespace SubsetMulticast.Testing;

/// <summary>
/// Polls until a state holds, failing with what it waited for (and the last value read, and a diagnosis if given) after
/// the timeout: for states that raise no event — flows installed by another task, a learner's tables, what a real peer
/// (Open vSwitch, etcd, a kernel) reports. Every wait is bounded in time and in count. A test helper, kept out of
/// product code.
/// </summary>
public static class Eventually
{
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        for (int i = 0; i < 1_000_000; i++)
        {
            if (condition()) return;
            if (DateTime.UtcNow > deadline) break;
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
        throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.#} s waiting for {what}");
    }

    /// <summary>Every 20 ms until <paramref name="condition"/> holds; <paramref name="diagnose"/> says why not, on timeout.</summary>
    public static async Task UntilAsync(Func<bool> condition, string what, int timeoutMs, Func<string>? diagnose = null)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        for (int i = 0; i < 1_000_000; i++)
        {
            if (condition()) return;
            if (DateTime.UtcNow > deadline) break;
            await Task.Delay(20).ConfigureAwait(false);
        }
        throw new TimeoutException($"timed out after {timeoutMs} ms waiting for {what}{(diagnose is null ? "" : "\n" + diagnose())}");
    }

    /// <summary>
    /// Reads every <paramref name="pollMs"/> until <paramref name="done"/> holds for what was read, and returns it. A read
    /// that throws an exception <paramref name="notYet"/> accepts (a bridge the daemon has not created yet) counts as
    /// "not yet"; any other escapes.
    /// </summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what, int timeoutMs = 20_000,
        Func<string>? diagnose = null, Func<Exception, bool>? notYet = null, int pollMs = 100)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        T last = default!;
        string lastError = "";
        for (int i = 0; i < 1_000_000; i++)
        {
            try
            {
                last = await read().ConfigureAwait(false);
                lastError = "";
                if (done(last)) return last;
            }
            catch (Exception e) when (notYet?.Invoke(e) == true)
            {
                lastError = $" ({e.GetType().Name}: {e.Message})";
            }
            if (DateTime.UtcNow > deadline) break;
            await Task.Delay(pollMs).ConfigureAwait(false);
        }
        throw new TimeoutException($"timed out after {timeoutMs} ms waiting for {what}; last: {Describe(last)}{lastError}{(diagnose is null ? "" : "\n" + diagnose())}");
    }

    // A table read (who masters which switch) says more as its entries than as its type name.
    private static string? Describe(object? value) => value is System.Collections.IDictionary d
        ? string.Join(", ", d.Keys.Cast<object>().Select(k => $"{k}={d[k]}"))
        : value?.ToString();
}
