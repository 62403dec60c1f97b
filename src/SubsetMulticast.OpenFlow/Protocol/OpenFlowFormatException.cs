namespace SubsetMulticast.OpenFlow.Protocol;

/// <summary>
/// The one exception the codec throws for malformed input. <see cref="Offset"/> is the byte offset,
/// from the start of the message (or buffer) being decoded, where the fault was found.
/// </summary>
public sealed class OpenFlowFormatException : Exception
{
    public OpenFlowFormatException(string message, int offset)
        : base($"{message} (at offset {offset})") { Offset = offset; Reason = message; }

    public int Offset { get; }

    /// <summary>The message without the offset suffix.</summary>
    public string Reason { get; }
}
