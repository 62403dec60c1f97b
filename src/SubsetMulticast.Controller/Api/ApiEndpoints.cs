using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SubsetMulticast.Controller.Groups;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.ReferenceGroups;

namespace SubsetMulticast.Controller.Api;

/// <summary>The REST API, /api/v1. Handlers validate at the edge, then hand the request to the coordinator.</summary>
internal static class ApiEndpoints
{
    public const string Prefix = "/api/v1";

    /// <param name="southboundToken">Cancels switch I/O only when the host stops: a client that hangs up must not leave a half-applied transaction.</param>
    public static void Map(IEndpointRouteBuilder app, GroupCoordinator groups, ReferenceGroupTable references, HostTable hosts, TimeProvider time, CancellationToken southboundToken)
    {
        var api = app.MapGroup(Prefix).WithTags("groups");
        // Every response a handler can write is declared (Produces / ProducesProblem), so the OpenAPI document at
        // /openapi/v1.json describes the whole API; the handlers still write bodies with the source-generated context.
        api.MapPost("/groups", (Func<HttpContext, Task<IResult>>)(http => CreateAsync(http, groups, time, southboundToken)))
            .WithName("createGroup").WithSummary("Create a rendezvous group (or supersede the one at 'group')")
            .WithDescription("Programs every switch toward the members that are in the reference group (the others are returned as ignored), in one transaction: all switches or none.")
            .Accepts<CreateGroupBody>("application/json")
            .Produces<GroupView>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType).ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status502BadGateway);
        api.MapGet("/groups", () => Results.Json(groups.All().Select(g => GroupView.From(g)).ToArray(), ApiJsonContext.Default.GroupViewArray))
            .WithName("listGroups").WithSummary("List the live rendezvous groups")
            .Produces<GroupView[]>(StatusCodes.Status200OK);
        api.MapGet("/groups/{id}", (HttpContext http, string id) => groups.TryGet(id, out var g)
            ? Results.Json(GroupView.From(g), ApiJsonContext.Default.GroupView)
            : ApiProblems.From(NotFound(id), http))
            .WithName("getGroup").WithSummary("Get one rendezvous group")
            .Produces<GroupView>(StatusCodes.Status200OK).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/groups/{id}/refresh", async (HttpContext http, string id) =>
        {
            long start = time.GetTimestamp();
            var done = await groups.RefreshAsync(id, southboundToken, start);
            return done.Succeeded
                ? Results.Json(GroupView.From(done.Value!.Group, done.Value.SetupMicros), ApiJsonContext.Default.GroupView)
                : ApiProblems.From(done.Problem!, http);
        })
            .WithName("refreshGroup").WithSummary("Re-resolve the members and renew the lease")
            .Produces<GroupView>(StatusCodes.Status200OK).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status502BadGateway);
        api.MapDelete("/groups/{id}", async (HttpContext http, string id) =>
        {
            var done = await groups.ReleaseAsync(id, southboundToken);
            return done.Succeeded ? Results.NoContent() : ApiProblems.From(done.Problem!, http);
        })
            .WithName("releaseGroup").WithSummary("Remove the group from every switch and free its address")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status502BadGateway);
        api.MapGet("/reference-groups", () => Results.Json(
            references.All().Select(r => ReferenceGroupView.From(r, references.Topology)).ToArray(), ApiJsonContext.Default.ReferenceGroupViewArray))
            .WithName("listReferenceGroups").WithSummary("The snooped reference groups: member and router ports per switch")
            .WithTags("fabric").Produces<ReferenceGroupView[]>(StatusCodes.Status200OK);
        api.MapGet("/topology", () => Results.Json(TopologyView.From(references.Topology, hosts), ApiJsonContext.Default.TopologyView))
            .WithName("getTopology").WithSummary("The fabric: switches, links, spanning tree and located hosts")
            .WithTags("fabric").Produces<TopologyView>(StatusCodes.Status200OK);
    }

    private static TsmProblem NotFound(string id) => new(ProblemKind.GroupNotFound, $"No rendezvous group '{id}'.");

    private static async Task<IResult> CreateAsync(HttpContext http, GroupCoordinator groups, TimeProvider time, CancellationToken southboundToken)
    {
        long start = time.GetTimestamp();
        if (!http.Request.HasJsonContentType()) return ApiProblems.UnsupportedMediaType(http);
        CreateGroupBody? body;
        try
        {
            body = await http.Request.ReadFromJsonAsync(ApiJsonContext.Default.CreateGroupBody, http.RequestAborted);
        }
        catch (JsonException e)
        {
            return ApiProblems.MalformedJson(e.Message, http);
        }
        if (body is null) return ApiProblems.MalformedJson("The body is null; expected a JSON object.", http);
        if (!TryParse(body, http, out var request, out var error)) return error;
        switch (body.Delivery)
        {
            case null or "tsm": break;
            case "bier": return BierDeliveryApi.Answer(request, http, time, start);
            default: return ApiProblems.Invalid($"delivery '{body.Delivery}' is neither \"tsm\" nor \"bier\".", http);
        }

        var done = await groups.CreateAsync(request, southboundToken, start);
        if (!done.Succeeded) return ApiProblems.From(done.Problem!, http);
        var group = done.Value!.Group;
        http.Response.Headers.Location = $"{Prefix}/groups/{Uri.EscapeDataString(group.Id)}";
        return Results.Json(GroupView.From(group, done.Value.SetupMicros), ApiJsonContext.Default.GroupView, statusCode: StatusCodes.Status201Created);
    }

    /// <summary>Syntax only: a field present, a number in range, an address that parses. Meaning (VLAN allowed, reference known, block) is the lifecycle's.</summary>
    private static bool TryParse(CreateGroupBody body, HttpContext http, out CreateGroupRequest request, out IResult error)
    {
        request = null!;
        error = null!;
        if (body.Vlan is not { } vlan) { error = ApiProblems.MissingField("vlan", http); return false; }
        if (!VlanId.IsValid(vlan)) { error = ApiProblems.Invalid($"vlan {vlan} is outside 0..{VlanId.MaxValue}.", http); return false; }
        if (body.Reference is null) { error = ApiProblems.MissingField("reference", http); return false; }
        if (!IpAddress.TryParse(body.Reference, out var reference))
        { error = ApiProblems.MalformedAddress("reference", body.Reference, "an IPv4 or IPv6 address", http); return false; }
        if (!reference.IsMulticast)
        { error = ApiProblems.MalformedAddress("reference", body.Reference, "a multicast group address", http); return false; }
        if (body.Members is null) { error = ApiProblems.MissingField("members", http); return false; }
        var members = new IpAddress[body.Members.Length];
        for (int i = 0; i < members.Length; i++)
        {
            if (!IpAddress.TryParse(body.Members[i], out members[i]))
            { error = ApiProblems.MalformedAddress($"members[{i}]", body.Members[i], "an IPv4 or IPv6 address", http); return false; }
        }
        IpAddress? group = null;
        if (body.Group is not null)
        {
            if (!IpAddress.TryParse(body.Group, out var g))
            { error = ApiProblems.MalformedAddress("group", body.Group, "an IPv4 or IPv6 address", http); return false; }
            if (!g.IsMulticast)
            { error = ApiProblems.MalformedAddress("group", body.Group, "a multicast group address", http); return false; }
            group = g;
        }
        // Out-of-range lease lengths are the lifecycle's to refuse (it knows the maximum); clamp only so that TimeSpan cannot overflow.
        TimeSpan? ttl = body.TtlMs is { } ms ? TimeSpan.FromMilliseconds(Math.Clamp(ms, -1, 1_000_000_000_000)) : null;
        request = new CreateGroupRequest(new VlanId((ushort)vlan), reference, members, ttl, group);
        return true;
    }
}
