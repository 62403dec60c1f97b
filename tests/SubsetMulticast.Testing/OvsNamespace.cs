using System.Net;

namespace SubsetMulticast.Testing;

/// <summary>
/// A "switch" network namespace holding a <see cref="PrivateOvs"/> (its ovs-vswitchd inside it, so it has its own
/// "ovs-netdev" device and runs beside any other Open vSwitch on the machine, in parallel tests and assemblies), hosts
/// in namespaces of their own wired to its bridges by veths, and /30 management links from the root namespace (or a
/// host) into it, over which a controller in the root namespace is reached. Every name carries the tag (interface
/// names stay ≤ 15 characters); <see cref="Dispose"/> stops only our daemons (by pid) and removes our namespaces and
/// links in every outcome.
/// </summary>
public sealed class OvsNamespace : IDisposable
{
    private readonly List<string> _namespaces = [];
    private readonly List<string> _rootLinks = [];
    private int _disposed;

    /// <param name="prefix">Two letters naming the test family, the start of every name.</param>
    public OvsNamespace(string prefix)
    {
        Shell.Require("ip", "iproute2");
        Shell.Require("ethtool", "ethtool");
        Tag = prefix + Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next()))[..4].ToLowerInvariant();
        SwitchNs = Tag + "sw";
        Ovs = new PrivateOvs(Tag, SwitchNs);
        try
        {
            AddNamespace(SwitchNs);
            Shell.Check("ip", $"-n {SwitchNs} link set lo up");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Tag { get; }
    public string SwitchNs { get; }
    public PrivateOvs Ovs { get; }
    public string Dir => Ovs.Dir;

    /// <summary>The root-namespace address of the first <see cref="ManagementLink"/> to the root namespace: where a controller in the root namespace listens.</summary>
    public IPAddress ControllerAddress { get; private set; } = IPAddress.None;

    public string HostIface(int index) => $"{Tag}i{index}";
    public string SwitchSide(int index) => $"{Tag}s{index}";

    /// <summary>
    /// A /30 between <paramref name="ns"/> (null: the root namespace) and the switch namespace, from a random block
    /// in 10.252.0.0/14 so parallel labs do not share a subnet; returns (near side, switch side) addresses.
    /// </summary>
    public (string Near, string Switch) ManagementLink(string suffix, string? ns)
    {
        int net = Random.Shared.Next(0, 1 << 16) * 4;
        string prefix = $"10.{252 + (net >> 16)}.{net >> 8 & 0xFF}.";
        string a = prefix + ((net & 0xFF) + 1), b = prefix + ((net & 0xFF) + 2);
        string near = Tag + suffix + "n", far = Tag + suffix + "f";
        string on = ns is null ? "" : $"-n {ns} ";
        Shell.Check("ip", $"link add {near} {(ns is null ? "" : $"netns {ns}")} type veth peer name {far} netns {SwitchNs}");
        if (ns is null) _rootLinks.Add(near);
        Shell.Check("ip", $"{on}addr add {a}/30 dev {near}");
        Shell.Check("ip", $"{on}link set {near} up");
        Shell.Check("ip", $"-n {SwitchNs} addr add {b}/30 dev {far}");
        Shell.Check("ip", $"-n {SwitchNs} link set {far} up");
        if (ns is null && ControllerAddress.Equals(IPAddress.None)) ControllerAddress = IPAddress.Parse(a);
        return (a, b);
    }

    /// <summary>A bridge (secure fail mode) whose controller is <paramref name="controller"/>, e.g. "tcp:10.252.0.1:6653".</summary>
    public string AddBridge(string suffix, ulong dpid, string controller)
    {
        string br = Tag + suffix;
        Ovs.AddBridge(br, dpid);
        Ovs.Vsctl($"set-controller {br} {controller}");
        return br;
    }

    /// <summary>Host <paramref name="index"/>: a namespace, <paramref name="subnet"/>.index/24, on OpenFlow port <paramref name="ofport"/> of <paramref name="bridge"/>.</summary>
    public string AddHost(string bridge, int index, int ofport, string subnet = "10.77.0")
    {
        string ns = $"{Tag}h{index}", inner = HostIface(index), outer = SwitchSide(index);
        _namespaces.Add(ns);
        HostNamespace.Create(ns, inner, outer, SwitchNs, $"{subnet}.{index}/24");
        Ovs.Vsctl($"add-port {bridge} {outer} -- set interface {outer} ofport_request={ofport}");
        return ns;
    }

    /// <summary>Wires two bridges with a veth pair (inside the switch namespace) on the given OpenFlow ports.</summary>
    public void Link(string bridgeA, int portA, string bridgeB, int portB, int index)
    {
        string a = $"{Tag}l{index}a", b = $"{Tag}l{index}b";
        Shell.Check("ip", $"link add {a} netns {SwitchNs} type veth peer name {b} netns {SwitchNs}");
        foreach (var x in new[] { a, b })
        {
            Shell.Check("ip", $"-n {SwitchNs} link set {x} up");
            Shell.Check("ip", $"netns exec {SwitchNs} ethtool -K {x} tx off");
        }
        Ovs.Vsctl($"add-port {bridgeA} {a} -- set interface {a} ofport_request={portA}");
        Ovs.Vsctl($"add-port {bridgeB} {b} -- set interface {b} ofport_request={portB}");
    }

    private void AddNamespace(string ns)
    {
        Shell.Check("ip", $"netns add {ns}");
        _namespaces.Add(ns);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Ovs.Dispose();
        // Deleting a namespace deletes the veths in it, and their peers.
        foreach (var link in _rootLinks) Shell.Run("ip", $"link del {link}");
        foreach (var ns in _namespaces) Shell.Run("ip", $"netns del {ns}");
    }
}
