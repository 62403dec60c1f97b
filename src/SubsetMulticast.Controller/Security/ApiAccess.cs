using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features.Authentication;
using SubsetMulticast.Controller.Api;

namespace SubsetMulticast.Controller.Security;

/// <summary>
/// Authentication and authorization as two plain middlewares (issue 14: on the 2-core VM ASP.NET Core's
/// authentication and authorization middlewares took ~0.05 ms of a create's ~0.2 ms in the controller — a request
/// scope, a handler, an authentication service, a policy evaluator and an authorization context per request).
/// The decisions are the same ones: the caller is <see cref="TsmAuthenticationHandler.Authenticate"/>'s (the scheme
/// handler calls the same method, and still answers challenges); an endpoint that names exactly one of
/// <see cref="ApiPolicies"/> is allowed when the caller is authenticated and holds a scope of that permission
/// (<see cref="ScopeRequirementHandler.Allows"/>), else 401 or 403 as problem+json, as
/// <see cref="ApiAuthorizationResults"/> writes them. Every other endpoint (no policy: the fallback; anonymous;
/// anything else in its metadata) goes through ASP.NET Core's authorization middleware, unchanged.
/// </summary>
internal static class ApiAccess
{
    // ASP.NET Core's own markers: WebApplication adds UseAuthentication/UseAuthorization in front of the pipeline
    // unless these are set, and EndpointMiddleware refuses an endpoint with authorization metadata unless the
    // request carries the last one (AuthorizationMiddleware sets it; so does ours when it decided).
    private const string AuthenticationSetKey = "__AuthenticationMiddlewareSet";
    private const string AuthorizationSetKey = "__AuthorizationMiddlewareSet";
    private const string AuthorizationInvokedKey = "__AuthorizationMiddlewareWithEndpointInvoked";
    private static readonly object AuthorizationInvokedValue = new();

    /// <summary>Who is calling: sets <see cref="HttpContext.User"/> and the authentication features, as UseAuthentication does.</summary>
    public static IApplicationBuilder UseApiAuthentication(this IApplicationBuilder app, ApiSecurityPolicy policy)
    {
        app.Properties[AuthenticationSetKey] = true;
        return app.Use((context, next) =>
        {
            var result = TsmAuthenticationHandler.Authenticate(context, policy);
            if (result.Principal is { } principal) context.User = principal;
            if (result.Succeeded)
            {
                var features = new AuthenticatedFeatures(result);
                context.Features.Set<IHttpAuthenticationFeature>(features);
                context.Features.Set<IAuthenticateResultFeature>(features);
            }
            return next(context);
        });
    }

    /// <summary>May they: decided here for endpoints that name one of <see cref="ApiPolicies"/>; the rest through UseAuthorization.</summary>
    public static IApplicationBuilder UseApiAuthorization(this IApplicationBuilder app)
    {
        app.Properties[AuthorizationSetKey] = true;
        return app.Use(next =>
        {
            var framework = app.New();
            framework.UseAuthorization();
            framework.Run(next);
            var others = framework.Build();
            var permissions = new ConcurrentDictionary<Endpoint, ApiPermission?>();
            return context =>
            {
                var endpoint = context.GetEndpoint();
                if (endpoint is null || permissions.GetOrAdd(endpoint, OnePolicy) is not { } permission) return others(context);
                context.Items[AuthorizationInvokedKey] = AuthorizationInvokedValue;
                var user = context.User;
                if (!IsAuthenticated(user)) return ApiAuthorizationResults.Unauthenticated(context);
                if (!ScopeRequirementHandler.Allows(user, permission, out var refusal))
                    return ApiProblems.WriteAsync(context, "forbidden", StatusCodes.Status403Forbidden, "Not allowed for this client", refusal);
                return next(context);
            };
        });
    }

    /// <summary>The permission when the endpoint's only authorization metadata is one of our policies by name; null otherwise.</summary>
    private static ApiPermission? OnePolicy(Endpoint endpoint)
    {
        var metadata = endpoint.Metadata;
        var data = metadata.GetOrderedMetadata<IAuthorizeData>();
        if (data.Count != 1 || data[0].Roles is not null || data[0].AuthenticationSchemes is not null) return null;
        if (metadata.GetMetadata<IAllowAnonymous>() is not null || metadata.GetMetadata<AuthorizationPolicy>() is not null
            || metadata.GetMetadata<IAuthorizationRequirementData>() is not null) return null;
        return data[0].Policy switch
        {
            ApiPolicies.Read => ApiPermission.Read,
            ApiPolicies.GroupsWrite => ApiPermission.GroupsWrite,
            ApiPolicies.Admin => ApiPermission.Admin,
            _ => null,
        };
    }

    /// <summary>RequireAuthenticatedUser's test (DenyAnonymousAuthorizationRequirement).</summary>
    private static bool IsAuthenticated(ClaimsPrincipal? user)
    {
        if (user is null) return false;
        foreach (var identity in user.Identities)
            if (identity.IsAuthenticated) return true;
        return false;
    }

    /// <summary>One object for both features, as AuthenticationMiddleware's own (setting the user forgets the result).</summary>
    private sealed class AuthenticatedFeatures(AuthenticateResult result) : IAuthenticateResultFeature, IHttpAuthenticationFeature
    {
        private AuthenticateResult? _result = result;
        private ClaimsPrincipal? _user = result.Principal;

        public AuthenticateResult? AuthenticateResult
        {
            get => _result;
            set { _result = value; _user = value?.Principal; }
        }

        public ClaimsPrincipal? User
        {
            get => _user;
            set { _user = value; _result = null; }
        }
    }
}
