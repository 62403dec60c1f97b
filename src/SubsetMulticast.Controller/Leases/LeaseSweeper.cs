using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Controller.Groups;

namespace SubsetMulticast.Controller.Leases;

/// <summary>
/// Every <see cref="ControllerOptions.SweepInterval"/> of the injected clock, releases groups whose lease has
/// run out (at most <see cref="ControllerOptions.SweepBatch"/> a sweep). A group whose release a switch
/// refuses stays, expired, and is tried again at the next sweep.
/// </summary>
internal sealed partial class LeaseSweeper(GroupCoordinator groups, ControllerOptions options, TimeProvider time, ILogger<LeaseSweeper> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.SweepInterval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            try
            {
                int released = await groups.ExpireDueAsync(options.SweepBatch, options.SweepParallelism).ConfigureAwait(false);
                if (released > 0) Log.Swept(log, released);
            }
            catch (Exception e)
            {
                Log.SweepFailed(log, e);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 200, Level = LogLevel.Debug, Message = "Lease sweep released {Count} group(s)")]
        public static partial void Swept(ILogger logger, int count);

        [LoggerMessage(EventId = 201, Level = LogLevel.Error, Message = "Lease sweep failed; retrying at the next interval")]
        public static partial void SweepFailed(ILogger logger, Exception exception);
    }
}
