using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace SubsetMulticast.Controller.Api;

/// <summary>
/// The REST API's OpenAPI 3 document, generated from the endpoints' metadata (Microsoft.AspNetCore.OpenApi) and served
/// at GET /openapi/v1.json. The repository keeps a copy (docs/openapi.json); a test checks that the two are equal and
/// that Redocly's linter finds nothing in it.
/// </summary>
public static class ApiDocument
{
    public const string Path = "/openapi/v1.json";

    public static IServiceCollection AddTsmOpenApi(this IServiceCollection services) =>
        services.AddOpenApi("v1", o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "SubsetMulticast controller",
                Version = "v1",
                Description = "Transactional subset multicast (draft-bestler-transactional-multicast-00): a sender names a few members of a "
                    + "snooped reference group and the controller programs each switch toward them, for a short-lived group address. "
                    + "Errors are application/problem+json. The API has no authentication: bind it to a management address.",
            };
            // Fixed, not the address a request came to: the served document must equal the committed one.
            document.Servers = [new OpenApiServer { Url = "http://127.0.0.1:8080", Description = "tsm serve's default --api" }];
            document.Tags = new HashSet<OpenApiTag>
            {
                new() { Name = "groups", Description = "Rendezvous groups: created for a subset of a reference group's members, refreshed, released; leases expire." },
                new() { Name = "fabric", Description = "What the controller learned: the topology, located hosts, the snooped reference groups." },
                new() { Name = "audit", Description = "Intended vs installed rules on each switch (OpenFlow flows and groups, SNMP static multicast rows), and their repair." },
            };
            // No authentication by design (see the description): an empty requirement says so explicitly.
            document.Security = [new OpenApiSecurityRequirement()];
            return Task.CompletedTask;
        }));

    public static IEndpointRouteBuilder MapTsmOpenApi(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");
        return app;
    }
}
