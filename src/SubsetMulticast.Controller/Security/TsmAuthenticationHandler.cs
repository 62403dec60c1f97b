using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using SubsetMulticast.Controller.Api;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SubsetMulticast.Controller.Security;

/// <summary>
/// The API's one authentication scheme. A caller is a client of the clients file, proved by a bearer token
/// (<c>Authorization: Bearer tsm_…</c>) or by a client certificate that Kestrel has already checked against the
/// client CA during the TLS handshake (its CN names the client). An open API (loopback, nothing configured)
/// authenticates every caller as the local administrator. Challenges and refusals are written as problem+json by
/// <see cref="ApiAuthorizationResults"/>.
/// </summary>
internal sealed class TsmAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    ApiSecurityPolicy policy) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "tsm";
    private const string Bearer = "Bearer ";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync() => Task.FromResult(Authenticate(Context, policy));

    /// <summary>
    /// Who is calling: a bearer token of the clients file, a client certificate Kestrel has checked, or (open API) the
    /// local administrator; NoResult when none applies. One decision for this handler and for
    /// <see cref="ApiSecurityComposition.UseApiSecurity"/>'s authentication step, which calls it directly.
    /// </summary>
    internal static AuthenticateResult Authenticate(HttpContext context, ApiSecurityPolicy policy)
    {
        string? authorization = context.Request.Headers.Authorization;
        if (authorization is not null && authorization.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
        {
            return policy.Clients.TryAuthenticate(authorization[Bearer.Length..].Trim(), out var client)
                ? Success(client, "token")
                : AuthenticateResult.Fail("The bearer token is not one of this controller's clients.");
        }
        if (context.Connection.ClientCertificate is { } certificate && policy.ClientCertificateAuthorities is { Count: > 0 })
        {
            // Kestrel's ClientCertificateValidation has checked the chain against the client CA before we see it.
            string name = certificate.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.SimpleName, forIssuer: false);
            return Success(policy.Clients.TryFind(name, out var listed) ? listed : new ApiClient(name, [], null), "certificate");
        }
        if (!policy.Required) return LocalAdministratorResult; // immutable: built once
        return AuthenticateResult.NoResult();
    }

    /// <summary>Whoever challenges (the authorization middleware, an endpoint with its own pipeline such as /metrics): 401 as problem+json.</summary>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties) => ApiAuthorizationResults.Unauthenticated(Context);

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        ApiProblems.WriteAsync(Context, "forbidden", StatusCodes.Status403Forbidden, "Not allowed for this client", "This client's scopes do not allow this request.");

    private static readonly AuthenticationTicket LocalAdministrator = Ticket(ApiSecurityPolicy.LocalAdministrator, "loopback");
    private static readonly AuthenticateResult LocalAdministratorResult = AuthenticateResult.Success(LocalAdministrator);

    private static AuthenticateResult Success(ApiClient client, string method) => AuthenticateResult.Success(Ticket(client, method));

    private static AuthenticationTicket Ticket(ApiClient client, string method)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, client.Name), new(ClaimTypes.AuthenticationMethod, method) };
        foreach (var s in client.Scopes) claims.Add(new Claim(ApiScope.ClaimType, s.ToString()));
        return new AuthenticationTicket(new ClaimsPrincipal(new TsmIdentity(claims, client.Scopes)), SchemeName);
    }
}

/// <summary>
/// A caller authenticated by <see cref="TsmAuthenticationHandler"/>: its claims as before, and its scopes as already
/// parsed, so that each authorization check does not parse the scope claims again.
/// </summary>
internal sealed class TsmIdentity(IEnumerable<Claim> claims, IReadOnlyList<ApiScope> scopes) : ClaimsIdentity(claims, TsmAuthenticationHandler.SchemeName)
{
    public IReadOnlyList<ApiScope> Scopes { get; } = scopes;
}
