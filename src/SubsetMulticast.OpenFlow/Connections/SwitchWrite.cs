using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.OpenFlow.Connections;

/// <summary>
/// One submission to a switch (<see cref="OpenFlowSession.Submit"/>): its messages, when they were written and
/// when the barrier that follows them was answered, with the ERRORs the switch sent for them.
/// </summary>
public sealed class SwitchWrite
{
    private readonly OpenFlowSession _session;
    // Written is awaited only by the optimistic path (ApplyStagedAsync): its source is made when first asked for, and
    // until then the outcome is kept in _writtenState — a TaskCompletionSource and its Task less per switch and transaction.
    private TaskCompletionSource? _written; // under lock (this)
    private int _writtenState; // 0 pending, 1 written, 2 failed (_writtenError); first outcome wins, as TrySet* did
    private Exception? _writtenError;
    private readonly TaskCompletionSource<IReadOnlyList<ErrorMessage>> _confirmed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private List<ErrorMessage>? _errors;

    internal SwitchWrite(OpenFlowSession session, IReadOnlyList<OfpMessage> messages, uint firstXid)
    {
        _session = session;
        Messages = messages;
        FirstXid = firstXid;
    }

    /// <summary>The messages as submitted; on the wire message i carries xid <see cref="FirstXid"/> + i.</summary>
    public IReadOnlyList<OfpMessage> Messages { get; }

    /// <summary>The xid of the first message; the others follow consecutively.</summary>
    public uint FirstXid { get; }

    /// <summary>Completes when the messages and their barrier are flushed to the connection.</summary>
    public Task Written
    {
        get
        {
            lock (this)
            {
                if (_written is null)
                {
                    _written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    if (_writtenState == 1) _written.SetResult();
                    else if (_writtenState == 2) { _written.SetException(_writtenError!); _ = _written.Task.Exception; }
                }
                return _written.Task;
            }
        }
    }

    private void SetWritten(Exception? error)
    {
        TaskCompletionSource? tcs;
        lock (this)
        {
            if (_writtenState != 0) return;
            _writtenState = error is null ? 1 : 2;
            _writtenError = error;
            tcs = _written;
        }
        if (tcs is null) return;
        if (error is null) tcs.TrySetResult();
        else { tcs.TrySetException(error); _ = tcs.Task.Exception; }
    }

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
        SetWritten(null);
    }

    internal void AddError(ErrorMessage error)
    {
        lock (this) (_errors ??= []).Add(error);
    }

    internal void Confirm()
    {
        ConfirmedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        IReadOnlyList<ErrorMessage> errors;
        lock (this) errors = _errors is null ? [] : [.. _errors];
        SetWritten(null);
        _confirmed.TrySetResult(errors);
    }

    internal void TimeOut() =>
        _confirmed.TrySetException(new TimeoutException($"switch {SwitchId}: no barrier reply within the request timeout"));

    internal void Abort(string reason)
    {
        var ex = new OpenFlowSessionException(reason.StartsWith("session", StringComparison.Ordinal) ? reason : $"session closed: {reason}");
        SetWritten(ex);
        _confirmed.TrySetException(ex);
        // Observed here so that a caller that awaits only one of them leaves no unobserved exception behind.
        _ = _confirmed.Task.Exception;
    }
}
