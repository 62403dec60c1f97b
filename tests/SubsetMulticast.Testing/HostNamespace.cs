namespace SubsetMulticast.Testing;

/// <summary>A host: a network namespace with one veth to a switch, as every namespace testbed wires it.</summary>
public static class HostNamespace
{
    /// <summary>
    /// Creates namespace <paramref name="ns"/> and a veth pair: <paramref name="inner"/> inside it with
    /// <paramref name="cidr"/> and the multicast route, <paramref name="outer"/> in <paramref name="outerNs"/> (null:
    /// the caller's namespace) for the switch to take. Both ends are up with TX checksum offload off (testbed.md: with
    /// the userspace datapath it leaves UDP checksums unfilled). The caller removes the namespace, which removes the pair.
    /// </summary>
    public static void Create(string ns, string inner, string outer, string? outerNs, string cidr)
    {
        string at = outerNs is null ? "" : $"-n {outerNs} ";
        Shell.Check("ip", $"netns add {ns}");
        Shell.Check("ip", $"link add {outer} {(outerNs is null ? "" : $"netns {outerNs} ")}type veth peer name {inner} netns {ns}");
        Shell.Check("ip", $"-n {ns} addr add {cidr} dev {inner}");
        Shell.Check("ip", $"-n {ns} link set lo up");
        Shell.Check("ip", $"-n {ns} link set {inner} up");
        Shell.Check("ip", $"-n {ns} route add 224.0.0.0/4 dev {inner}");
        Shell.Check("ip", $"{at}link set {outer} up");
        if (outerNs is null) Shell.Check("ethtool", $"-K {outer} tx off");
        else Shell.Check("ip", $"netns exec {outerNs} ethtool -K {outer} tx off");
        Shell.Check("ip", $"netns exec {ns} ethtool -K {inner} tx off");
    }
}
