using SubsetMulticast.Cluster.Etcd;
using SubsetMulticast.Core.Southbound;

namespace SubsetMulticast.Cluster;

/// <summary>
/// The southbound of a cluster node's transactions. The group record is already in etcd (the coordinator's journal
/// wrote it); every node's watch applies it to the switches that node masters and then advances its
/// <c>applied/{node}</c> mark. A transaction succeeds once the master of every switch it touches has applied its
/// revision; otherwise, after <see cref="ClusterOptions.ApplyTimeout"/>, it fails naming the switches whose master did not
/// confirm, and the coordinator takes the record back out (the masters then remove whatever they had put).
/// </summary>
public sealed class ClusterSouthbound(ClusterNode node, EtcdGroupStore store, ClusterOptions options, TimeProvider time) : ISouthbound
{
    public string Name => "cluster";

    public async ValueTask<SouthboundResult> ApplyAsync(IReadOnlyList<SwitchChange> changes, CancellationToken cancellationToken)
    {
        long revision = store.LastRevision;
        var switches = changes.Select(c => c.SwitchId).Distinct(StringComparer.Ordinal).ToList();
        long start = time.GetTimestamp();
        for (int round = 0; ; round++)
        {
            var changed = node.Changed; // taken before looking: a change between the look and the wait is not missed
            var waiting = switches.Where(s => !node.Confirmed(s, revision)).ToList();
            if (waiting.Count == 0) return SouthboundResult.Success;
            var left = options.ApplyTimeout - time.GetElapsedTime(start);
            if (left <= TimeSpan.Zero || round > 100_000)
                return new SouthboundResult(false, [.. waiting.Select(s => new SwitchFailure(s, node.Masters.TryGetValue(s, out var m)
                    ? $"its master {m.Node} did not confirm revision {revision} within {options.ApplyTimeout.TotalSeconds:0.#} s"
                    : $"no controller of the cluster became its master within {options.ApplyTimeout.TotalSeconds:0.#} s"))]);
            try { await changed.WaitAsync(left, time, cancellationToken).ConfigureAwait(false); }
            catch (TimeoutException) { }
        }
    }
}
