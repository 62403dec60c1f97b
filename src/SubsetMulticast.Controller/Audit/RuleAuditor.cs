using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Controller.Dashboard;
using SubsetMulticast.Core.Audit;

namespace SubsetMulticast.Controller.Audit;

/// <summary>Settings of the rule audit.</summary>
public sealed class RuleAuditOptions
{
    /// <summary>How often the periodic audit runs (read-only, no repair); null turns it off.</summary>
    public TimeSpan? Interval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How many switches are read at once.</summary>
    public int Parallelism { get; set; } = 32;
}

/// <summary>One audit run over some switches.</summary>
public sealed record RuleAuditRun(DateTimeOffset StartedAt, TimeSpan Duration, bool Repair, IReadOnlyList<SwitchAuditReport> Reports);

/// <summary>Per switch: the latest report and the run history (as ODL's reconciliation counters).</summary>
public sealed record SwitchAuditHistory(SwitchAuditReport Latest, DateTimeOffset? LastSuccessAt, int SuccessCount, int FailureCount, int ConsecutiveFailures);

/// <summary>
/// Compares intended and installed rules on every switch through each southbound's <see cref="IRuleAuditAdapter"/>
/// (OpenFlow, SNMP), switches in parallel, and keeps each switch's latest report and history. It feeds /api/v1/audit,
/// <c>tsm audit</c>, the metrics and the dashboard (<see cref="ISwitchAudit"/>). A run "succeeds" for a switch when the
/// switch could be read and holds exactly what is intended.
/// </summary>
public sealed partial class RuleAuditor : ISwitchAudit
{
    private readonly IRuleAuditAdapter[] _adapters;
    private readonly RuleAuditOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<(string Adapter, string Switch), SwitchAuditHistory> _history = new();
    private long _runs;

    public RuleAuditor(IEnumerable<IRuleAuditAdapter> adapters, RuleAuditOptions options, TimeProvider time, ILogger<RuleAuditor> logger)
    {
        _adapters = [.. adapters];
        _options = options;
        _time = time;
        _logger = logger;
    }

    public IReadOnlyList<IRuleAuditAdapter> Adapters => _adapters;

    /// <summary>Audit runs completed since start.</summary>
    public long Runs => Interlocked.Read(ref _runs);

    /// <summary>The most recent run, or null before the first.</summary>
    public RuleAuditRun? LastRun { get; private set; }

    /// <summary>Raised after every run (the metrics record it).</summary>
    public event Action<RuleAuditRun>? Completed;

    /// <summary>Every (adapter, switch) the audit can look at, in a stable order (adapter, then switch id).</summary>
    public IReadOnlyList<(IRuleAuditAdapter Adapter, string Switch)> Targets() =>
        [.. _adapters.SelectMany(a => a.Switches.Select(s => (a, s))).OrderBy(t => t.a.Name, StringComparer.Ordinal).ThenBy(t => t.s, StringComparer.Ordinal)];

