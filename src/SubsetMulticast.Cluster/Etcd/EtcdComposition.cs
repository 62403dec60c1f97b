using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Controller.Composition;
using SubsetMulticast.Controller.Groups;
using SubsetMulticast.Core.Lifecycle;

namespace SubsetMulticast.Cluster.Etcd;

public static class EtcdComposition
{
    /// <summary>
    /// Groups live in etcd: <paramref name="store"/> (opened, so its groups are loaded) is the lifecycle's store and
    /// the coordinator's journal. A restarted controller starts from the groups it finds there, and the OpenFlow
    /// fabric takes their rules as the switches' intended state before reconciling them.
    /// </summary>
    public static ISubsetMulticastBuilder UseEtcdGroupStore(this ISubsetMulticastBuilder builder, EtcdGroupStore store)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(store);
        builder.Services.Replace(ServiceDescriptor.Singleton<IGroupStore>(store));
        builder.Services.Replace(ServiceDescriptor.Singleton<IGroupJournal>(store));
        // The store was opened before the host existed: it logs with the controller's logging from the start on.
        // (Instances, not factories: the container must not dispose a store its caller owns.)
        builder.Services.AddSingleton<IHostedService>(sp => new StoreLogging(store, sp.GetService<ILoggerFactory>()));
        return builder;
    }

    private sealed class StoreLogging(EtcdGroupStore store, ILoggerFactory? logging) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            if (logging is not null) store.UseLogging(logging);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
