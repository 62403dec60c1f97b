namespace SubsetMulticast.Snooping;

/// <summary>Router-side filter mode of one (group, port) (RFC 3376 §6.2.1, RFC 3810 §7.2).</summary>
public enum FilterMode { Include, Exclude }

/// <summary>Group record types (RFC 3376 §4.2.12, RFC 3810 §5.2.12). IGMPv1/v2 and MLDv1 map onto them.</summary>
public enum RecordType : byte
{
    ModeIsInclude = 1,
    ModeIsExclude = 2,
    ChangeToInclude = 3,
    ChangeToExclude = 4,
    AllowNewSources = 5,
    BlockOldSources = 6,
}

/// <summary>
/// The version of the message a record came from, for RFC 3376 §7.3.2 / RFC 3810 §8.3.2 compatibility:
/// MLDv1 counts as <see cref="V2"/> and MLDv2 as <see cref="V3"/> (MLD has no version-1 mode).
/// </summary>
internal enum ReportVersion : byte { V1 = 1, V2 = 2, V3 = 3 }
