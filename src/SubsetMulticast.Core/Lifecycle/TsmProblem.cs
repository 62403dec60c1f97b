namespace SubsetMulticast.Core.Lifecycle;

/// <summary>What went wrong with a request, stable enough for clients to branch on.</summary>
public enum ProblemKind
{
    InvalidRequest,
    VlanNotAllowed,
    UnknownReferenceGroup,
    EmptyMemberList,
    TooManyMembers,
    NoMemberInReferenceGroup,
    AddressFamilyMismatch,
    AddressOutsideBlock,
    BlockExhausted,
    GroupNotFound,
    GroupBusy,
    SouthboundFailed,
    /// <summary>The durable group store (etcd) could not record the change in time; nothing changed.</summary>
    StoreUnavailable,
}

/// <summary>A refused request: nothing was installed and no state changed.</summary>
public sealed record TsmProblem(ProblemKind Kind, string Detail)
{
    public string Title => Kind switch
    {
        ProblemKind.InvalidRequest => "The request is malformed",
        ProblemKind.VlanNotAllowed => "VLAN not allowed for transactional groups",
        ProblemKind.UnknownReferenceGroup => "Unknown reference group",
        ProblemKind.EmptyMemberList => "Empty member list",
        ProblemKind.TooManyMembers => "Too many members",
        ProblemKind.NoMemberInReferenceGroup => "No member is in the reference group",
        ProblemKind.AddressFamilyMismatch => "Address family mismatch",
        ProblemKind.AddressOutsideBlock => "Group address outside the VLAN's block",
        ProblemKind.BlockExhausted => "Address block exhausted",
        ProblemKind.GroupNotFound => "No such group",
        ProblemKind.GroupBusy => "Group has a transaction in progress",
        ProblemKind.SouthboundFailed => "Switches refused the change; it was rolled back",
        ProblemKind.StoreUnavailable => "The group store is unavailable; nothing changed",
        _ => Kind.ToString(),
    };

    /// <summary>A stable slug for problem+json "type" URIs.</summary>
    public string Slug => string.Concat(Kind.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}

/// <summary>A value or a problem.</summary>
public readonly struct Outcome<T>
{
    private Outcome(T? value, TsmProblem? problem) { Value = value; Problem = problem; }
    public T? Value { get; }
    public TsmProblem? Problem { get; }
    public bool Succeeded => Problem is null;
    public static implicit operator Outcome<T>(T value) => new(value, null);
    public static implicit operator Outcome<T>(TsmProblem problem) => new(default, problem);
}
