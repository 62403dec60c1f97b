using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
        return builder;
    }
}
