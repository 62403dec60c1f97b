using SubsetMulticast.Push;

namespace SubsetMulticast.Controller.Push;

/// <summary>Counters of the push endpoint: one per verdict, and for accepted instructions applied or refused. Thread-safe.</summary>
public sealed class PushEndpointStats
{
    private readonly long[] _verdicts = new long[Enum.GetValues<PushVerdict>().Length];
    private long _applied, _refused, _received;

    public long Received => Interlocked.Read(ref _received);
    public long Applied => Interlocked.Read(ref _applied);
    public long Refused => Interlocked.Read(ref _refused);
    public long Count(PushVerdict verdict) => Interlocked.Read(ref _verdicts[(int)verdict]);

    internal void Record(PushVerdict verdict, PushOutcome outcome)
    {
        Interlocked.Increment(ref _received);
        Interlocked.Increment(ref _verdicts[(int)verdict]);
        if (outcome == PushOutcome.Applied) Interlocked.Increment(ref _applied);
        else if (outcome == PushOutcome.Refused) Interlocked.Increment(ref _refused);
    }
}
