namespace SubsetMulticast.OpenFlow.Southbound;

/// <summary>
/// One switch's shared/exclusive gate. Transactions enter shared — they touch different groups (the lifecycle
/// never runs two on one group), so their writes may share a flush and a barrier. Reconciliation enters
/// exclusive: it reads the switch's tables and converges them, and must see no write in between. A waiting
/// exclusive entry holds new shared ones back so reconciliation cannot starve under load; callers that need
/// several switches take them in one order (ordinal by switch id), so the preference cannot deadlock.
/// </summary>
internal sealed class SwitchGate
{
    private readonly Queue<TaskCompletionSource> _exclusiveWaiters = new();
    private readonly Queue<TaskCompletionSource> _sharedWaiters = new();
    private int _shared;
    private bool _exclusive;

    public Task EnterSharedAsync(CancellationToken ct)
    {
        lock (this)
        {
            if (!_exclusive && _exclusiveWaiters.Count == 0) { _shared++; return Task.CompletedTask; }
            return Wait(_sharedWaiters, ct);
        }
    }

    public Task EnterExclusiveAsync(CancellationToken ct)
    {
        lock (this)
        {
            if (!_exclusive && _shared == 0) { _exclusive = true; return Task.CompletedTask; }
            return Wait(_exclusiveWaiters, ct);
        }
    }

    public void ExitShared()
    {
        lock (this)
        {
            _shared--;
            Admit();
        }
    }

    public void ExitExclusive()
    {
        lock (this)
        {
            _exclusive = false;
            Admit();
        }
    }

    private void Admit()
    {
        if (_exclusive) return;
        if (_shared == 0)
        {
            while (_exclusiveWaiters.TryDequeue(out var x))
                if (x.TrySetResult()) { _exclusive = true; return; }
        }
        if (_exclusiveWaiters.Count > 0) return;
        while (_sharedWaiters.TryDequeue(out var s))
            if (s.TrySetResult()) _shared++;
    }

    private Task Wait(Queue<TaskCompletionSource> queue, CancellationToken ct)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        queue.Enqueue(tcs);
        // A cancelled waiter stays in the queue; Admit skips it (TrySetResult fails on a cancelled source).
        if (ct.CanBeCanceled) ct.Register(static s => ((TaskCompletionSource)s!).TrySetCanceled(), tcs);
        return tcs.Task;
    }
}
