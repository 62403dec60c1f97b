namespace SubsetMulticast.Transfer.Transport;

/// <summary>
/// Paces a burst of datagrams to a rate: each send is due at start + bytes so far / rate. The sender runs
/// ahead freely by up to <see cref="Slack"/> (timer granularity on Linux is about a millisecond), then waits.
/// </summary>
internal sealed class Pacer(long bytesPerSecond, TimeProvider time)
{
    public static readonly TimeSpan Slack = TimeSpan.FromMilliseconds(2);
    private readonly long _start = time.GetTimestamp();
    private long _bytes;

    public ValueTask WaitAsync(int bytes, CancellationToken cancellationToken)
    {
        _bytes += bytes;
        if (bytesPerSecond <= 0) return ValueTask.CompletedTask;
        var due = TimeSpan.FromSeconds((double)_bytes / bytesPerSecond);
        var ahead = due - time.GetElapsedTime(_start);
        return ahead > Slack ? new ValueTask(Task.Delay(ahead - Slack / 2, time, cancellationToken)) : ValueTask.CompletedTask;
    }
}
