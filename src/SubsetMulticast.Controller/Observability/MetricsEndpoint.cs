using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry.Metrics;

namespace SubsetMulticast.Controller.Observability;

/// <summary>
/// GET /metrics in the Prometheus text format, through OpenTelemetry's Prometheus exporter: it reads the
/// System.Diagnostics.Metrics instruments directly (no second metrics model), honours their units and histogram
/// advice, and the same pipeline can later export OTLP. Only this host's <see cref="TsmMetrics.Meter"/> is exported:
/// the exporter listens by meter name process-wide, so a view drops instruments of any other instance (tests run
/// several controllers in one process).
/// </summary>
public static class MetricsEndpoint
{
    public const string Path = "/metrics";

    /// <summary>Registers this controller's <see cref="TsmMetrics"/> and the exporter reading only its meter.</summary>
    public static IServiceCollection AddTsmMetrics(this IServiceCollection services)
    {
        // Made here, not by the container, because the exporter's view must know this very meter; the host disposes it.
        var metrics = new TsmMetrics();
        services.Replace(ServiceDescriptor.Singleton(metrics));
        services.AddOpenTelemetry().WithMetrics(b => b
            .AddMeter(TsmMetrics.MeterName)
            .AddView(instrument => ReferenceEquals(instrument.Meter, metrics.Meter) ? null : MetricStreamConfiguration.Drop)
            // A scrape reads the instruments now: the exporter's default 300 ms response cache would hide a change
            // made just before it, and scrapes are rare enough not to need it.
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        return services;
    }

    /// <summary>
    /// Maps GET /metrics and attaches the instruments that observe the controller's parts present in this graph
    /// (push endpoint, learner, OpenFlow listener and southbound); call before the host starts, so that the
    /// listener's first packet-in is counted.
    /// </summary>
    public static IEndpointRouteBuilder MapTsmMetrics(this IEndpointRouteBuilder app)
    {
        app.ServiceProvider.GetRequiredService<TsmMetrics>().ObserveServices(app.ServiceProvider);
        app.MapPrometheusScrapingEndpoint(Path);
        return app;
    }
}
