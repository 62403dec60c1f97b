using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.OpenFlow.Bootstrap;

/// <summary>One thing done to a switch when it (re)connects; see <see cref="SwitchBootstrap"/>.</summary>
public interface ISwitchBootstrapStep
{
    /// <summary>Where in the pipeline the step runs (<see cref="BootstrapOrder"/>): lower first.</summary>
    int Order { get; }

    /// <summary>For logs: "reconcile", "punt flows", …</summary>
    string Name { get; }

    /// <summary>Does the step; returns false when the switch cannot go on (e.g. refused its punt flows and was disconnected).</summary>
    Task<bool> RunAsync(OpenFlowSession session, CancellationToken cancellationToken);
}

/// <summary>
/// The order of the bootstrap steps, and why:
/// the model first (the learner knows the switch and its ports, so every later step and the planner can place it);
/// then our group rules reconciled (after an ovs-vswitchd restart the groups' rules come back before anything else
/// can send group traffic their way); then the punt flows (the switch's IGMP/MLD/ARP/ND and LLDP reach us); then the
/// unregistered-group flows (a block address without a rule goes to the router ports, not NORMAL's flood — after
/// the group rules, whose priority is above them); LLDP probes last, once this switch punts its neighbours' probes.
/// </summary>
public static class BootstrapOrder
{
    public const int Learner = 100;
    public const int Reconcile = 200;
    public const int PuntFlows = 300;
    public const int UnregisteredGroupFlows = 400;
    public const int Lldp = 500;
}

/// <summary>
/// The one subscriber to <see cref="OpenFlowListener.SwitchConnected"/> that writes to a switch: it runs the
/// <see cref="ISwitchBootstrapStep"/>s in <see cref="ISwitchBootstrapStep.Order"/>, one after the other for that
/// switch (switches in parallel). A step that fails is logged and the next one runs, unless the session is gone
/// or the step said the switch cannot go on.
/// </summary>
public sealed partial class SwitchBootstrap : IAsyncDisposable
{
    private readonly OpenFlowListener _listener;
    private readonly ISwitchBootstrapStep[] _steps;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private int _disposed;

    public SwitchBootstrap(OpenFlowListener listener, IEnumerable<ISwitchBootstrapStep> steps, ILoggerFactory? loggers = null)
    {
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentNullException.ThrowIfNull(steps);
        _listener = listener;
        _steps = [.. steps.OrderBy(s => s.Order)];
        _logger = (loggers ?? NullLoggerFactory.Instance).CreateLogger("SubsetMulticast.OpenFlow.Bootstrap");
        listener.SwitchConnected += OnConnected;
    }

    /// <summary>The steps, in the order they run.</summary>
    public IReadOnlyList<ISwitchBootstrapStep> Steps => _steps;

    /// <summary>Raised when a switch has been through every step (or stopped early): switch id, the steps that ran in order, and whether all succeeded.</summary>
    public event Action<string, IReadOnlyList<string>, bool>? Completed;

    private void OnConnected(OpenFlowSession session) => _ = RunAsync(session);

    /// <summary>Runs the pipeline for <paramref name="session"/>; never throws for a switch that fails.</summary>
    public async Task RunAsync(OpenFlowSession session)
    {
        var ran = new List<string>(_steps.Length);
        bool allDone = true;
        foreach (var step in _steps)
        {
            if (_stop.IsCancellationRequested || session.IsClosed) { allDone = false; break; }
            ran.Add(step.Name);
            bool goOn;
            try
            {
                goOn = await step.RunAsync(session, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OpenFlowSessionException or TimeoutException or OperationCanceledException or ObjectDisposedException or OpenFlowFormatException)
            {
                Log.StepFailed(_logger, session.SwitchId, step.Name, e.Message);
                allDone = false;
                continue;
            }
            if (!goOn) { allDone = false; break; }
        }
        Log.Bootstrapped(_logger, session.SwitchId, string.Join(" → ", ran));
        Completed?.Invoke(session.SwitchId, ran, allDone);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _listener.SwitchConnected -= OnConnected;
        await _stop.CancelAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "Switch {Switch}: bootstrap step '{Step}' failed: {Error}")]
        public static partial void StepFailed(ILogger logger, string @switch, string step, string error);

        [LoggerMessage(EventId = 401, Level = LogLevel.Debug, Message = "Switch {Switch} bootstrapped: {Steps}")]
        public static partial void Bootstrapped(ILogger logger, string @switch, string steps);
    }
}

/// <summary>A bootstrap step made of a delegate (the OpenFlow steps and the controller's).</summary>
public sealed class SwitchBootstrapStep(int order, string name, Func<OpenFlowSession, CancellationToken, Task<bool>> run) : ISwitchBootstrapStep
{
    public int Order { get; } = order;
    public string Name { get; } = name;
    public Task<bool> RunAsync(OpenFlowSession session, CancellationToken cancellationToken) => run(session, cancellationToken);
}