    /// <summary>Audits <paramref name="targets"/> (all when null), switches in parallel; with <paramref name="repair"/> converges each.</summary>
    public async Task<RuleAuditRun> RunAsync(IReadOnlyList<(IRuleAuditAdapter Adapter, string Switch)>? targets, bool repair, CancellationToken ct)
    {
        targets ??= Targets();
        var startedAt = _time.GetUtcNow();
        long start = _time.GetTimestamp();
        var reports = new SwitchAuditReport[targets.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, targets.Count), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.Parallelism), CancellationToken = ct },
            async (i, token) => reports[i] = await targets[i].Adapter.AuditAsync(targets[i].Switch, repair, token).ConfigureAwait(false)).ConfigureAwait(false);
        var run = new RuleAuditRun(startedAt, _time.GetElapsedTime(start), repair, reports);
        foreach (var r in reports) Remember(r);
        LastRun = run;
        Interlocked.Increment(ref _runs);
        int differing = reports.Count(r => !r.InSync);
        Log.Audited(_logger, reports.Length, differing, run.Duration.TotalMilliseconds, repair);
        Completed?.Invoke(run);
        return run;
    }

    private void Remember(SwitchAuditReport r)
    {
        // After a repair the report lists what was found before it; the switch is in sync when every finding was repaired.
        bool ok = r.Error is null && (r.InSync || (r.RepairRequested && r.Items.All(i => i.Action == RuleAuditAction.Repaired) && r.Unverifiable == 0));
        _history.AddOrUpdate((r.Adapter, r.SwitchId),
            _ => new SwitchAuditHistory(r, ok ? r.StartedAt : null, ok ? 1 : 0, ok ? 0 : 1, ok ? 0 : 1),
            (_, h) => new SwitchAuditHistory(r, ok ? r.StartedAt : h.LastSuccessAt, h.SuccessCount + (ok ? 1 : 0), h.FailureCount + (ok ? 0 : 1), ok ? 0 : h.ConsecutiveFailures + 1));
    }

    public bool TryGetHistory(string adapter, string switchId, out SwitchAuditHistory history) => _history.TryGetValue((adapter, switchId), out history!);

    /// <summary>The latest report of every switch audited so far.</summary>
    public IReadOnlyList<SwitchAuditHistory> Latest() => [.. _history.Values.OrderBy(h => h.Latest.Adapter, StringComparer.Ordinal).ThenBy(h => h.Latest.SwitchId, StringComparer.Ordinal)];

    /// <summary>The dashboard's view: "ok", "mismatch" (something missing, extra or modified) or "unverifiable".</summary>
    public bool TryRead(out IReadOnlyList<SwitchAuditView> verdicts)
    {
        if (_adapters.Length == 0 || LastRun is null) { verdicts = []; return false; }
        verdicts = [.. Latest().Select(h => new SwitchAuditView(h.Latest.SwitchId, Status(h.Latest), Detail(h.Latest), h.Latest.StartedAt))];
        return true;
    }

    private static string Status(SwitchAuditReport r) =>
        r.Error is not null || r.Unverifiable > 0 ? "unverifiable" : r.InSync ? "ok" : r.RepairRequested && r.Items.All(i => i.Action == RuleAuditAction.Repaired) ? "ok" : "mismatch";

    private static string Detail(SwitchAuditReport r) =>
        r.Error ?? $"{r.Matched}/{r.Expected} matched, {r.Missing} missing, {r.Extra} extra, {r.Modified} modified{(r.RepairRequested ? $", {r.Repaired} repaired" : "")}";

    /// <summary>Instruments: runs and their duration, and the latest findings per category (summed over switches).</summary>
    public void Observe(Meter meter)
    {
        var runs = meter.CreateCounter<long>("tsm.audit.runs", "{run}", "Rule audits run (periodic, API and CLI), by whether they repaired.");
        var duration = meter.CreateHistogram<double>("tsm.audit.duration", "s", "Time one audit run took over all its switches.");
        var repaired = meter.CreateCounter<long>("tsm.audit.repaired", "{rule}", "Rules an audit with repair fixed.");
        Completed += run =>
        {
            var tag = new KeyValuePair<string, object?>("repair", run.Repair);
            runs.Add(1, tag);
            duration.Record(run.Duration.TotalSeconds, tag);
            long n = run.Reports.Sum(r => (long)r.Repaired);
            if (n > 0) repaired.Add(n);
        };
        meter.CreateObservableGauge("tsm.audit.rules", () =>
        {
            var latest = Latest();
            return new[]
            {
                Category("expected", latest.Sum(h => (long)h.Latest.Expected)),
                Category("observed", latest.Sum(h => (long)h.Latest.Observed)),
                Category("matched", latest.Sum(h => (long)h.Latest.Matched)),
                Category("missing", latest.Sum(h => (long)h.Latest.Missing)),
                Category("extra", latest.Sum(h => (long)h.Latest.Extra)),
                Category("modified", latest.Sum(h => (long)h.Latest.Modified)),
                Category("unverifiable", latest.Sum(h => (long)h.Latest.Unverifiable)),
            };
        }, "{rule}", "Rules by category in each switch's latest audit, summed over switches.");
        meter.CreateObservableGauge("tsm.audit.switches_out_of_sync", () => (long)Latest().Count(h => !h.Latest.InSync), "{switch}",
            "Switches whose latest audit found a difference or could not read them.");
        static Measurement<long> Category(string c, long v) => new(v, new KeyValuePair<string, object?>("category", c));
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "Rule audit: {Switches} switches, {Differing} differ, {Ms:0.0} ms (repair: {Repair})")]
        public static partial void Audited(ILogger logger, int switches, int differing, double ms, bool repair);
    }
}

/// <summary>The periodic audit: every <see cref="RuleAuditOptions.Interval"/> on the injected clock, read-only.</summary>
internal sealed class PeriodicRuleAudit(RuleAuditor auditor, RuleAuditOptions options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Interval is not { } interval || interval <= TimeSpan.Zero) return;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(interval, time, stoppingToken).ConfigureAwait(false);
                await auditor.RunAsync(null, repair: false, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) { }
    }
}
