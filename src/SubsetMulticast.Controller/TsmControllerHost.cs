using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Controller.Api;
using SubsetMulticast.Controller.Composition;
using SubsetMulticast.Controller.Dashboard;
using SubsetMulticast.Controller.Groups;
using SubsetMulticast.Controller.Observability;
using SubsetMulticast.Controller.Push;
using SubsetMulticast.Controller.Security;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.ReferenceGroups;
using SubsetMulticast.Core.Southbound;

namespace SubsetMulticast.Controller;

/// <summary>
/// The controller service, wired and running: REST API on Kestrel, lease sweeper, push-instruction UDP endpoint.
/// The one entry point that the CLI (<c>tsm demo</c>, <c>tsm serve</c>), benchmarks and tests start it with.
/// </summary>
public sealed class TsmControllerHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _disposed;

    private TsmControllerHost(WebApplication app, Uri apiUrl, Uri? apiH2cUrl, GroupCoordinator groups, PushEndpoint? push)
    {
        _app = app;
        ApiUrl = apiUrl;
        ApiH2cUrl = apiH2cUrl;
        Groups = groups;
        PushEndPoint = push?.LocalEndPoint;
        PushStats = push?.Stats;
    }

    /// <summary>The address the API is bound to (the real port when the options asked for port 0), e.g. http://127.0.0.1:41234/.</summary>
    public Uri ApiUrl { get; }

    /// <summary>The HTTP/2 cleartext (prior knowledge) listener's address; null unless <see cref="ControllerOptions.ApiH2cUrl"/> asked for one.</summary>
    public Uri? ApiH2cUrl { get; }

    /// <summary>Where the push endpoint is bound; null when it is off.</summary>
    public IPEndPoint? PushEndPoint { get; }

    /// <summary>The push endpoint's counters; null when it is off.</summary>
    public PushEndpointStats? PushStats { get; }

    /// <summary>The same operations as the REST API, in process.</summary>
    public GroupCoordinator Groups { get; }

    /// <summary>
    /// Builds and starts the controller on a live fabric model: the planner and GET /topology read
    /// <paramref name="references"/>' current <see cref="ReferenceGroupTable.Topology"/> at each request.
    /// </summary>
    public static Task<TsmControllerHost> StartAsync(ControllerOptions options, HostTable hosts, ReferenceGroupTable references,
        ISouthbound southbound, IPushTarget? pushTarget, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(references);
        return StartAsync(options, references.Topology, hosts, references, southbound, pushTarget, time, cancellationToken);
    }

    /// <summary>Builds and starts the controller. <paramref name="topology"/> must be <paramref name="references"/>' topology.</summary>
    /// <param name="pushTarget">Required in <see cref="ApplyMode.Pushed"/>; ignored in computed mode.</param>
    public static Task<TsmControllerHost> StartAsync(ControllerOptions options, FabricTopology topology, HostTable hosts,
        ReferenceGroupTable references, ISouthbound southbound, IPushTarget? pushTarget, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(southbound);
        ArgumentNullException.ThrowIfNull(time);
        if (!ReferenceEquals(topology, references.Topology))
            throw new ArgumentException("The topology must be the reference-group table's topology (the one the planner uses).", nameof(topology));
        return StartAsync(options, tsm =>
        {
            tsm.UseFabricModel(references, hosts).UseSouthbound(southbound).UseTime(time);
            if (pushTarget is not null) tsm.UsePushTarget(pushTarget);
        }, cancellationToken);
    }

    /// <summary>
    /// Builds and starts the controller: <see cref="SubsetMulticastServiceCollectionExtensions.AddSubsetMulticast(IServiceCollection, ControllerOptions)"/>
    /// with <paramref name="options"/>, then <paramref name="features"/> (the fabric model and a southbound at least),
    /// the REST API on Kestrel. Logging is configured here, once, by <see cref="ControllerOptions.ConfigureLogging"/>.
    /// </summary>
    public static async Task<TsmControllerHost> StartAsync(ControllerOptions options, Action<ISubsetMulticastBuilder> features, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(features);
        if (options.Lifecycle.Vlans.Count == 0)
            throw new ArgumentException("The lifecycle options name no VLAN for transactional groups.", nameof(options));
        if (options.Mode is not (ApplyMode.Computed or ApplyMode.Pushed))
            throw new ArgumentOutOfRangeException(nameof(options), $"Unknown mode {options.Mode}.");

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(TsmControllerHost).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        var security = ApiSecurityPolicy.Resolve(options.ApiSecurity, options.ApiUrl); // refuses a non-loopback API nobody can authenticate to
        builder.Services.TryAddSingleton(security);
        if (options.ApiH2cUrl is null) builder.WebHost.UseUrls(options.ApiUrl);
        else
        {
            // Endpoints set in code replace UseUrls, so both listeners are declared here, HTTP/1.1 (+h2 where a client
            // could negotiate it) first: the bound addresses come back in this order. Both are cleartext.
            string api = options.ApiUrl, h2c = options.ApiH2cUrl;
            builder.WebHost.ConfigureKestrel(k =>
            {
                Listen(k, api, Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1AndHttp2);
                Listen(k, h2c, Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2);
            });
        }
        builder.WebHost.ConfigureKestrel(k => ApiSecurityComposition.ConfigureKestrel(k, security));
        if (security.ServerCertificate is not null) builder.WebHost.UseKestrelHttpsConfiguration(); // the slim builder leaves HTTPS out unless asked
        options.ConfigureLogging?.Invoke(builder.Logging);
        var tsm = builder.Services.AddSubsetMulticast(options);
        features(tsm);
        builder.Services.AddTsmMetrics();
        builder.Services.AddTsmOpenApi();
        tsm.AddDashboard(); // after the features: what they registered (an audit, figures from a Meter) wins

        var app = builder.Build();
        try
        {
            ITransactionApplier applier;
            try
            {
                applier = app.Services.GetRequiredService<ITransactionApplier>();
            }
            catch (InvalidOperationException e)
            {
                throw new ArgumentException(e.Message, nameof(features), e);
            }
            _ = applier;
            app.Use(BeginSetupTrace);
            app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = WriteUnhandledAsync });
            app.UseStatusCodePages(context => StatusProblemAsync(context.HttpContext));
            app.UseApiSecurity();
            var groups = app.Services.GetRequiredService<GroupCoordinator>();
            var stopping = app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            ApiEndpoints.Map(app, groups, app.Services.GetRequiredService<ReferenceGroupTable>(), app.Services.GetRequiredService<HostTable>(),
                app.Services.GetRequiredService<TimeProvider>(), stopping);
            Audit.AuditApi.Map(app, app.Services.GetRequiredService<Audit.RuleAuditor>(), stopping);
            app.MapTsmMetrics();
            app.MapTsmOpenApi();
            app.MapDashboard(stopping);

            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                ?? throw new InvalidOperationException("Kestrel reported no bound address.");
            var push = app.Services.GetRequiredService<PushEndpointSlot>().Endpoint;
            Uri? h2cBound = null;
            if (options.ApiH2cUrl is not null)
            {
                var all = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToList();
                if (all.Count < 2) throw new InvalidOperationException("Kestrel reported no bound address for the h2c listener.");
                h2cBound = new Uri(all[1].EndsWith('/') ? all[1] : all[1] + "/");
            }
            return new TsmControllerHost(app, new Uri(bound.EndsWith('/') ? bound : bound + "/"), h2cBound, groups, push);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static readonly PathString CreateGroupPath = new(ApiEndpoints.Prefix + "/groups");

    /// <summary>
    /// First in the pipeline: a create (POST /api/v1/groups) starts its <see cref="Core.Southbound.SetupTrace"/> here, so
    /// its Server-Timing counts the middleware (exception handling, authentication, rate limiting, routing) as the
    /// controller's own time (the "route" hop) instead of leaving it in the client's share (issue 14). Other
    /// requests pass straight through. The async part scopes the trace's AsyncLocal to this request.
    /// </summary>
    private static Task BeginSetupTrace(HttpContext context, RequestDelegate next)
    {
        if (!HttpMethods.IsPost(context.Request.Method) || !context.Request.Path.Equals(CreateGroupPath, StringComparison.OrdinalIgnoreCase)) return next(context);
        return Traced(context, next);

        static async Task Traced(HttpContext context, RequestDelegate next)
        {
            Core.Southbound.SetupTrace.Begin();
            await next(context).ConfigureAwait(false);
        }
    }

    /// <summary>Declares a cleartext listener for <paramref name="url"/> (http://HOST:PORT; HOST an address, localhost, * or +).</summary>
    private static void Listen(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel, string url,
        Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols protocols)
    {
        var address = BindingAddress.Parse(url);
        if (!string.Equals(address.Scheme, "http", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"{url}: only http:// listeners are supported here.", nameof(url));
        void Configure(Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions o) => o.Protocols = protocols;
        string host = address.Host.Trim('[', ']');
        if (host is "*" or "+") kestrel.ListenAnyIP(address.Port, Configure);
        else if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)) kestrel.Listen(IPAddress.Loopback, address.Port, Configure);
        else kestrel.Listen(IPAddress.Parse(host), address.Port, Configure);
    }

    /// <summary>The controller's services (the graph <see cref="SubsetMulticastServiceCollectionExtensions.AddSubsetMulticast(IServiceCollection, ControllerOptions)"/> built).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Completes when the host stops (Ctrl-C is the caller's: cancel <paramref name="cancellationToken"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => _app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            try { await _app.StopAsync(timeout.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
        }
        var metrics = _app.Services.GetService<TsmMetrics>();
        await _app.DisposeAsync().ConfigureAwait(false);
        metrics?.Dispose();
    }

    private static Task WriteUnhandledAsync(HttpContext http)
    {
        var error = http.Features.Get<IExceptionHandlerFeature>()?.Error;
        if (error is BadHttpRequestException bad)
            return ApiProblems.WriteAsync(http, "bad-request", bad.StatusCode, "The request could not be read", bad.Message);
        return ApiProblems.WriteAsync(http, "internal-error", StatusCodes.Status500InternalServerError, "Internal error",
            "The controller failed while handling the request; no partial change was committed. See the controller's log.");
    }

    private static Task StatusProblemAsync(HttpContext http)
    {
        int status = http.Response.StatusCode;
        var (slug, title, detail) = status switch
        {
            404 => ("not-found", "No such resource", $"{http.Request.Method} {http.Request.Path}: no such resource; the API is under {ApiEndpoints.Prefix}."),
            405 => ("method-not-allowed", "Method not allowed", $"{http.Request.Path} does not accept {http.Request.Method}."),
            413 => ("body-too-large", "Request body too large", $"The body is larger than this controller accepts ({http.RequestServices.GetRequiredService<ApiSecurityPolicy>().MaxRequestBodyBytes} bytes)."),
            415 => ("unsupported-media-type", "Unsupported media type", "The body must be application/json."),
            _ => ("http-" + status, ReasonPhrases.GetReasonPhrase(status), $"{http.Request.Method} {http.Request.Path} failed with status {status}."),
        };
        return ApiProblems.WriteAsync(http, slug, status, title, detail);
    }
}
