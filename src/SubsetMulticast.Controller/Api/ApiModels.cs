using System.Text.Json;
using System.Text.Json.Serialization;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.Planning;
using SubsetMulticast.Core.ReferenceGroups;

namespace SubsetMulticast.Controller.Api;

/// <summary>POST /api/v1/groups. Every field is nullable so that a missing one gets its own clear error.</summary>
/// <remarks><see cref="Delivery"/>: "tsm" (default: transactional-group state on the switches) or "bier" (BitStrings, no state).
/// <see cref="Setup"/>: "confirmed" (default), "optimistic" or "persistent".</remarks>
public sealed record CreateGroupBody(int? Vlan, string? Reference, string?[]? Members, long? TtlMs = null, string? Group = null, string? Delivery = null, string? Setup = null);

/// <summary>POST /api/v1/persistent-sets: every k-of-n subset of a negotiating group, installed ahead.</summary>
public sealed record CreatePersistentSetBody(int? Vlan, string? Reference, string?[]? Members, int? K);

public sealed record PersistentSetView(string Id, int Vlan, string Reference, string[] Members, int K, string First, long Count)
{
    public static PersistentSetView From(Groups.PersistentSetInfo s) =>
        new(s.Id, s.Vlan.Value, s.Reference.ToString(), [.. s.Members.Select(m => m.ToString())], s.K, s.First.ToString(), s.Count);
}

/// <summary>
/// DELETE /api/v1/groups/{id}: when every switch confirmed the release, and by when delivery has certainly
/// stopped (the hold-down's end: switch fast paths lag their barrier); the address is reusable from then.
/// </summary>
public sealed record ReleaseView(string Id, string Group, DateTimeOffset ConfirmedAt, DateTimeOffset DeliveryStoppedBy);

public sealed record IgnoredView(string Member, string Reason);

public sealed record SwitchPortsView(string Id, uint[] Ports);

/// <summary>A rendezvous group. <see cref="SetupMicros"/> is present on create and refresh responses only.</summary>
public sealed record GroupView(
    string Id,
    int Vlan,
    string Reference,
    string Group,
    string Mac,
    string[] Members,
    string[] Effective,
    IgnoredView[] Ignored,
    SwitchPortsView[] Switches,
    long TtlMs,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    long Version,
    long? SetupMicros,
    string? Setup = null,
    bool? Persistent = null)
{
    public static string SetupName(SetupMode mode) => mode switch
    {
        SetupMode.Optimistic => "optimistic",
        SetupMode.Persistent => "persistent",
        _ => "confirmed",
    };

    public static GroupView From(RendezvousGroup g, long? setupMicros = null, SetupMode? setup = null) => new(
        g.Id, g.Vlan.Value, g.Reference.ToString(), g.Address.ToString(), g.Mac.ToString(),
        [.. g.Members.Select(m => m.ToString())],
        [.. g.Effective.Select(m => m.ToString())],
        [.. g.Ignored.Select(i => new IgnoredView(i.Member.ToString(), ReasonName(i.Reason)))],
        [.. g.Switches.Select(s => new SwitchPortsView(s.SwitchId, [.. s.Ports]))],
        (long)g.Ttl.TotalMilliseconds, g.Created, g.Expires, g.Version, setupMicros,
        setup is { } m ? SetupName(m) : null, g.Pinned ? true : null);

    public static string ReasonName(IgnoreReason reason) => reason switch
    {
        IgnoreReason.NotInReferenceGroup => "notInReferenceGroup",
        IgnoreReason.UnknownHost => "unknownHost",
        _ => reason.ToString(),
    };
}

public sealed record ReferenceSwitchView(string Id, uint[] MemberPorts, uint[] RouterPorts);

public sealed record ReferenceGroupView(int Vlan, string Group, ReferenceSwitchView[] Switches)
{
    public static ReferenceGroupView From(ReferenceGroup g, FabricTopology topology)
    {
        var switches = new ReferenceSwitchView[g.SwitchCount];
        for (int i = 0; i < switches.Length; i++)
            switches[i] = new ReferenceSwitchView(topology.Switches[g.SwitchAt(i)].Id, g.MemberPortsAt(i).ToArray(), g.RouterPortsAt(i).ToArray());
        return new ReferenceGroupView(g.Vlan.Value, g.Group.ToString(), switches);
    }
}

public sealed record TopologySwitchView(string Id, string BridgeId, uint[] Ports, bool Root, uint? RootPort);

public sealed record LinkEndView(string Switch, uint Port);

/// <summary>An inter-switch link; <see cref="Blocked"/> when the spanning tree does not forward on it.</summary>
public sealed record LinkView(LinkEndView A, LinkEndView B, bool Blocked);

public sealed record HostView(string Ip, string Mac, int Vlan, string Switch, uint Port);

public sealed record TopologyView(TopologySwitchView[] Switches, LinkView[] Links, HostView[] Hosts)
{
    public static TopologyView From(FabricTopology topology, HostTable hosts)
    {
        var tree = topology.Tree;
        var switches = topology.Switches.Select(s => new TopologySwitchView(
            s.Id, s.BridgeId.ToString("x16", System.Globalization.CultureInfo.InvariantCulture), [.. s.Ports],
            tree.IsRoot(s.Index), tree.IsRoot(s.Index) ? null : tree.RootPort(s.Index))).ToArray();
        var links = topology.Links.Select(l => new LinkView(
            new LinkEndView(topology.Switches[l.A.Switch].Id, l.A.Port),
            new LinkEndView(topology.Switches[l.B.Switch].Id, l.B.Port),
            !(tree.IsTreePort(l.A.Switch, l.A.Port) && tree.IsTreePort(l.B.Switch, l.B.Port)))).ToArray();
        var hostViews = hosts.All()
            .OrderBy(h => h.Vlan.Value).ThenBy(h => h.Ip)
            .Select(h => new HostView(h.Ip.ToString(), h.Mac.ToString(), h.Vlan.Value, topology.Switches[h.Port.Switch].Id, h.Port.Port))
            .ToArray();
        return new TopologyView(switches, links, hostViews);
    }
}

/// <summary>RFC 9457 problem details; <see cref="Type"/> is <c>urn:tsm:problem:&lt;slug&gt;</c>.</summary>
public sealed record ProblemBody(string Type, string Title, int Status, string Detail, string? Instance = null);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CreateGroupBody))]
[JsonSerializable(typeof(GroupView))]
[JsonSerializable(typeof(GroupView[]))]
[JsonSerializable(typeof(ReferenceGroupView[]))]
[JsonSerializable(typeof(TopologyView))]
[JsonSerializable(typeof(ProblemBody))]
[JsonSerializable(typeof(BierDeliveryView))]
[JsonSerializable(typeof(CreatePersistentSetBody))]
[JsonSerializable(typeof(PersistentSetView))]
[JsonSerializable(typeof(PersistentSetView[]))]
[JsonSerializable(typeof(ReleaseView))]
public sealed partial class ApiJsonContext : JsonSerializerContext;
