namespace SubsetMulticast.OpenFlow.Connections;

/// <summary>Controller-side connection settings. Defaults suit Open vSwitch on a LAN.</summary>
public sealed class OpenFlowOptions
{
    public const int DefaultPort = 6653;

    /// <summary>Messages whose header length exceeds this are rejected before they are buffered.</summary>
    public int MaxMessageLength { get; set; } = Protocol.Ofp.MaxMessageLength;

    /// <summary>Upper bound on the bytes of one multipart reply sequence (REPLY_MORE chain).</summary>
    public int MaxMultipartBytes { get; set; } = 16 * 1024 * 1024;

    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan EchoInterval { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan EchoTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Batches (writes each closed by a barrier) a session keeps unanswered at once. While that many wait, new
    /// submissions gather in the queue and leave together when a barrier reply frees a slot (group commit): an idle
    /// switch is written at once, a busy one gets fewer, larger writes — one send and one barrier per round trip
    /// instead of one per transaction. 0 or less: no limit (every pump pass writes at once).
    /// </summary>
    public int MaxBatchesInFlight { get; set; } = 1;

    /// <summary>
    /// When the channel is idle (no pass writing, a batch slot free), <see cref="OpenFlowSession.Submit"/> encodes and
    /// flushes on the submitting thread instead of queueing the write pass to the thread pool: a setup's messages
    /// leave without a thread hop (issue 14; the hop cost ~0.1 ms p50 on a loaded 2-core machine). Only the first
    /// pass runs there; whatever queued meanwhile is written by a pool pass, so a submitter never writes for others
    /// for long. False: every pass runs on the pool (the submitter's other work in the same turn rides along).
    /// </summary>
    public bool WriteOnSubmitter { get; set; } = true;

    /// <summary>OpenFlow over TLS (switch certificates checked against a CA); null: plain TCP, with a warning when it listens beyond loopback.</summary>
    public OpenFlowTlsOptions? Tls { get; set; }
}

/// <summary>A session failed: closed, timed out, or refused by the switch.</summary>
public class OpenFlowSessionException(string message) : Exception(message);

/// <summary>The switch answered a request with an OpenFlow ERROR.</summary>
public sealed class OpenFlowErrorException(Protocol.ErrorMessage error)
    : OpenFlowSessionException($"switch replied {error.Name}")
{
    public Protocol.ErrorMessage Error { get; } = error;
}
