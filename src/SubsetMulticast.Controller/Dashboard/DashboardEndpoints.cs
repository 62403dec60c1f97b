using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SubsetMulticast.Controller.Composition;

namespace SubsetMulticast.Controller.Dashboard;

/// <summary>
/// The dashboard: <c>GET /</c> (the page), <c>GET /dashboard/app.js|app.css</c> (embedded in this assembly —
/// nothing is fetched from elsewhere, so it works offline) and <c>GET /dashboard/events</c>, the server-sent
/// event stream that carries a snapshot and then every change (<see cref="DashboardStream"/>).
/// </summary>
public static class DashboardEndpoints
{
    public const string EventsPath = "/dashboard/events";

    private static readonly Dictionary<string, (byte[] Body, string ContentType, string ETag)> Assets = LoadAssets();

    /// <summary>The dashboard's stream, figures and (absent) audit; an earlier registration of any of them wins.</summary>
    public static ISubsetMulticastBuilder AddDashboard(this ISubsetMulticastBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.TryAddSingleton<GroupChangeFeed>();
        services.TryAddSingleton<IDashboardFigures>(sp => new SetupFigures(sp.GetRequiredService<GroupChangeFeed>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<ISwitchAudit, NoSwitchAudit>();
        services.TryAddSingleton<DashboardStream>();
        return builder;
    }

    public static void MapDashboard(this IEndpointRouteBuilder app, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/", (HttpContext http) => ServeAsset(http, "index.html")).ExcludeFromDescription(); // the page, not the API
        app.MapGet("/dashboard/{file}", (HttpContext http, string file) => ServeAsset(http, file)).ExcludeFromDescription();
        app.MapGet(EventsPath, (HttpContext http, DashboardStream stream) => stream.RunAsync(http, stopping)).ExcludeFromDescription();
    }

    private static IResult ServeAsset(HttpContext http, string file)
    {
        if (!Assets.TryGetValue(file, out var asset)) return Results.NotFound();
        http.Response.Headers.CacheControl = "no-cache"; // revalidate: a new build serves new assets at once
        http.Response.Headers.ETag = asset.ETag;
        if (http.Request.Headers.IfNoneMatch == asset.ETag) return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(asset.Body, asset.ContentType);
    }

    private static Dictionary<string, (byte[], string, string)> LoadAssets()
    {
        var assembly = typeof(DashboardEndpoints).Assembly;
        var assets = new Dictionary<string, (byte[], string, string)>(StringComparer.Ordinal);
        const string Prefix = "dashboard/";
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var body = copy.ToArray();
            var file = name[Prefix.Length..];
            string type = Path.GetExtension(file) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            };
            assets[file] = (body, type, $"\"{Convert.ToHexStringLower(SHA256.HashData(body))[..16]}\"");
        }
        if (!assets.ContainsKey("index.html"))
            throw new InvalidOperationException($"{assembly.GetName().Name} was built without the dashboard's embedded assets.");
        return assets;
    }
}
