using System.Collections.Concurrent;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.Southbound;
using SubsetMulticast.OpenFlow.Bootstrap;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Southbound;

namespace SubsetMulticast.Controller.OpenFlowFabric;

/// <summary>
/// The rules each switch should hold according to the group store, handed to the southbound as its intended state
/// the first time a switch connects to this controller process: a controller restarted on a durable store (etcd)
/// reloads its groups, and reconciliation then keeps their rules on the switches (flow and group counters go on
/// counting) instead of deleting what it does not remember. Later reconnects keep the southbound's own record,
/// which follows every transaction. A new mastership (cluster) restores the switch again through <see cref="Restore"/>.
/// </summary>
public sealed class StoredGroupRules(IGroupStore store, OpenFlowSouthbound southbound)
{
    /// <summary>Just before the southbound reconciles (<see cref="BootstrapOrder.Reconcile"/>).</summary>
    public const int BootstrapOrderValue = BootstrapOrder.Reconcile - 50;

    private readonly ConcurrentDictionary<string, bool> _restored = new(StringComparer.Ordinal);

    /// <summary>Every rule the stored groups give <paramref name="switchId"/>.</summary>
    public List<GroupRule> RulesFor(string switchId)
    {
        var rules = new List<GroupRule>();
        foreach (var g in store.All())
            foreach (var s in g.Switches)
                if (s.SwitchId == switchId) rules.Add(g.RuleFor(s));
        return rules;
    }

    /// <summary>The bootstrap step: the first connect of a switch restores its stored rules as intended.</summary>
    public Task<bool> OnConnectAsync(OpenFlowSession session, CancellationToken cancellationToken)
    {
        if (_restored.TryAdd(session.SwitchId, true)) Restore(session.SwitchId);
        return Task.FromResult(true);
    }

    /// <summary>Makes the stored groups' rules what the southbound intends <paramref name="switchId"/> to hold.</summary>
    public void Restore(string switchId) => southbound.RestoreIntended(switchId, RulesFor(switchId));
}
