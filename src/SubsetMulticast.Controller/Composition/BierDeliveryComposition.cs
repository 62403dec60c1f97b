using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Bier.Delivery;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.ReferenceGroups;

namespace SubsetMulticast.Controller.Composition;

/// <summary>BIER delivery of rendezvous groups (<c>"delivery":"bier"</c> on POST /groups): the planner and the hosts' BFR-ids.</summary>
public static class BierDeliveryComposition
{
    /// <summary>BIER answers with BitStrings of <paramref name="bsl"/> bits in <paramref name="subDomain"/> (the default is 256 in sub-domain 0).</summary>
    public static ISubsetMulticastBuilder UseBierDelivery(this ISubsetMulticastBuilder builder, BitStringLength bsl, int subDomain = 0, BfrIdTable? ids = null)
    {
        if (ids is not null) builder.Services.Replace(ServiceDescriptor.Singleton(ids));
        builder.Services.Replace(ServiceDescriptor.Singleton(sp => Planner(sp, bsl, subDomain)));
        return builder;
    }

    internal static void TryAddBierDelivery(IServiceCollection services)
    {
        services.TryAddSingleton<BfrIdTable>();
        services.TryAddSingleton(sp => Planner(sp, BitStringLength.Bits256, 0));
    }

    private static BierDeliveryPlanner Planner(IServiceProvider sp, BitStringLength bsl, int subDomain) =>
        new(sp.GetRequiredService<ReferenceGroupTable>(), sp.GetRequiredService<HostTable>(), sp.GetRequiredService<BfrIdTable>(), bsl, subDomain);
}
