using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SubsetMulticast.Controller.Dashboard;
using SubsetMulticast.Core.Audit;

namespace SubsetMulticast.Controller.Audit;

/// <summary>
/// Registers the <see cref="RuleAuditor"/> over every <see cref="IRuleAuditAdapter"/> the features add (the OpenFlow
/// fabric adds its own; an SNMP fabric adds <c>SnmpRuleAudit</c>), as the dashboard's <see cref="ISwitchAudit"/>, and the
/// periodic audit (<see cref="RuleAuditOptions.Interval"/>, on the injected <see cref="TimeProvider"/>).
/// </summary>
public static class RuleAuditComposition
{
    public static IServiceCollection TryAddRuleAudit(IServiceCollection services)
    {
        services.TryAddSingleton(sp => sp.GetRequiredService<ControllerOptions>().Audit);
        services.TryAddSingleton(sp => new RuleAuditor(sp.GetServices<IRuleAuditAdapter>(), sp.GetRequiredService<RuleAuditOptions>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<RuleAuditor>>()));
        services.TryAddSingleton<ISwitchAudit>(sp => sp.GetRequiredService<RuleAuditor>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PeriodicRuleAudit>());
        return services;
    }
}
