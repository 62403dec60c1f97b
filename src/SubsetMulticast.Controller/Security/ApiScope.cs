using System.Diagnostics.CodeAnalysis;
using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Controller.Security;

public enum ApiPermission
{
    /// <summary>GET every resource: groups, topology, reference groups, metrics, the dashboard.</summary>
    Read,
    /// <summary>Create rendezvous groups (on one VLAN, one reference group, or any), and refresh or release the ones this client created. Implies read.</summary>
    GroupsWrite,
    /// <summary>Everything: any group of any client, persistent sets. Implies the others.</summary>
    Admin,
}

/// <summary>
/// One scope a client holds: <c>read</c>, <c>admin</c>, <c>groups:write</c> (any VLAN), <c>groups:write:VLAN</c>, or
/// <c>groups:write:VLAN:REFERENCE</c> (one reference group on one VLAN; an IPv6 reference keeps its colons).
/// </summary>
public readonly record struct ApiScope(ApiPermission Permission, VlanId? Vlan = null, IpAddress? Reference = null)
{
    public const string ClaimType = "scope";
    private const string WritePrefix = "groups:write";

    public static readonly ApiScope Read = new(ApiPermission.Read);
    public static readonly ApiScope Admin = new(ApiPermission.Admin);

    /// <summary>True when this scope lets its holder create a group on <paramref name="vlan"/> from <paramref name="reference"/>.</summary>
    public bool AllowsWrite(VlanId vlan, IpAddress reference) => Permission switch
    {
        ApiPermission.Admin => true,
        ApiPermission.GroupsWrite => (Vlan is not { } v || v == vlan) && (Reference is not { } r || r == reference),
        _ => false,
    };

    public static bool TryParse(string text, [NotNullWhen(true)] out ApiScope? scope)
    {
        scope = null;
        switch (text)
        {
            case "read": scope = Read; return true;
            case "admin": scope = Admin; return true;
            case WritePrefix: scope = new ApiScope(ApiPermission.GroupsWrite); return true;
        }
        if (!text.StartsWith(WritePrefix + ":", StringComparison.Ordinal)) return false;
        var rest = text[(WritePrefix.Length + 1)..];
        int colon = rest.IndexOf(':', StringComparison.Ordinal);
        var vlanText = colon < 0 ? rest : rest[..colon];
        if (!ushort.TryParse(vlanText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ushort vlan)
            || !VlanId.IsValid(vlan)) return false;
        if (colon < 0) { scope = new ApiScope(ApiPermission.GroupsWrite, new VlanId(vlan)); return true; }
        if (!IpAddress.TryParse(rest[(colon + 1)..], out var reference) || !reference.IsMulticast) return false;
        scope = new ApiScope(ApiPermission.GroupsWrite, new VlanId(vlan), reference);
        return true;
    }

    public override string ToString() => Permission switch
    {
        ApiPermission.Read => "read",
        ApiPermission.Admin => "admin",
        _ => WritePrefix + (Vlan is { } v ? ":" + v.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : "") + (Reference is { } r ? ":" + r : ""),
    };
}
