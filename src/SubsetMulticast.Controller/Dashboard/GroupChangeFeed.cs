using System.Threading.Channels;
using SubsetMulticast.Core.Lifecycle;

namespace SubsetMulticast.Controller.Dashboard;

public enum GroupChangeKind { Created, Refreshed, Released, Expired }

/// <summary>
/// One committed change to a rendezvous group. <see cref="SetupMicros"/> is the request-to-confirmation time of
/// a create or refresh; <see cref="Superseded"/> names the group a create at the same address replaced.
/// </summary>
public sealed record GroupChange(GroupChangeKind Kind, RendezvousGroup Group, long? SetupMicros, DateTimeOffset At, string? Superseded = null);

/// <summary>
/// The change feed of committed group transactions: the coordinator publishes after each commit, and each
/// reader (a dashboard stream) gets its own bounded queue. Publishing never blocks the coordinator: a reader
/// that falls <see cref="ReaderCapacity"/> changes behind is cut off (its reader completes with
/// <see cref="FeedOverflowException"/>) and starts again from a fresh snapshot, instead of holding memory or
/// slowing group setup.
/// </summary>
public sealed class GroupChangeFeed
{
    public const int ReaderCapacity = 4096;

    private readonly Lock _gate = new();
    private Channel<GroupChange>[] _readers = [];

    /// <summary>Called synchronously for each change before it is queued to readers (figures are kept this way).</summary>
    public event Action<GroupChange>? Published;

    public int ReaderCount => Volatile.Read(ref _readers).Length;

    public void Publish(GroupChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        Published?.Invoke(change);
        foreach (var reader in Volatile.Read(ref _readers))
        {
            if (!reader.Writer.TryWrite(change))
            {
                reader.Writer.TryComplete(new FeedOverflowException());
                Remove(reader);
            }
        }
    }

    /// <summary>A new reader that sees every change published from now on. Dispose it to stop.</summary>
    public GroupChangeSubscription Subscribe()
    {
        var channel = Channel.CreateBounded<GroupChange>(new BoundedChannelOptions(ReaderCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails instead of dropping silently
        });
        lock (_gate) _readers = [.. _readers, channel];
        return new GroupChangeSubscription(this, channel);
    }

    internal void Remove(Channel<GroupChange> channel)
    {
        lock (_gate) _readers = [.. _readers.Where(r => r != channel)];
    }
}

public sealed class GroupChangeSubscription : IDisposable
{
    private readonly GroupChangeFeed _feed;
    private readonly Channel<GroupChange> _channel;

    internal GroupChangeSubscription(GroupChangeFeed feed, Channel<GroupChange> channel)
    {
        _feed = feed;
        _channel = channel;
    }

    public ChannelReader<GroupChange> Reader => _channel.Reader;

    public void Dispose()
    {
        _channel.Writer.TryComplete();
        _feed.Remove(_channel);
    }
}

/// <summary>A reader fell too far behind the feed and was cut off; it must start again from a snapshot.</summary>
public sealed class FeedOverflowException() : Exception($"The reader fell {GroupChangeFeed.ReaderCapacity} changes behind the group change feed.");
