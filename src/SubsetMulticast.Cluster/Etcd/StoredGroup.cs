using System.Text.Json;
using System.Text.Json.Serialization;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.Planning;

namespace SubsetMulticast.Cluster.Etcd;

/// <summary>
/// A group record as stored in etcd (<c>{prefix}/groups/{id}</c>): JSON, addresses as text, times as ISO 8601.
/// Read with <see cref="TryParse"/>, which takes hostile bytes (a value written by anyone with access to the
/// cluster) and returns false rather than throwing.
/// </summary>
internal sealed record StoredGroup(
    string Id, ushort Vlan, string Reference, string Address, string[] Members, string[] Effective,
    StoredIgnored[] Ignored, StoredSwitch[] Switches, long TtlMs, DateTimeOffset Created, DateTimeOffset Expires, long Version, bool Pinned,
    string? Owner = null)
{
    public static StoredGroup From(RendezvousGroup g) => new(
        g.Id, g.Vlan.Value, g.Reference.ToString(), g.Address.ToString(), [.. g.Members.Select(m => m.ToString())],
        [.. g.Effective.Select(m => m.ToString())], [.. g.Ignored.Select(i => new StoredIgnored(i.Member.ToString(), i.Reason.ToString()))],
        [.. g.Switches.Select(s => new StoredSwitch(s.SwitchId, [.. s.Ports]))], (long)g.Ttl.TotalMilliseconds, g.Created,
        g.Expires, g.Version, g.Pinned, g.Owner);

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, StoredGroupJson.Default.StoredGroup);

    public static bool TryParse(ReadOnlySpan<byte> json, out RendezvousGroup group)
    {
        group = null!;
        StoredGroup? s;
        try { s = JsonSerializer.Deserialize(json, StoredGroupJson.Default.StoredGroup); }
        catch (JsonException) { return false; }
        if (s is null || string.IsNullOrEmpty(s.Id) || s.Vlan > 4094 || s.TtlMs < 0 || s.Members is null || s.Effective is null
            || s.Ignored is null || s.Switches is null) return false;
        if (!IpAddress.TryParse(s.Reference, out var reference) || !IpAddress.TryParse(s.Address, out var address)) return false;
        var members = new List<IpAddress>(s.Members.Length);
        foreach (var m in s.Members) { if (!IpAddress.TryParse(m, out var a)) return false; members.Add(a); }
        var effective = new List<IpAddress>(s.Effective.Length);
        foreach (var m in s.Effective) { if (!IpAddress.TryParse(m, out var a)) return false; effective.Add(a); }
        var ignored = new List<IgnoredMember>(s.Ignored.Length);
        foreach (var i in s.Ignored)
        {
            if (i is null || !IpAddress.TryParse(i.Member, out var a) || !Enum.TryParse<IgnoreReason>(i.Reason, out var why)) return false;
            ignored.Add(new IgnoredMember(a, why));
        }
        var switches = new List<SwitchPorts>(s.Switches.Length);
        foreach (var sw in s.Switches)
        {
            if (sw is null || string.IsNullOrEmpty(sw.Id) || sw.Ports is null) return false;
            switches.Add(new SwitchPorts(sw.Id, sw.Ports));
        }
        group = new RendezvousGroup(s.Id, new VlanId(s.Vlan), reference, address, members, effective, ignored, switches,
            TimeSpan.FromMilliseconds(s.TtlMs), s.Created, s.Expires, s.Version) { Pinned = s.Pinned, Owner = s.Owner };
        return true;
    }
}

internal sealed record StoredIgnored(string Member, string Reason);

internal sealed record StoredSwitch(string Id, uint[] Ports);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(StoredGroup))]
internal sealed partial class StoredGroupJson : JsonSerializerContext;
