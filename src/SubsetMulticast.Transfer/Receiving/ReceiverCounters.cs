using SubsetMulticast.Transfer.Wire;

namespace SubsetMulticast.Transfer.Receiving;

/// <summary>What a server received and dropped, by reason. Thread-safe.</summary>
public sealed class ReceiverCounters
{
    private readonly long[] _drops = new long[Enum.GetValues<DropReason>().Length];
    private long _data, _recovered, _stored, _bids, _notNow, _alreadyStored;

    public long Drops(DropReason reason) => Interlocked.Read(ref _drops[(int)reason]);
    public long TotalDrops => _drops.Sum();
    public long DataDatagrams => Interlocked.Read(ref _data);
    public long RecoveredByFec => Interlocked.Read(ref _recovered);
    public long Stored => Interlocked.Read(ref _stored);
    public long Bids => Interlocked.Read(ref _bids);
    public long NotNow => Interlocked.Read(ref _notNow);
    public long AlreadyStored => Interlocked.Read(ref _alreadyStored);

    public IReadOnlyDictionary<string, long> DropsByReason() =>
        Enum.GetValues<DropReason>().Where(r => Drops(r) > 0).ToDictionary(r => r.ToString(), Drops);

    internal void Drop(DropReason reason) => Interlocked.Increment(ref _drops[(int)reason]);
    internal void Data() => Interlocked.Increment(ref _data);
    internal void Recovered() => Interlocked.Increment(ref _recovered);
    internal void StoredOne() => Interlocked.Increment(ref _stored);
    internal void Bid() => Interlocked.Increment(ref _bids);
    internal void NotNowOne() => Interlocked.Increment(ref _notNow);
    internal void AlreadyStoredOne() => Interlocked.Increment(ref _alreadyStored);
}
