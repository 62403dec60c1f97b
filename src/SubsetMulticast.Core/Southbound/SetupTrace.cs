namespace SubsetMulticast.Core.Southbound;

/// <summary>
/// The hops of one setup, as <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/> timestamps filled in as the request
/// passes through: the API starts it, the southbound marks when planning handed it the changes, when every switch's
/// messages were submitted, flushed and confirmed. Carried by an <see cref="AsyncLocal{T}"/>, so no signature on the
/// path changes and a request nobody traces pays one null check per mark. The API turns it into a Server-Timing
/// header, which is how the proof harness splits "decision → received" into hops (issue 14). It reads the
/// monotonic clock directly rather than an injected <see cref="TimeProvider"/>: it measures real hops (the switch
/// channel stamps its writes the same way), and a fake clock would make every figure zero.
/// </summary>
public sealed class SetupTrace
{
    private static readonly AsyncLocal<SetupTrace?> Ambient = new();

    private SetupTrace(long start) => Start = start;

    /// <summary>The trace of the request this code runs for, or null.</summary>
    public static SetupTrace? Current => Ambient.Value;

    /// <summary>Starts tracing the current request (the caller's async flow and everything it awaits).</summary>
    public static SetupTrace Begin()
    {
        var trace = new SetupTrace(Now);
        Ambient.Value = trace;
        return trace;
    }

    /// <summary>The clock every mark uses.</summary>
    public static long Now => System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>The request's start: the API pipeline's first middleware (before its body was read).</summary>
    public long Start { get; }

    /// <summary>The create's handler began (Start → Entered: exception handling, authentication, rate limiting, routing); 0 when the handler began the trace itself.</summary>
    public long Entered { get; set; }

    /// <summary>The body's last byte was in hand (before: the client's bytes on their way, Kestrel's read).</summary>
    public long BodyArrived { get; set; }

    /// <summary>The body was read and parsed (JSON → request, syntax checked).</summary>
    public long BodyRead { get; set; }

    /// <summary>The caller was authorised and its quota reserved; the coordinator takes over.</summary>
    public long Admitted { get; set; }

    /// <summary>The lifecycle prepared the transaction (validated, planned, address reserved); the journal and the switches are next.</summary>
    public long Prepared { get; set; }

    /// <summary>The southbound was handed the planned changes (parse, validation, planning and reservation done).</summary>
    public long Planned { get; set; }

    /// <summary>Every switch's messages were encoded and queued (no I/O awaited yet).</summary>
    public long Submitted { get; set; }

    /// <summary>The last switch's messages and barrier were flushed to its connection.</summary>
    public long Written { get; set; }

    /// <summary>The last switch's barrier reply was read (0 in optimistic mode, which does not wait for it).</summary>
    public long Confirmed { get; set; }

    /// <summary>The request's flow ran again after the last confirmation (Confirmed → Resumed: the hand-off from the read loop).</summary>
    public long Resumed { get; set; }

    /// <summary>The coordinator returned the committed group to the API (commit, metrics, log, publish).</summary>
    public long Returned { get; set; }

    /// <summary>The longest flush → barrier reply of the switches (the switch's and the channel's share), in timestamp units.</summary>
    public long MaxBarrierTicks { get; set; }

    /// <summary>Switch messages written (flow and group mods, barriers not counted).</summary>
    public int Messages { get; set; }

    /// <summary>
    /// The trace as a Server-Timing header value (durations in ms): plan = start → planned, submit = planned →
    /// submitted, write = submitted → written, barrier = written → confirmed, switch = the longest single
    /// flush → barrier reply, total = start → now; msgs = switch messages (dur carries the count). The finer marks
    /// split plan into route (the pipeline's first middleware → the create's handler), read (handler → body parsed; itself arrive = start → the body's last byte in hand, parse = → parsed), admit (→ authorised and quota reserved), prepare (→ lifecycle
    /// prepared), hand (→ southbound entered), and the tail into resume (last barrier reply read → the request's
    /// flow running again), commit (→ coordinator returned) and answer (→ now).
    /// </summary>
    public string ToServerTiming() => ToServerTiming(Now);

    /// <inheritdoc cref="ToServerTiming()"/>
    public string ToServerTiming(long now)
    {
        var sb = new System.Text.StringBuilder(160);
        void Add(string name, long from, long to)
        {
            if (from == 0 || to == 0) return;
            if (sb.Length > 0) sb.Append(", ");
            // A write made inside Submit (on the submitter's thread) is stamped before "submitted": it took no time of its own.
            sb.Append(name).Append(";dur=").Append((Math.Max(0, to - from) * 1000.0 / System.Diagnostics.Stopwatch.Frequency).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture));
        }
        Add("plan", Start, Planned);
        Add("submit", Planned, Submitted);
        Add("write", Submitted, Written);
        Add("barrier", Written, Confirmed);
        if (MaxBarrierTicks > 0) Add("switch", 1, 1 + MaxBarrierTicks);
        long handler = Entered != 0 ? Entered : Start;
        Add("route", Start, Entered);
        Add("arrive", handler, BodyArrived);
        Add("parse", BodyArrived, BodyRead);
        Add("read", handler, BodyRead);
        Add("admit", BodyRead, Admitted);
        Add("prepare", Admitted, Prepared);
        Add("hand", Prepared, Planned);
        Add("resume", Confirmed != 0 ? Confirmed : Written, Resumed);
        Add("commit", Resumed, Returned);
        Add("answer", Returned, now);
        Add("total", Start, now);
        if (Messages > 0) sb.Append(", msgs;dur=").Append(Messages);
        return sb.ToString();
    }
}
