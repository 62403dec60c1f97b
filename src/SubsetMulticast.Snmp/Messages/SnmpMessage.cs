namespace SubsetMulticast.Snmp.Messages;

public enum SnmpVersion { V1 = 0, V2c = 1, V3 = 3 }

/// <summary>msgFlags (RFC 3412 §6.4).</summary>
[Flags]
public enum V3Flags : byte { None = 0, Auth = 1, Priv = 2, Reportable = 4 }

/// <summary>UsmSecurityParameters (RFC 3414 §2.4). Byte fields are copies; the message owns them.</summary>
public sealed record UsmParameters(byte[] EngineId, int EngineBoots, int EngineTime, string UserName, byte[] AuthParameters, byte[] PrivParameters)
{
    public static readonly UsmParameters Empty = new([], 0, 0, "", [], []);
}

/// <summary>
/// An SNMP message. v1/v2c: <see cref="Community"/> and <see cref="Pdu"/>. v3: the header fields, the USM
/// parameters, and either the plaintext scoped PDU (<see cref="ContextEngineId"/>, <see cref="ContextName"/>,
/// <see cref="Pdu"/>) or, while still encrypted, <see cref="EncryptedPdu"/> with <see cref="Pdu"/> null.
/// </summary>
public sealed record SnmpMessage
{
    public required SnmpVersion Version { get; init; }
    public byte[] Community { get; init; } = [];
    public SnmpPdu? Pdu { get; init; }

    public int MessageId { get; init; }
    public int MaxSize { get; init; } = 65507;
    public V3Flags Flags { get; init; }
    public int SecurityModel { get; init; } = 3;
    public UsmParameters Usm { get; init; } = UsmParameters.Empty;
    public byte[] ContextEngineId { get; init; } = [];
    public byte[] ContextName { get; init; } = [];
    public byte[]? EncryptedPdu { get; init; }

    /// <summary>Where msgAuthenticationParameters' content starts in the decoded datagram (v3), for digest checks.</summary>
    public int AuthParametersOffset { get; init; } = -1;
}
