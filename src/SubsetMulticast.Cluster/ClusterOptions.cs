namespace SubsetMulticast.Cluster;

/// <summary>One controller's place in a cluster (<c>tsm serve … --cluster etcd=URL --node-id N</c>).</summary>
public sealed record ClusterOptions
{
    /// <summary>This controller's name in the cluster; unique among the live nodes. Group ids carry it.</summary>
    public required string NodeId { get; init; }

    /// <summary>
    /// The TTL of this node's etcd lease, in whole seconds: its masterships end this long (plus etcd's expiry check,
    /// ≤ 0.5 s) after it dies. etcd's minimum is ⌈1.5 × its election timeout⌉ (2 s at the default 1000 ms; 1 s with
    /// <c>--election-timeout 500</c>).
    /// </summary>
    public int NodeTtlSeconds { get; init; } = 2;

    /// <summary>How long a transaction waits for the masters of its switches to confirm it before it is taken back (502).</summary>
    public TimeSpan ApplyTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a node that is not the first choice for a masterless switch (rendezvous hashing over the live nodes)
    /// waits per rank before claiming it: the first choice claims at once, so masterships spread over the nodes.
    /// </summary>
    public TimeSpan ClaimStagger { get; init; } = TimeSpan.FromMilliseconds(150);

    /// <summary>
    /// How long a switch may take to answer a role request: one that has not answered by then has not taken the role
    /// (its claim is let go and made again on the next sweep).
    /// </summary>
    public TimeSpan RoleTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>This node's REST API, advertised to the others (informational: any node accepts any request).</summary>
    public string? ApiUrl { get; set; }
}
