using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.OpenFlow.Connections;

/// <summary>
/// One submission to a switch (<see cref="OpenFlowSession.Submit"/>): its messages, when they were written and
/// when the barrier that follows them was answered, with the ERRORs the switch sent for them.
/// Call <see cref="Forget"/> once done with it so the session drops its xids.
/// </summary>
public sealed class SwitchWrite
{
    private readonly OpenFlowSession _session;
    private readonly TaskCompletionSource _written = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<IReadOnlyList<ErrorMessage>> _confirmed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private List<ErrorMessage>? _errors;
    private ITimer? _timeout;

    internal SwitchWrite(OpenFlowSession session, int count)
    {
        _session = session;
        Messages = new OfpMessage[count];
    }

    /// <summary>The messages as sent, with their xids.</summary>
    public OfpMessage[] Messages { get; }

    internal uint BarrierXid { get; set; }

    /// <summary>Completes when the messages and their barrier are flushed to the connection.</summary>
    public Task Written => _written.Task;

    /// <summary>The switch's ERRORs for these messages, once the barrier reply is in (empty: all applied).</summary>
    public Task<IReadOnlyList<ErrorMessage>> Confirmed => _confirmed.Task;

    /// <summary>The switch this went to.</summary>
    public string SwitchId => _session.SwitchId;

    /// <summary>When the flush completed and when the barrier reply was read (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>; 0 until then): the hop-by-hop figures of issue 14.</summary>
    public long WrittenAt { get; private set; }

    /// <inheritdoc cref="WrittenAt"/>
    public long ConfirmedAt { get; private set; }

    internal void MarkWritten()
    {
        WrittenAt = System.Diagnostics.Stopwatch.GetTimestamp();
        _written.TrySetResult();
    }

    internal void ArmTimeout(TimeSpan timeout, TimeProvider time)
    {
        if (_confirmed.Task.IsCompleted) return;
        var timer = time.CreateTimer(static s =>
        {
            var w = (SwitchWrite)s!;
            w._confirmed.TrySetException(new TimeoutException($"switch {w.SwitchId}: no barrier reply within the request timeout"));
            w._session.Forget(w);
        }, this, timeout, Timeout.InfiniteTimeSpan);
        _timeout = timer;
        if (_confirmed.Task.IsCompleted) timer.Dispose();
    }

    internal void AddError(ErrorMessage error)
    {
        lock (this) (_errors ??= []).Add(error);
    }

    internal void Confirm()
    {
        ConfirmedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        _timeout?.Dispose();
        IReadOnlyList<ErrorMessage> errors;
        lock (this) errors = _errors is null ? [] : [.. _errors];
        _written.TrySetResult();
        _confirmed.TrySetResult(errors);
    }

    internal void Abort(string reason)
    {
        _timeout?.Dispose();
        var ex = new OpenFlowSessionException(reason.StartsWith("session", StringComparison.Ordinal) ? reason : $"session closed: {reason}");
        _written.TrySetException(ex);
        _confirmed.TrySetException(ex);
        // Observed here so that a caller that awaits only one of them leaves no unobserved exception behind.
        _ = _written.Task.Exception;
        _ = _confirmed.Task.Exception;
    }

    /// <summary>Drops the session's bookkeeping for this submission's xids.</summary>
    public void Forget() => _session.Forget(this);
}
