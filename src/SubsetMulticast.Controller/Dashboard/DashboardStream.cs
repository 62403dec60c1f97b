using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Controller.Api;
using SubsetMulticast.Controller.Groups;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.ReferenceGroups;

namespace SubsetMulticast.Controller.Dashboard;

/// <summary>
/// One dashboard's server-sent event stream: <c>snapshot</c> first (subscribed to the change feed before it
/// was taken, so no change falls between), then <c>group</c> for each committed create/refresh/release/expiry
/// as it is published, <c>fabric</c> when the topology, hosts or reference groups changed, <c>figures</c> once
/// a second while they change. The fabric has no change event of its own yet (the learner rebuilds it in place),
/// so the stream compares it each second by identity: immutable topology and reference-group snapshots, and
/// the host table's contents.
/// </summary>
public sealed partial class DashboardStream(
    GroupCoordinator groups, ReferenceGroupTable references, HostTable hosts, GroupChangeFeed feed,
    IDashboardFigures figures, ISwitchAudit audit, TimeProvider time, ILogger<DashboardStream> log)
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);

    public async Task RunAsync(HttpContext http, CancellationToken stopping)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping);
        var ct = cancel.Token;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var body = http.Response.Body;
        try
        {
            await WriteAsync(body, "retry", null, "2000\n", ct).ConfigureAwait(false);
            while (!ct.IsCancellationRequested)
            {
                // A reader cut off for falling behind starts again here, from a fresh snapshot.
                using var subscription = feed.Subscribe();
                var fabric = FabricState.Read(references, hosts);
                await SendAsync(body, "snapshot", Snapshot(), DashboardJsonContext.Default.DashboardSnapshot, ct).ConfigureAwait(false);
                Log.Opened(log, http.Connection.RemoteIpAddress?.ToString() ?? "?");
                if (!await StreamChangesAsync(body, subscription, fabric, ct).ConfigureAwait(false)) return;
                Log.Resync(log);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (IOException) { } // the browser went away mid-write
    }

    /// <returns>True when the reader fell behind and must start again from a snapshot; false when the stream ends.</returns>
    private async Task<bool> StreamChangesAsync(Stream body, GroupChangeSubscription subscription, FabricState fabric, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(Tick, time);
        var reader = subscription.Reader;
        FiguresView lastFigures = figures.Read(groups.All().Count);
        long lastWrite = time.GetTimestamp();
        Task<bool>? readable = null;
        Task<bool>? tick = null;
        while (!ct.IsCancellationRequested)
        {
            readable ??= reader.WaitToReadAsync(ct).AsTask();
            tick ??= timer.WaitForNextTickAsync(ct).AsTask();
            var woke = await Task.WhenAny(readable, tick).ConfigureAwait(false);
            if (woke == readable)
            {
                readable = null;
                bool open;
                try
                {
                    open = await woke.ConfigureAwait(false);
                }
                catch (FeedOverflowException)
                {
                    return true;
                }
                if (!open) return false;
                while (reader.TryRead(out var change))
                {
                    lastFigures = figures.Read(groups.All().Count);
                    await SendAsync(body, "group", View(change, lastFigures), DashboardJsonContext.Default.GroupChangeView, ct).ConfigureAwait(false);
                }
                lastWrite = time.GetTimestamp();
                continue;
            }
            tick = null;
            if (!await woke.ConfigureAwait(false)) return false;
            var now = FabricState.Read(references, hosts);
            if (!now.SameAs(fabric))
            {
                fabric = now;
                var update = new FabricUpdate(TopologyView.From(references.Topology, hosts), References(), Audit());
                await SendAsync(body, "fabric", update, DashboardJsonContext.Default.FabricUpdate, ct).ConfigureAwait(false);
                lastWrite = time.GetTimestamp();
            }
            var f = figures.Read(groups.All().Count);
            if (f != lastFigures)
            {
                lastFigures = f;
                await SendAsync(body, "figures", f, DashboardJsonContext.Default.FiguresView, ct).ConfigureAwait(false);
                lastWrite = time.GetTimestamp();
            }
            else if (time.GetElapsedTime(lastWrite) >= Heartbeat)
            {
                await WriteAsync(body, null, null, null, ct).ConfigureAwait(false); // a comment keeps proxies from timing the stream out
                lastWrite = time.GetTimestamp();
            }
        }
        return false;
    }

    private DashboardSnapshot Snapshot()
    {
        var live = groups.All();
        return new DashboardSnapshot(
            TopologyView.From(references.Topology, hosts),
            References(),
            [.. live.Select(g => GroupView.From(g, figures.TryGetSetupMicros(g.Id, out var m) ? m : null))],
            figures.Read(live.Count),
            Audit(),
            time.GetUtcNow());
    }

    private ReferenceGroupView[] References() => [.. references.All().Select(r => ReferenceGroupView.From(r, references.Topology))];

    private AuditView Audit() => audit.TryRead(out var verdicts) ? new AuditView(true, [.. verdicts]) : new AuditView(false, []);

    private static GroupChangeView View(GroupChange c, FiguresView figures) => new(
        c.Kind switch
        {
            GroupChangeKind.Created => "created",
            GroupChangeKind.Refreshed => "refreshed",
            GroupChangeKind.Released => "released",
            GroupChangeKind.Expired => "expired",
            _ => c.Kind.ToString(),
        },
        GroupView.From(c.Group, c.SetupMicros), c.Superseded, figures);

    private static Task SendAsync<T>(Stream body, string name, T value, JsonTypeInfo<T> type, CancellationToken ct) =>
        WriteAsync(body, name, JsonSerializer.Serialize(value, type), null, ct);

    /// <summary>One SSE message: <c>event:</c> and one <c>data:</c> line (JSON has no raw newlines), or a raw field, or a comment.</summary>
    private static async Task WriteAsync(Stream body, string? name, string? data, string? raw, CancellationToken ct)
    {
        var text = new StringBuilder();
        if (raw is not null) text.Append(name).Append(": ").Append(raw);
        else if (name is null) text.Append(": keep-alive\n");
        else text.Append("event: ").Append(name).Append("\ndata: ").Append(data).Append('\n');
        text.Append('\n');
        await body.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), ct).ConfigureAwait(false);
        await body.FlushAsync(ct).ConfigureAwait(false);
    }

    /// <summary>What the last fabric message showed: the topology and reference-group snapshots (immutable, replaced on change) and a digest of the hosts.</summary>
    private sealed record FabricState(FabricTopology Topology, ReferenceGroup[] References, int HostCount, long HostDigest)
    {
        public static FabricState Read(ReferenceGroupTable references, HostTable hosts)
        {
            int count = 0;
            long digest = 0;
            foreach (var h in hosts.All())
            {
                count++;
                digest += h.GetHashCode(); // order-free
            }
            return new FabricState(references.Topology, [.. references.All()], count, digest);
        }

        public bool SameAs(FabricState other) =>
            ReferenceEquals(Topology, other.Topology) && HostCount == other.HostCount && HostDigest == other.HostDigest
            && References.Length == other.References.Length
            && References.Zip(other.References).All(p => ReferenceEquals(p.First, p.Second));
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, Level = LogLevel.Debug, Message = "Dashboard stream opened for {Remote}")]
        public static partial void Opened(ILogger logger, string remote);

        [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "A dashboard stream fell behind the group change feed; it starts again from a snapshot")]
        public static partial void Resync(ILogger logger);
    }
}
