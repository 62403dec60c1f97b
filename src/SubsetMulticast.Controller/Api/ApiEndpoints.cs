using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using SubsetMulticast.Controller.Security;
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
        var api = app.MapGroup(Prefix).WithTags("groups")
            // Every operation may meet the security layer (Security/): no or a bad credential, a scope that does not allow it, too many requests.
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status429TooManyRequests);
        // Every response a handler can write is declared (Produces / ProducesProblem), so the OpenAPI document at
        // /openapi/v1.json describes the whole API; the handlers still write bodies with the source-generated context.
        // Singletons taken once here, not from the request's services: the first RequestServices access creates the request's scope (issue 14: the create's admit hop).
        var ownership = app.ServiceProvider.GetRequiredService<GroupOwnership>();
        var security = app.ServiceProvider.GetRequiredService<ApiSecurityPolicy>();
        api.MapPost("/groups", (Func<HttpContext, Task<IResult>>)(http => CreateAsync(http, groups, ownership, security, time, southboundToken)))
            .WithName("createGroup").WithSummary("Create a rendezvous group (or supersede the one at 'group')")
            .WithDescription("Programs every switch toward the members that are in the reference group (the others are returned as ignored), in one transaction: all switches or none.")
.RequireAuthorization(ApiPolicies.GroupsWrite)
            .Accepts<CreateGroupBody>("application/json")
            .Produces<GroupView>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType).ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status502BadGateway);
        api.MapGet("/groups", (HttpContext http) => ListGroups(http, groups))
            .RequireAuthorization(ApiPolicies.Read)
            .WithName("listGroups").WithSummary("List the live rendezvous groups, a page at a time (?limit=&after=; Link rel=\"next\")")
            .Produces<GroupView[]>(StatusCodes.Status200OK).ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/groups/{id}", (HttpContext http, string id) => groups.TryGet(id, out var g)
            ? Results.Json(GroupView.From(g), ApiJsonContext.Default.GroupView)
            : ApiProblems.From(NotFound(id), http))
            .RequireAuthorization(ApiPolicies.Read)
            .WithName("getGroup").WithSummary("Get one rendezvous group")
            .Produces<GroupView>(StatusCodes.Status200OK).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/groups/{id}/refresh", async (HttpContext http, string id) =>
        {
            long start = time.GetTimestamp();
            if (await CheckOwnerAsync(http, groups, id) is { } refused) return refused;
            var done = await groups.RefreshAsync(id, southboundToken, start);
            return done.Succeeded
                ? Results.Json(GroupView.From(done.Value!.Group, done.Value.SetupMicros), ApiJsonContext.Default.GroupView)
                : ApiProblems.From(done.Problem!, http);
        })
            .RequireAuthorization(ApiPolicies.GroupsWrite)
            .WithName("refreshGroup").WithSummary("Re-resolve the members and renew the lease")
            .Produces<GroupView>(StatusCodes.Status200OK).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status502BadGateway);
        api.MapDelete("/groups/{id}", async (HttpContext http, string id) =>
        {
            if (await CheckOwnerAsync(http, groups, id) is { } refused) return refused;
            var done = await groups.ReleaseWithReportAsync(id, southboundToken);
            if (!done.Succeeded) return ApiProblems.From(done.Problem!, http);
            var r = done.Value!;
            // 204 as before; the headers say when delivery stopped. ?wait=stopped answers only once it has.
            var headers = http.Response.Headers;
            headers["Tsm-Confirmed-At"] = r.ConfirmedAt.ToString("o", System.Globalization.CultureInfo.InvariantCulture);
            headers["Tsm-Delivery-Stopped-By"] = r.StoppedBy.ToString("o", System.Globalization.CultureInfo.InvariantCulture);
            if (http.Request.Query["wait"] == "stopped")
            {
                var left = r.StoppedBy - time.GetUtcNow();
                if (left > TimeSpan.Zero) await Task.Delay(left, time, southboundToken);
                return Results.Json(new ReleaseView(r.Group.Id, r.Group.Address.ToString(), r.ConfirmedAt, r.StoppedBy), ApiJsonContext.Default.ReleaseView);
            }
            return Results.NoContent();
        })
            .RequireAuthorization(ApiPolicies.GroupsWrite)
            .WithName("releaseGroup").WithSummary("Remove the group from every switch and free its address (?wait=stopped: answer once delivery has certainly stopped)")
            .Produces(StatusCodes.Status204NoContent).Produces<ReleaseView>(StatusCodes.Status200OK).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status502BadGateway);
        api.MapPost("/persistent-sets", (Func<HttpContext, Task<IResult>>)(http => CreatePersistentSetAsync(http, groups, southboundToken)))
            .RequireAuthorization(ApiPolicies.Admin) // installs C(n,k) groups at once: an operator's decision
            .WithName("createPersistentSet").WithSummary("Install every k-of-n subset of a negotiating group ahead (draft §7.2)")
            .Accepts<CreatePersistentSetBody>("application/json")
            .Produces<PersistentSetView>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType).ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status502BadGateway);
        api.MapGet("/persistent-sets", () => Results.Json(groups.Persistent.All().Select(PersistentSetView.From).ToArray(), ApiJsonContext.Default.PersistentSetViewArray))
            .RequireAuthorization(ApiPolicies.Read)
            .WithName("listPersistentSets").WithSummary("List the installed persistent sets")
            .Produces<PersistentSetView[]>(StatusCodes.Status200OK);
        api.MapDelete("/persistent-sets/{id}", async (HttpContext http, string id) =>
        {
            var done = await groups.Persistent.DeleteAsync(id, southboundToken);
            return done.Succeeded ? Results.NoContent() : ApiProblems.From(done.Problem!, http);
        })
            .RequireAuthorization(ApiPolicies.Admin)
            .WithName("deletePersistentSet").WithSummary("Remove a persistent set's groups from every switch")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status502BadGateway);
        api.MapGet("/reference-groups", () => Results.Json(
            references.All().Select(r => ReferenceGroupView.From(r, references.Topology)).ToArray(), ApiJsonContext.Default.ReferenceGroupViewArray))
            .RequireAuthorization(ApiPolicies.Read)
            .WithName("listReferenceGroups").WithSummary("The snooped reference groups: member and router ports per switch")
            .WithTags("fabric").Produces<ReferenceGroupView[]>(StatusCodes.Status200OK);
        api.MapGet("/topology", () => Results.Json(TopologyView.From(references.Topology, hosts), ApiJsonContext.Default.TopologyView))
            .RequireAuthorization(ApiPolicies.Read)
            .WithName("getTopology").WithSummary("The fabric: switches, links, spanning tree and located hosts")
            .WithTags("fabric").Produces<TopologyView>(StatusCodes.Status200OK);
    }

    /// <summary>GET /groups?limit=N&amp;after=ID: at most <c>limit</c> (default 1000, at most 10,000) groups in id order; a Link rel="next" header names the next page.</summary>
    private static IResult ListGroups(HttpContext http, GroupCoordinator groups)
    {
        int limit = 1000;
        if (http.Request.Query.TryGetValue("limit", out var l) && (!int.TryParse(l, out limit) || limit is < 1 or > 10_000))
            return ApiProblems.Invalid($"limit '{l}' is not a number from 1 to 10000.", http);
        string? after = http.Request.Query.TryGetValue("after", out var a) ? a.ToString() : null;
        var page = groups.Lifecycle.Store.Page(after, limit);
        if (page.Count == limit)
            http.Response.Headers.Link = $"<{Prefix}/groups?limit={limit}&after={Uri.EscapeDataString(page[^1].Id)}>; rel=\"next\"";
        var views = new GroupView[page.Count];
        for (int i = 0; i < views.Length; i++) views[i] = GroupView.From(page[i]);
        return Results.Json(views, ApiJsonContext.Default.GroupViewArray);
    }

    private static async Task<IResult> CreatePersistentSetAsync(HttpContext http, GroupCoordinator groups, CancellationToken southboundToken)
    {
        if (!http.Request.HasJsonContentType()) return ApiProblems.UnsupportedMediaType(http);
        CreatePersistentSetBody? body;
        try { body = await http.Request.ReadFromJsonAsync(ApiJsonContext.Default.CreatePersistentSetBody, http.RequestAborted); }
        catch (JsonException e) { return ApiProblems.MalformedJson(e.Message, http); }
        if (body is null) return ApiProblems.MalformedJson("The body is null; expected a JSON object.", http);
        if (body.Vlan is not { } vlan) return ApiProblems.MissingField("vlan", http);
        if (!VlanId.IsValid(vlan)) return ApiProblems.Invalid($"vlan {vlan} is outside 0..{VlanId.MaxValue}.", http);
        if (body.Reference is null) return ApiProblems.MissingField("reference", http);
        if (!IpAddress.TryParse(body.Reference, out var reference) || !reference.IsMulticast)
            return ApiProblems.MalformedAddress("reference", body.Reference, "a multicast group address", http);
        if (body.Members is null) return ApiProblems.MissingField("members", http);
        if (body.K is not { } k) return ApiProblems.MissingField("k", http);
        var members = new IpAddress[body.Members.Length];
        for (int i = 0; i < members.Length; i++)
            if (!IpAddress.TryParse(body.Members[i], out members[i]) || members[i].IsMulticast || members[i].IsV4 != reference.IsV4)
                return ApiProblems.MalformedAddress($"members[{i}]", body.Members[i], "a unicast address of the reference group's family", http);
        var done = await groups.Persistent.CreateAsync(new VlanId((ushort)vlan), reference, members, k, southboundToken);
        if (!done.Succeeded) return ApiProblems.From(done.Problem!, http);
        http.Response.Headers.Location = $"{Prefix}/persistent-sets/{done.Value!.Id}";
        return Results.Json(PersistentSetView.From(done.Value), ApiJsonContext.Default.PersistentSetView, statusCode: StatusCodes.Status201Created);
    }

    /// <summary>Refresh and release: the caller must have created the group (or be an admin). A group that does not exist is the coordinator's 404.</summary>
    private static async Task<IResult?> CheckOwnerAsync(HttpContext http, GroupCoordinator groups, string id)
    {
        if (!groups.TryGet(id, out var g)) return null;
        var owner = http.RequestServices.GetRequiredService<GroupOwnership>().OwnerOf(id) ?? ""; // "": pushed or persistent, nobody's over REST
        return await ApiAuthorizationResults.CheckWriteAsync(http, new GroupResource(g.Vlan, g.Reference, owner, id));
    }

    /// <summary>429 with Retry-After: when the earliest of the groups that fill the quota runs out of lease.</summary>
    private static IResult QuotaExceeded(HttpContext http, GroupCoordinator groups, GroupOwnership ownership, ApiSecurityPolicy security,
        QuotaRefusal refusal, string client, CreateGroupRequest request)
    {
        var holding = refusal == QuotaRefusal.Client ? ownership.GroupsOf(client) : ownership.GroupsOn(request.Vlan, request.Reference);
        var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var earliest = holding.Select(id => groups.TryGet(id, out var g) ? g.Expires : DateTimeOffset.MaxValue).DefaultIfEmpty(DateTimeOffset.MaxValue).Min();
        int seconds = earliest == DateTimeOffset.MaxValue ? 1 : (int)Math.Clamp(Math.Ceiling((earliest - now).TotalSeconds), 1, 86_400);
        http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string detail = refusal == QuotaRefusal.Client
            ? $"Client '{client}' holds {security.ClientGroupQuota} live groups, its quota; release one or retry after {seconds} s."
            : $"Reference group {request.Reference} on VLAN {request.Vlan} has {security.ReferenceGroupQuota} live groups, its quota; retry after {seconds} s.";
        return ApiProblems.Result("quota-exceeded", StatusCodes.Status429TooManyRequests, "Live-group quota reached", detail, http);
    }

    private static TsmProblem NotFound(string id) => new(ProblemKind.GroupNotFound, $"No rendezvous group '{id}'.");

    private static async Task<IResult> CreateAsync(HttpContext http, GroupCoordinator groups, GroupOwnership ownership, ApiSecurityPolicy security, TimeProvider time, CancellationToken southboundToken)
    {
        long start = time.GetTimestamp();
        // The hops of this setup (plan, submit, write, barrier), answered as Server-Timing (issue 14).
        // Begun by the pipeline's first middleware (TsmControllerHost), so the hops start where the controller got the request.
        // (the route hop); a host without that middleware starts it here.
        var trace = Core.Southbound.SetupTrace.Current;
        if (trace is null) trace = Core.Southbound.SetupTrace.Begin();
        else trace.Entered = Core.Southbound.SetupTrace.Now;
        if (!http.Request.HasJsonContentType()) return ApiProblems.UnsupportedMediaType(http);
        CreateGroupBody? body;
        try
        {
            body = await ReadCreateBodyAsync(http, trace);
        }
        catch (JsonException e)
        {
            return ApiProblems.MalformedJson(e.Message, http);
        }
        if (body is null) return ApiProblems.MalformedJson("The body is null; expected a JSON object.", http);
        if (!TryParse(body, http, out var request, out var error)) return error;
        trace.BodyRead = Core.Southbound.SetupTrace.Now;
        // The caller's scope must cover this VLAN and reference group; superseding the group at "group" needs to own it.
        string? existing = request.Group is { } at && groups.Lifecycle.TryFindByAddress(request.Vlan, at, out var existingId) ? existingId : null;
        if (await ApiAuthorizationResults.CheckWriteAsync(http, new GroupResource(request.Vlan, request.Reference,
            existing is null ? null : ownership.OwnerOf(existing) ?? "", existing)) is { } forbidden) return forbidden;
        switch (body.Delivery)
        {
            case null or "tsm": break;
            case "bier": return BierDeliveryApi.Answer(request, http, time, start);
            default: return ApiProblems.Invalid($"delivery '{body.Delivery}' is neither \"tsm\" nor \"bier\".", http);
        }

        string client = ApiCaller.Name(http.User);
        var refusal = ownership.TryReserve(client, request.Vlan, request.Reference, security.ClientGroupQuota, security.ReferenceGroupQuota, out var reservation, existing);
        if (refusal != QuotaRefusal.None) return QuotaExceeded(http, groups, ownership, security, refusal, client, request);
        Outcome<GroupResult> done;
        trace.Admitted = Core.Southbound.SetupTrace.Now;
        try
        {
            done = await groups.CreateAsync(request with { Owner = client }, southboundToken, start);
            trace.Returned = Core.Southbound.SetupTrace.Now;
        }
        catch
        {
            ownership.Cancel(reservation);
            throw;
        }
        if (!done.Succeeded)
        {
            ownership.Cancel(reservation);
            return ApiProblems.From(done.Problem!, http);
        }
        var group = done.Value!.Group;
        if (done.Value.Setup == SetupMode.Persistent) ownership.Cancel(reservation); // a persistent set's group: installed ahead, owned by nobody
        else
        {
            ownership.Commit(reservation, group.Id);
            if (!groups.TryGet(group.Id, out _)) ownership.Forget(group.Id); // gone already (a very short lease): its release went by before the commit
        }
        http.Response.Headers.Location = $"{Prefix}/groups/{Uri.EscapeDataString(group.Id)}";
        http.Response.Headers["Server-Timing"] = trace.ToServerTiming();
        return Results.Json(GroupView.From(group, done.Value.SetupMicros, done.Value.Setup), ApiJsonContext.Default.GroupView, statusCode: StatusCodes.Status201Created);
    }

    /// <summary>
    /// The create's body: buffered whole (Kestrel bounds it by the body limit), then parsed in one synchronous pass
    /// over the bytes — no streaming deserializer state, no await per segment (issue 14: the body read was the
    /// largest part of the controller's share). Marks when the last byte was in hand, so that waiting for the
    /// client's bytes is told apart from parsing them. A charset other than UTF-8 takes the transcoding reader.
    /// </summary>
    private static async ValueTask<CreateGroupBody?> ReadCreateBodyAsync(HttpContext http, Core.Southbound.SetupTrace trace)
    {
        var charset = Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var type) ? type.Charset.Value : null;
        if (charset is not null && !string.Equals(charset, "utf-8", StringComparison.OrdinalIgnoreCase) && !string.Equals(charset, "utf8", StringComparison.OrdinalIgnoreCase))
            return await http.Request.ReadFromJsonAsync(ApiJsonContext.Default.CreateGroupBody, http.RequestAborted);
        var reader = http.Request.BodyReader;
        var read = await reader.ReadAsync(http.RequestAborted);
        while (!read.IsCompleted)
        {
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            read = await reader.ReadAsync(http.RequestAborted);
        }
        trace.BodyArrived = Core.Southbound.SetupTrace.Now;
        var buffer = read.Buffer;
        try
        {
            // Span overloads parse the whole input: trailing bytes after the object are refused, as the stream reader does.
            return buffer.IsSingleSegment
                ? JsonSerializer.Deserialize(buffer.FirstSpan, ApiJsonContext.Default.CreateGroupBody)
                : JsonSerializer.Deserialize(System.Buffers.BuffersExtensions.ToArray(buffer), ApiJsonContext.Default.CreateGroupBody);
        }
        finally { reader.AdvanceTo(buffer.End); }
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
        var setup = SetupMode.Confirmed;
        switch (body.Setup)
        {
            case null or "confirmed": break;
            case "optimistic": setup = SetupMode.Optimistic; break;
            case "persistent": setup = SetupMode.Persistent; break;
            default: error = ApiProblems.Invalid($"setup '{body.Setup}' is not one of confirmed, optimistic, persistent.", http); return false;
        }
        // Out-of-range lease lengths are the lifecycle's to refuse (it knows the maximum); clamp only so that TimeSpan cannot overflow.
        TimeSpan? ttl = body.TtlMs is { } ms ? TimeSpan.FromMilliseconds(Math.Clamp(ms, -1, 1_000_000_000_000)) : null;
        request = new CreateGroupRequest(new VlanId((ushort)vlan), reference, members, ttl, group, setup);
        return true;
    }
}
