namespace SubsetMulticast.Cluster.Etcd;

/// <summary>
/// When to speak while etcd does not answer: the first failure of an outage is said, then at most one line per
/// <see cref="Interval"/> with the count of failures since the last line, and one line when etcd answers again. With
/// etcd down a client retrying in a loop (the store) or a keep-alive and a watch retrying every 200 ms (a cluster node)
/// wrote one warning per failure before. It decides only; the caller says it in its own words.
/// </summary>
internal sealed class EtcdOutageLog(TimeProvider time)
{
    /// <summary>How often a continuing outage is said again.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private DateTimeOffset? _since; // under _gate
    private DateTimeOffset _said;
    private int _failures, _failuresSinceSaid;

    /// <summary>What a failure calls for.</summary>
    public enum Say
    {
        /// <summary>The outage's first failure: say that etcd is away.</summary>
        First,
        /// <summary>An interval has passed since the last line: say it again, with <see cref="Failure.Seconds"/> and <see cref="Failure.Failures"/>.</summary>
        Still,
        /// <summary>Nothing at warning level (a debug line at most).</summary>
        Quiet,
    }

    /// <param name="Seconds">How long the outage has lasted (for <see cref="Say.Still"/>).</param>
    /// <param name="Failures">Failures since the last line, this one included (for <see cref="Say.Still"/>).</param>
    public readonly record struct Failure(Say Say, double Seconds, int Failures);

    /// <summary>An etcd call failed.</summary>
    public Failure Failed()
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            _failures++;
            _failuresSinceSaid++;
            if (_since is null)
            {
                _since = now;
                _said = now;
                _failuresSinceSaid = 0;
                return new Failure(Say.First, 0, 1);
            }
            if (now - _said < Interval) return new Failure(Say.Quiet, 0, 0);
            var still = new Failure(Say.Still, (now - _since.Value).TotalSeconds, _failuresSinceSaid);
            _said = now;
            _failuresSinceSaid = 0;
            return still;
        }
    }

    /// <summary>etcd answered: true (with the outage's length and its failures) when that ends an outage.</summary>
    public bool Answered(out double seconds, out int failures)
    {
        seconds = 0;
        failures = 0;
        if (Volatile.Read(ref _failures) == 0) return false;
        lock (_gate)
        {
            if (_since is not { } since) return false;
            seconds = (time.GetUtcNow() - since).TotalSeconds;
            failures = _failures;
            _since = null;
            _failures = 0;
            return true;
        }
    }
}
