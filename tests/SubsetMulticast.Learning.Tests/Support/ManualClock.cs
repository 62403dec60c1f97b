namespace SubsetMulticast.Learning.Tests.Support;

/// <summary>A clock that moves only when told; the learner's snoopers read it on every frame and tick.</summary>
internal sealed class ManualClock : TimeProvider
{
    private readonly Lock _gate = new();
    private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() { lock (_gate) return _now; }

    public void Advance(TimeSpan by) { lock (_gate) _now += by; }
}
