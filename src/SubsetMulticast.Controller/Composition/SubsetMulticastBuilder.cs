using Microsoft.Extensions.DependencyInjection;

namespace SubsetMulticast.Controller.Composition;

/// <summary>
/// What <see cref="SubsetMulticastServiceCollectionExtensions.AddSubsetMulticast"/> returns: the service
/// collection of one controller, for features to plug into with their own extension methods
/// (<c>.AddOpenFlowFabric(…)</c>, <c>.UseSouthbound(…)</c>, a group store, an endpoint, …).
/// A feature registers with <c>TryAdd*</c> where a default may be overridden, and with <c>Replace</c> where
/// it is the override.
/// </summary>
public interface ISubsetMulticastBuilder
{
    IServiceCollection Services { get; }
}

internal sealed class SubsetMulticastBuilder(IServiceCollection services) : ISubsetMulticastBuilder
{
    public IServiceCollection Services { get; } = services;
}
