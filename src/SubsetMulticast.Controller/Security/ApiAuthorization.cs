using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using SubsetMulticast.Controller.Api;
using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Controller.Security;

/// <summary>The API's policies. Every endpoint names one; an endpoint that names none gets <see cref="Read"/> (the fallback).</summary>
public static class ApiPolicies
{
    public const string Read = "tsm:read";
    public const string GroupsWrite = "tsm:groups:write";
    public const string Admin = "tsm:admin";

    internal static void Add(AuthorizationOptions o)
    {
        // No AddAuthenticationSchemes: "tsm" is the only and default scheme, so UseAuthentication has already set the
        // caller; naming it here made the authorization middleware authenticate again and merge a new principal on
        // every request (issue 14: the middleware was ~0.1 ms of a create's ~0.35 ms on the shared VM).
        o.AddPolicy(Read, p => p.RequireAuthenticatedUser().AddRequirements(new ScopeRequirement(ApiPermission.Read)));
        o.AddPolicy(GroupsWrite, p => p.RequireAuthenticatedUser().AddRequirements(new ScopeRequirement(ApiPermission.GroupsWrite)));
        o.AddPolicy(Admin, p => p.RequireAuthenticatedUser().AddRequirements(new ScopeRequirement(ApiPermission.Admin)));
        o.FallbackPolicy = o.GetPolicy(Read);
    }
}

/// <summary>The caller holds a scope of at least this permission (admin ⊇ groups:write ⊇ read).</summary>
public sealed record ScopeRequirement(ApiPermission Permission) : IAuthorizationRequirement;

/// <summary>What a write touches: the VLAN and reference group, and the client that created the group (null for a new group).</summary>
public sealed record GroupResource(VlanId Vlan, IpAddress Reference, string? Owner, string? GroupId = null);

/// <summary>The caller may write this group: admin, or a groups:write scope covering its VLAN and reference group and, for an existing group, its creator.</summary>
public sealed class GroupWriteRequirement : IAuthorizationRequirement
{
    public static readonly GroupWriteRequirement Instance = new();
}

internal static class ApiCaller
{
    /// <summary>The caller's scopes: as parsed at authentication (<see cref="TsmIdentity"/>), else parsed from its claims.</summary>
    public static IEnumerable<ApiScope> Scopes(ClaimsPrincipal user)
    {
        foreach (var identity in user.Identities)
            if (identity is TsmIdentity tsm) return tsm.Scopes;
        return Parsed(user);

        static IEnumerable<ApiScope> Parsed(ClaimsPrincipal user)
        {
            foreach (var c in user.FindAll(ApiScope.ClaimType))
                if (ApiScope.TryParse(c.Value, out var s)) yield return s.Value;
        }
    }

    public static string Name(ClaimsPrincipal user) => user.Identity?.Name ?? "anonymous";
    public static bool IsAdmin(ClaimsPrincipal user)
    {
        foreach (var s in Scopes(user))
            if (s.Permission == ApiPermission.Admin) return true;
        return false;
    }
}

internal sealed class ScopeRequirementHandler : AuthorizationHandler<ScopeRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
    {
        if (Allows(context.User, requirement.Permission, out var refusal)) context.Succeed(requirement);
        else context.Fail(new AuthorizationFailureReason(this, refusal));
        return Task.CompletedTask;
    }

    /// <summary>The caller holds a scope of at least <paramref name="permission"/>; else why not (this handler's and <see cref="ApiAccess"/>'s one test).</summary>
    public static bool Allows(ClaimsPrincipal user, ApiPermission permission, out string refusal)
    {
        foreach (var s in ApiCaller.Scopes(user))
            if (s.Permission >= permission) { refusal = ""; return true; }
        refusal = $"Client '{ApiCaller.Name(user)}' has no scope that allows this: it needs {permission switch { ApiPermission.Read => "read", ApiPermission.GroupsWrite => "groups:write", _ => "admin" }} or more.";
        return false;
    }
}

internal sealed class GroupWriteRequirementHandler : AuthorizationHandler<GroupWriteRequirement, GroupResource>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, GroupWriteRequirement requirement, GroupResource resource)
    {
        var user = context.User;
        string name = ApiCaller.Name(user);
        if (ApiCaller.IsAdmin(user)) { context.Succeed(requirement); return Task.CompletedTask; }
        if (!ApiCaller.Scopes(user).Any(s => s.AllowsWrite(resource.Vlan, resource.Reference)))
            context.Fail(new AuthorizationFailureReason(this, $"Client '{name}' may not write groups of reference group {resource.Reference} on VLAN {resource.Vlan} (its scopes: {string.Join(", ", ApiCaller.Scopes(user))})."));
        else if (resource.Owner is not null && resource.Owner != name)
            context.Fail(new AuthorizationFailureReason(this, $"Group {resource.GroupId} was created by another client; only its creator or an admin may refresh, release or supersede it."));
        else context.Succeed(requirement);
        return Task.CompletedTask;
    }
}

/// <summary>401 and 403 as problem+json (the default handler writes an empty body).</summary>
internal sealed class ApiAuthorizationResults : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Challenged) return Unauthenticated(context);
        if (authorizeResult.Forbidden)
            return ApiProblems.WriteAsync(context, "forbidden", StatusCodes.Status403Forbidden, "Not allowed for this client",
                authorizeResult.AuthorizationFailure?.FailureReasons.FirstOrDefault()?.Message ?? "This client's scopes do not allow this request.");
        return _default.HandleAsync(next, context, policy, authorizeResult);
    }

    public static Task Unauthenticated(HttpContext context)
    {
        bool presented = context.Request.Headers.Authorization.Count > 0;
        context.Response.Headers.WWWAuthenticate = presented ? "Bearer realm=\"tsm\", error=\"invalid_token\"" : "Bearer realm=\"tsm\"";
        return ApiProblems.WriteAsync(context, "unauthenticated", StatusCodes.Status401Unauthorized, "Authentication required",
            presented ? "The bearer token is not one of this controller's clients."
                : "This API requires a bearer token (Authorization: Bearer tsm_…) or a client certificate from the configured CA.");
    }

    /// <summary>A resource check done inside an endpoint (the group's VLAN, reference group and owner): null when allowed, else the 403.</summary>
    public static async Task<IResult?> CheckWriteAsync(HttpContext http, GroupResource resource)
    {
        // An admin may write any group (GroupWriteRequirementHandler's first rule, and the only handler of the
        // requirement): allowed here without the authorization service's context, handler walk and task per call
        // (issue 14: the create's admit hop; the open loopback API's caller is the local administrator).
        if (ApiCaller.IsAdmin(http.User)) return null;
        var authorization = (IAuthorizationService)http.RequestServices.GetService(typeof(IAuthorizationService))!;
        var result = await authorization.AuthorizeAsync(http.User, resource, GroupWriteRequirement.Instance).ConfigureAwait(false);
        return result.Succeeded ? null : ApiProblems.Result("forbidden", StatusCodes.Status403Forbidden, "Not allowed for this client",
            result.Failure?.FailureReasons.FirstOrDefault()?.Message ?? "This client may not write this group.", http);
    }
}
