using System.Diagnostics.CodeAnalysis;

namespace SubsetMulticast.Packets;

/// <summary>Why a packet was rejected. Snooping counts drops per value, so values are stable.</summary>
public enum PacketError
{
    /// <summary>A structure inside a complete message runs past its end.</summary>
    Truncated = 1,
    /// <summary>A length field disagrees with the bytes present or with the protocol's rules.</summary>
    BadLength,
    /// <summary>IPv4 IHL below 5, or a header length field that cannot be right.</summary>
    BadHeaderLength,
    BadVersion,
    BadChecksum,
    /// <summary>Wrong IPv4 TTL or IPv6 hop limit for the protocol (1 for IGMP/MLD, 255 for ND).</summary>
    BadTtl,
    MissingRouterAlert,
    /// <summary>An IPv4 option, IPv6 Hop-by-Hop option or ND option that is malformed.</summary>
    BadOption,
    BadExtensionHeader,
    TooManyExtensionHeaders,
    BadType,
    BadCode,
    /// <summary>A record count that cannot fit in the message.</summary>
    BadRecordCount,
    /// <summary>A source count (or aux data length) that cannot fit in the record or message.</summary>
    BadSourceCount,
    /// <summary>An address that is not allowed in this field (e.g. a unicast group).</summary>
    BadAddress,
    /// <summary>A source address that is not allowed (e.g. MLD from a non-link-local source).</summary>
    BadSourceAddress,
    /// <summary>802.1Q VID 4095.</summary>
    BadVlan,
    /// <summary>A format we do not handle (ARP hardware/protocol types other than Ethernet/IPv4, IPv6 jumbograms).</summary>
    UnsupportedFormat,
}

/// <summary>
/// The one exception our readers throw for malformed input. <see cref="Offset"/> is relative to the span
/// handed to the reader that threw. Readers never throw anything else for bad input; short input
/// ("need more bytes") makes <c>TryRead</c> return false instead.
/// </summary>
public sealed class MalformedPacketException : Exception
{
    public MalformedPacketException(PacketError reason, int offset)
        : base($"Malformed packet: {reason} at offset {offset}.")
    {
        Reason = reason;
        Offset = offset;
    }

    public MalformedPacketException(PacketError reason, int offset, string message)
        : base(message)
    {
        Reason = reason;
        Offset = offset;
    }

    public PacketError Reason { get; }
    public int Offset { get; }
}

internal static class Malformed
{
    [DoesNotReturn]
    public static void Throw(PacketError reason, int offset) => throw new MalformedPacketException(reason, offset);
}

/// <summary>What a non-throwing read (<c>Read…</c>) found. The hot path (snooping) uses these; <c>TryRead…</c> wraps them for callers that prefer the exception.</summary>
public enum ReadStatus : byte
{
    Ok,
    /// <summary>The input ends before the structure does (the only outcome <c>TryRead…</c> reports as false).</summary>
    NeedMoreBytes,
    /// <summary>The input is malformed; the <see cref="PacketFault"/> says why and where.</summary>
    Malformed,
}

/// <summary>Why and where a read found its input malformed; <see cref="Offset"/> is relative to the span handed to the reader.</summary>
public readonly record struct PacketFault(PacketError Reason, int Offset)
{
    public MalformedPacketException ToException() => new(Reason, Offset);

    /// <summary>Sets <paramref name="fault"/> and returns <see cref="ReadStatus.Malformed"/>: one line per check in the readers.</summary>
    internal static ReadStatus Fail(out PacketFault fault, PacketError reason, int offset)
    {
        fault = new PacketFault(reason, offset);
        return ReadStatus.Malformed;
    }

    /// <summary>The same fault seen from an enclosing header <paramref name="by"/> bytes earlier.</summary>
    internal PacketFault Shift(int by) => this with { Offset = Offset + by };
}

public static class ReadStatusExtensions
{
    /// <summary>The <c>TryRead…</c> contract at the API edge: true when read, false when more bytes are needed, <see cref="MalformedPacketException"/> otherwise.</summary>
    public static bool Succeeded(this ReadStatus status, in PacketFault fault) => status switch
    {
        ReadStatus.Ok => true,
        ReadStatus.NeedMoreBytes => false,
        _ => throw fault.ToException(),
    };
}
