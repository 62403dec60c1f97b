using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using SubsetMulticast.Controller.Composition;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.Emulator;
using SubsetMulticast.Learning;
using SubsetMulticast.Push;

namespace SubsetMulticast.Cli.Emulated;

/// <summary>The controller on an in-process emulated fabric (<c>tsm serve</c> without --openflow, <c>tsm demo</c>).</summary>
public static class EmulatedFabricComposition
{
    /// <summary>
    /// The controller's fabric model is <paramref name="learner"/>, fed from <paramref name="fabric"/>'s control frames
    /// (<see cref="EmulatedFabricFeed"/>, made by the caller before the hosts speak); rules go to the emulated switches
    /// (computed mode) or to their push agents (pushed mode). With the host, the learner's snooping timers run every
    /// second and, when <paramref name="keepJoined"/> is given, every host re-reports that membership every minute as
    /// a querier's general query would make it (the emulated fabric has no querier): without that the learned
    /// memberships would expire after the group membership interval (260 s).
    /// </summary>
    public static ISubsetMulticastBuilder AddEmulatedFabric(this ISubsetMulticastBuilder builder, EmulatedFabric fabric, FabricLearner learner,
        PushKeyRing keys, IpAddress? keepJoined = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var southbound = new EmulatorSouthbound(fabric, keys);
        builder.UseFabricModel(learner.References, learner.Hosts).UseSouthbound(southbound).UsePushTarget(southbound);
        builder.Services.TryAddSingleton(learner);
        builder.Services.TryAddSingleton(fabric);
        builder.Services.AddHostedService(sp => new EmulatedFabricUpkeep(fabric, learner, keepJoined, sp.GetRequiredService<TimeProvider>()));
        return builder;
    }

    private sealed class EmulatedFabricUpkeep(EmulatedFabric fabric, FabricLearner learner, IpAddress? keepJoined, TimeProvider time) : BackgroundService
    {
        private const int ReaffirmEverySeconds = 60; // well inside the 260 s membership interval, as a 125 s query interval is

        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
            try
            {
                for (long second = 1; await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false); second++)
                {
                    if (keepJoined is { } group && second % ReaffirmEverySeconds == 0)
                        foreach (var h in fabric.Hosts) fabric.Reaffirm(h, group);
                    learner.Tick();
                }
            }
            catch (OperationCanceledException) { }
        }
    }
}
