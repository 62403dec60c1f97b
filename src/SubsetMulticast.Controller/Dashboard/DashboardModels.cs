using System.Text.Json;
using System.Text.Json.Serialization;
using SubsetMulticast.Controller.Api;

namespace SubsetMulticast.Controller.Dashboard;

public sealed record AuditView(bool Available, SwitchAuditView[] Switches);

/// <summary>The first message of every dashboard stream (and again after the stream fell behind): everything to draw.</summary>
public sealed record DashboardSnapshot(TopologyView Topology, ReferenceGroupView[] References, GroupView[] Groups, FiguresView Figures, AuditView Audit, DateTimeOffset At);

/// <summary>Sent when the topology, the hosts or a reference group changed.</summary>
public sealed record FabricUpdate(TopologyView Topology, ReferenceGroupView[] References, AuditView Audit);

/// <summary>One committed group change; <see cref="Kind"/> is created, refreshed, released or expired.</summary>
public sealed record GroupChangeView(string Kind, GroupView Group, string? Superseded, FiguresView Figures);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DashboardSnapshot))]
[JsonSerializable(typeof(FabricUpdate))]
[JsonSerializable(typeof(GroupChangeView))]
[JsonSerializable(typeof(FiguresView))]
[JsonSerializable(typeof(AuditView))]
internal sealed partial class DashboardJsonContext : JsonSerializerContext;
