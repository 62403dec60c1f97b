using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SubsetMulticast.Controller.Api;
using SubsetMulticast.Controller.Composition;

namespace SubsetMulticast.Controller.Security;

/// <summary>
/// Authentication (<see cref="TsmAuthenticationHandler"/>), authorization (<see cref="ApiPolicies"/>, the group-write
/// resource check), per-client rate limits (ASP.NET Core's rate limiter, 429 + Retry-After), live-group quotas
/// (<see cref="GroupOwnership"/>), the request-body limit and HTTPS with optional client certificates, all decided
/// by one <see cref="ApiSecurityPolicy"/> from <see cref="ControllerOptions.ApiSecurity"/>.
/// </summary>
public static class ApiSecurityComposition
{
    /// <summary>Registers the API's security (TryAdd: a test or a feature may register its own policy or ownership first).</summary>
    public static ISubsetMulticastBuilder AddApiSecurity(this ISubsetMulticastBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.TryAddSingleton(sp =>
        {
            var o = sp.GetRequiredService<ControllerOptions>();
            return ApiSecurityPolicy.Resolve(o.ApiSecurity, o.ApiUrl);
        });
        services.TryAddSingleton<GroupOwnership>();
        if (services.Any(d => d.ServiceType == typeof(ApiSecurityMarker))) return builder;
        services.AddSingleton<ApiSecurityMarker>();
        services.AddAuthentication(TsmAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, TsmAuthenticationHandler>(TsmAuthenticationHandler.SchemeName, null);
        services.AddAuthorization(ApiPolicies.Add);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAuthorizationHandler, ScopeRequirementHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAuthorizationHandler, GroupWriteRequirementHandler>());
        services.TryAddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, ApiAuthorizationResults>();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<ApiSecurityPolicy>(ConfigureRateLimits);
        return builder;
    }

    /// <summary>The middleware, in order: who is calling, how fast, may they.</summary>
    public static WebApplication UseApiSecurity(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var policy = app.Services.GetRequiredService<ApiSecurityPolicy>();
        app.UseApiAuthentication(policy);
        // No limit configured (the open loopback API): no rate-limiter middleware at all, rather than one that
        // hands every request a no-op lease (issue 14: the create's middleware share).
        if (policy.RateLimitPerSecond > 0) app.UseRateLimiter();
        app.UseApiAuthorization();
        return app;
    }

    /// <summary>Kestrel's part: the body limit, and for HTTPS the certificate and the client-certificate check against the client CA.</summary>
    public static void ConfigureKestrel(KestrelServerOptions kestrel, ApiSecurityPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        ArgumentNullException.ThrowIfNull(policy);
        kestrel.Limits.MaxRequestBodySize = policy.MaxRequestBodyBytes;
        if (policy.ServerCertificate is null) return;
        kestrel.ConfigureHttpsDefaults(https =>
        {
            https.ServerCertificate = policy.ServerCertificate;
            if (policy.ClientCertificateAuthorities is not { Count: > 0 } authorities) return;
            // Allow, not require: a client may use a bearer token instead; one that sends a certificate must chain to the CA.
            https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
            https.ClientCertificateValidation = (certificate, _, _) => ChainsTo(certificate, authorities);
        });
    }

    /// <summary>True when <paramref name="certificate"/> chains to one of <paramref name="authorities"/> (and only them: the system store is not trusted here).</summary>
    public static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection authorities)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // no CRL distribution in a lab CA; revoke by removing the client from the file
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
        return chain.Build(certificate);
    }

    /// <summary>Per-client token buckets on /api (clients by name, unauthenticated callers by address); 429 problem+json with Retry-After.</summary>
    private static void ConfigureRateLimits(RateLimiterOptions o, ApiSecurityPolicy policy)
    {
        int rate = policy.RateLimitPerSecond;
        o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
        {
            if (rate <= 0 || !http.Request.Path.StartsWithSegments(ApiEndpoints.Prefix, StringComparison.Ordinal))
                return RateLimitPartition.GetNoLimiter("");
            string key = http.User.Identity?.IsAuthenticated == true ? "client:" + http.User.Identity.Name
                : "address:" + http.Connection.RemoteIpAddress;
            return RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = rate,
                TokensPerPeriod = rate,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        });
        o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        o.OnRejected = (context, _) =>
        {
            var retry = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
            int seconds = Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds));
            context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return new ValueTask(ApiProblems.WriteAsync(context.HttpContext, "rate-limited", StatusCodes.Status429TooManyRequests, "Too many requests",
                $"Client '{context.HttpContext.User.Identity?.Name ?? context.HttpContext.Connection.RemoteIpAddress?.ToString()}' is over {rate} requests per second; retry after {seconds} s."));
        };
    }

    /// <summary>Marks that the schemes and policies are registered (they cannot be registered twice).</summary>
    private sealed class ApiSecurityMarker;
}
