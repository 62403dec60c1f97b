namespace SubsetMulticast.Snmp.Ber;

/// <summary>Why a BER element could not be read. <see cref="Ok"/> is the only success.</summary>
public enum BerStatus
{
    Ok,
    /// <summary>The element runs past the end of its enclosing element or the datagram.</summary>
    Truncated,
    /// <summary>A tag other than the one the grammar allows here.</summary>
    UnexpectedTag,
    /// <summary>A length that is indefinite (X.690 §8.1.3.6; RFC 3417 §8 forbids it), too long, or not minimal where it must be.</summary>
    BadLength,
    /// <summary>An INTEGER with no content octets or more than fits its type.</summary>
    IntegerOverflow,
    /// <summary>An OBJECT IDENTIFIER with an empty body, an unterminated arc, an arc over 32 bits or over 128 arcs (RFC 2578 §3.5).</summary>
    BadObjectIdentifier,
    /// <summary>Bytes left over inside a sequence or after the message.</summary>
    TrailingBytes,
    /// <summary>A value outside what SNMP allows (version, error-status, security model, flags).</summary>
    BadValue,
}

/// <summary>
/// The one exception the SNMP codec throws for malformed input, with the offset of the element that broke
/// the grammar. Only the edge (the codec's <c>Decode</c> convenience method) throws it; inner code returns
/// <see cref="BerStatus"/>.
/// </summary>
public sealed class SnmpDecodeException(BerStatus status, int offset, string what)
    : Exception($"Malformed SNMP message: {what} at offset {offset} ({status}).")
{
    public BerStatus Status { get; } = status;
    public int Offset { get; } = offset;
}
