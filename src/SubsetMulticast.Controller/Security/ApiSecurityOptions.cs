using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace SubsetMulticast.Controller.Security;

/// <summary>
/// Who may use the REST API and how much (<see cref="ControllerOptions.ApiSecurity"/>; <c>tsm serve</c> sets it from
/// <c>--api-clients</c>, <c>--api-cert</c>, <c>--api-client-ca</c>, <c>--rate-limit</c>, <c>--quota-*</c>, <c>--max-body</c>).
/// The defaults keep loopback use zero-config: with no clients and no client CA, an API bound to loopback is open
/// (every caller is the local administrator) and an API bound anywhere else refuses to start.
/// </summary>
public sealed class ApiSecurityOptions
{
    /// <summary>The clients and their scopes; null: none (only mutual TLS, or an open loopback API).</summary>
    public ApiClientTable? Clients { get; set; }

    /// <summary>The HTTPS certificate (with its private key) for an <c>https://</c> <see cref="ControllerOptions.ApiUrl"/>.</summary>
    public X509Certificate2? ServerCertificate { get; set; }

    /// <summary>Mutual TLS: the CA(s) a client certificate must chain to; its CN names the client in <see cref="Clients"/>.</summary>
    public X509Certificate2Collection? ClientCertificateAuthorities { get; set; }

    /// <summary>Null: authentication is required unless the API listens on loopback only and no client is configured.</summary>
    public bool? RequireAuthentication { get; set; }

    /// <summary>The largest request body, in bytes (413 beyond it).</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Requests per second per client (token bucket, burst the same); 0 off; null: 50 when authentication is required, else off.</summary>
    public int? RateLimitPerSecond { get; set; }

    /// <summary>Live groups one client may hold; 0 off; null: 1,000 when authentication is required, else off.</summary>
    public int? ClientGroupQuota { get; set; }

    /// <summary>Live groups on one reference group (all clients together); 0 off; null: 4,096 when authentication is required, else off.</summary>
    public int? ReferenceGroupQuota { get; set; }
}

/// <summary>The settings in force, decided once from <see cref="ApiSecurityOptions"/> and where the API listens.</summary>
public sealed record ApiSecurityPolicy(bool Required, ApiClientTable Clients, X509Certificate2? ServerCertificate,
    X509Certificate2Collection? ClientCertificateAuthorities, long MaxRequestBodyBytes, int RateLimitPerSecond, int ClientGroupQuota, int ReferenceGroupQuota)
{
    public const int DefaultRateLimit = 50, DefaultClientQuota = 1000, DefaultReferenceQuota = 4096;

    /// <summary>The one caller of an open API: loopback use with nothing configured.</summary>
    public static readonly ApiClient LocalAdministrator = new("local", [ApiScope.Admin], null);

    /// <summary>Decides; <see cref="ArgumentException"/> when the settings cannot be served safely (a non-loopback API with no way to authenticate, HTTPS without a certificate).</summary>
    public static ApiSecurityPolicy Resolve(ApiSecurityOptions options, string apiUrl)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Uri.TryCreate(apiUrl, UriKind.Absolute, out var url)) throw new ArgumentException($"The API URL '{apiUrl}' is not a URL.", nameof(apiUrl));
        bool https = url.Scheme == Uri.UriSchemeHttps;
        if (https && options.ServerCertificate is null)
            throw new ArgumentException($"The API listens on {apiUrl} (HTTPS) but no certificate is given (--api-cert).", nameof(options));
        if (!https && options.ServerCertificate is not null)
            throw new ArgumentException($"An API certificate is given but the API listens on {apiUrl}: use https://.", nameof(options));
        if (options.ClientCertificateAuthorities is { Count: > 0 } && !https)
            throw new ArgumentException("Mutual TLS (--api-client-ca) needs an https:// API with a certificate (--api-cert).", nameof(options));
        if (options.MaxRequestBodyBytes <= 0) throw new ArgumentException("The request body limit must be positive.", nameof(options));

        bool canAuthenticate = options.Clients is { Clients.Count: > 0 } || options.ClientCertificateAuthorities is { Count: > 0 };
        bool required = options.RequireAuthentication ?? (canAuthenticate || !IsLoopback(url));
        if (required && !canAuthenticate)
            throw new ArgumentException($"The API listens on {url.Host}, beyond loopback, so it requires authentication: give clients with bearer tokens "
                + "(--api-clients file:PATH, see tsm token create) or a client CA for mutual TLS (--api-client-ca).", nameof(options));
        return new ApiSecurityPolicy(required, options.Clients ?? new ApiClientTable([]), options.ServerCertificate, options.ClientCertificateAuthorities,
            options.MaxRequestBodyBytes,
            options.RateLimitPerSecond ?? (required ? DefaultRateLimit : 0),
            options.ClientGroupQuota ?? (required ? DefaultClientQuota : 0),
            options.ReferenceGroupQuota ?? (required ? DefaultReferenceQuota : 0));
    }

    /// <summary>127.0.0.0/8, ::1 and "localhost" only; 0.0.0.0, [::], * and any other address are beyond loopback.</summary>
    public static bool IsLoopback(Uri url) =>
        url.IsLoopback && (url.HostNameType != UriHostNameType.Dns || url.Host == "localhost")
        || (IPAddress.TryParse(url.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}

/// <summary>Loads <see cref="ApiSecurityOptions"/> from where <c>tsm serve</c>'s settings point: a clients source and PEM files.</summary>
public static class ApiSecuritySources
{
    /// <summary><see cref="FormatException"/> (naming the setting and file, never a secret) when something cannot be read.</summary>
    public static ApiSecurityOptions Load(string? clientsSource, string? certificatePem, string? keyPem, string? clientCaPem)
    {
        var options = new ApiSecurityOptions();
        if (clientsSource is not null) options.Clients = ApiClientTable.Parse(SecretSource.Read(clientsSource), clientsSource);
        if (certificatePem is not null)
        {
            try { options.ServerCertificate = X509Certificate2.CreateFromPemFile(certificatePem, keyPem); }
            catch (Exception e) when (e is IOException or System.Security.Cryptography.CryptographicException or ArgumentException)
            { throw new FormatException($"--api-cert {certificatePem}: {e.Message}", e); }
        }
        if (clientCaPem is not null)
        {
            var authorities = new X509Certificate2Collection();
            try { authorities.ImportFromPemFile(clientCaPem); }
            catch (Exception e) when (e is IOException or System.Security.Cryptography.CryptographicException)
            { throw new FormatException($"--api-client-ca {clientCaPem}: {e.Message}", e); }
            if (authorities.Count == 0) throw new FormatException($"--api-client-ca {clientCaPem}: no certificate in it");
            options.ClientCertificateAuthorities = authorities;
        }
        return options;
    }
}
