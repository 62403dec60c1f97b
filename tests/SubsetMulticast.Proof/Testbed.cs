using System.Globalization;

namespace SubsetMulticast.Proof;

/// <summary>How the fabric forwards during a phase.</summary>
internal enum FabricMode { None, OvsSnoopingFlood, OvsSnoopingNoFlood, OvsController, KernelBridge, KernelBridgeNoFlood }

/// <summary>
/// One namespace testbed: a private Open vSwitch (userspace datapath) with a spine and two leaves, host 0 (the
/// sender) and hosts 1..N in namespaces on the leaves, every host link shaped by <c>tc tbf</c> in both directions
/// to the same rate, so the sender's link is the bottleneck. The same veths are moved onto one Linux bridge for the
/// kernel-bridge phases. Every name carries a random tag; <see cref="Dispose"/> removes all of it and stops only
/// the daemons it started.
/// </summary>
internal sealed class Testbed : IDisposable
{
    public const string Reference = "239.1.0.1";
    public const int LeafUplink = 20;
    private readonly PrivateOvs _ovs;
    private readonly List<string> _namespaces = [];
    private readonly List<string> _links = [];
    private bool _kernelBridge;
    private readonly List<System.Diagnostics.Process> _children = [];
    private int _disposed;

    /// <summary>A child process of ours that must not outlive the testbed (stopped by its handle in <see cref="Dispose"/>).</summary>
    public System.Diagnostics.Process Own(System.Diagnostics.Process p) { lock (_children) _children.Add(p); return p; }

    public Testbed(int receivers, int rateMbit)
    {
        Shell.Require("ovs-appctl", "openvswitch-switch");
        Shell.Require("ip", "iproute2");
        Shell.Require("tc", "iproute2");
        Shell.Require("bridge", "iproute2");
        Shell.Require("ethtool", "ethtool");
        Receivers = receivers;
        RateMbit = rateMbit;
        Tag = "pf" + Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next()))[..4].ToLowerInvariant();
        _ovs = new PrivateOvs("proof-" + Tag);
    }

    public string Tag { get; }
    public string Dir => _ovs.Dir;
    public int Receivers { get; }
    public int RateMbit { get; }
    public Dictionary<string, string> Env => _ovs.Env;
    public FabricMode Mode { get; private set; }
    public int Hosts => Receivers + 1;
    public string Spine => Tag + "c";
    public string LeafA => Tag + "a";
    public string LeafB => Tag + "b";
    public string KernelBridge => Tag + "k";
    public string[] Bridges => [Spine, LeafA, LeafB];

    public string Ns(int host) => $"{Tag}h{host}";
    public string Inner(int host) => $"{Tag}i{host}";
    public string Outer(int host) => $"{Tag}s{host}";
    public string Ip(int host) => $"10.88.0.{host + 10}";
    /// <summary>Host 0 and the first half of the receivers on leaf A, the rest on leaf B.</summary>
    public bool OnLeafA(int host) => host <= (Receivers + 1) / 2;
    public string LeafOf(int host) => OnLeafA(host) ? LeafA : LeafB;
    public int OfPort(int host) => OnLeafA(host) ? host + 1 : host - (Receivers + 1) / 2;
    public string Vsctl(string args) => _ovs.Vsctl(args);
    public string Ofctl(string args) => _ovs.Ofctl(args);
    public string Appctl(string args) => _ovs.Appctl(args);

    /// <summary>
    /// ovs-vswitchd opens a bridge's OpenFlow management socket a moment after add-br returns, and on a loaded machine
    /// (a bridge reconfigured with its snooping or fail mode) a moment can be seconds: ovs-ofctl fails with "not a
    /// bridge or a socket" until then. Bounded at 30 s, then fails with the daemon's log.
    /// </summary>
    private void AwaitManagementSocket(string br)
    {
        string path = Path.Combine(Dir, $"{br}.mgmt");
        for (int i = 0; i < 600 && !File.Exists(path); i++) Thread.Sleep(50);
        if (!File.Exists(path)) throw new InvalidOperationException($"ovs-vswitchd did not open {path} in 30 s:\n{_ovs.LogTail()}");
    }

    public void Build()
    {
        _ovs.Start();
        ulong dpid = 0x10;
        foreach (var br in Bridges) _ovs.AddBridge(br, dpid++, failMode: "standalone");
        foreach (var br in Bridges) AwaitManagementSocket(br);
        string rate = $"{RateMbit}mbit";
        for (int h = 0; h < Hosts; h++)
        {
            string ns = Ns(h), inner = Inner(h), outer = Outer(h);
            _namespaces.Add(ns);
            _links.Add(outer);
            HostNamespace.Create(ns, inner, outer, null, $"{Ip(h)}/24");
            // The same rate both ways on every host link: the host's egress and the switch's egress toward it.
            Shell.Check("tc", $"qdisc add dev {outer} root tbf rate {rate} burst 64kb latency 50ms");
            Shell.Check("ip", $"netns exec {ns} tc qdisc add dev {inner} root tbf rate {rate} burst 64kb latency 50ms");
            // Every host answers ARP for its peers up front, so no trial waits for ARP.
            Vsctl($"add-port {LeafOf(h)} {outer} -- set interface {outer} ofport_request={OfPort(h)}");
        }
        LinkBridges(LeafA, "la", 1);
        LinkBridges(LeafB, "lb", 2);
        // The Linux bridge exists from the start (empty until its phase): a new bridge's querier needs its query
        // response interval (10 s) before it counts as present, and until then the bridge floods every group.
        Shell.Check("ip", $"link add {KernelBridge} type bridge mcast_snooping 1 mcast_querier 1 mcast_igmp_version 3");
        _links.Add(KernelBridge);
        Shell.Check("ip", $"link set {KernelBridge} up");
        Mode = FabricMode.None;
    }

    private void LinkBridges(string leaf, string name, int spinePort)
    {
        string a = $"{Tag}{name}u", b = $"{Tag}{name}d";
        Shell.Check("ip", $"link add {a} type veth peer name {b}");
        _links.Add(a);
        foreach (var x in new[] { a, b })
        {
            Shell.Check("ip", $"link set {x} up");
            Shell.Check("ethtool", $"-K {x} tx off");
        }
        Vsctl($"add-port {leaf} {a} -- set interface {a} ofport_request={LeafUplink}");
        Vsctl($"add-port {Spine} {b} -- set interface {b} ofport_request={spinePort}");
    }

    public IEnumerable<string> Uplinks => [$"{Tag}lau", $"{Tag}lbu"];

    /// <summary>
    /// Standalone OVS with its own IGMP snooping (mcast_snooping_enable), unregistered flooding on (OVS default) or off.
    /// The leaves' uplinks are where a multicast router would be: they get every group and the hosts' reports
    /// (mcast-snooping-flood, -flood-reports), so the spine learns which leaf has members.
    /// </summary>
    public void UseOvsSnooping(bool floodUnregistered)
    {
        foreach (var br in Bridges)
        {
            Vsctl($"del-controller {br}");
            Vsctl($"set bridge {br} fail_mode=standalone mcast_snooping_enable=true other_config:mcast-snooping-disable-flood-unregistered={(!floodUnregistered).ToString().ToLowerInvariant()}");
            AwaitManagementSocket(br);
            Ofctl($"del-flows {br}");
            Ofctl($"del-groups {br}");
            Ofctl($"add-flow {br} priority=0,actions=NORMAL");
        }
        foreach (var up in Uplinks) Vsctl($"set port {up} other_config:mcast-snooping-flood=true other_config:mcast-snooping-flood-reports=true");
        foreach (var br in Bridges) Appctl($"mdb/flush {br}");
        Mode = floodUnregistered ? FabricMode.OvsSnoopingFlood : FabricMode.OvsSnoopingNoFlood;
    }

    /// <summary>The bridges as the controller's switches: fail_mode=secure, snooping off (the controller snoops), empty tables.</summary>
    public void UseController(int openFlowPort)
    {
        foreach (var up in Uplinks) Vsctl($"remove port {up} other_config mcast-snooping-flood mcast-snooping-flood-reports");
        foreach (var br in Bridges)
        {
            Vsctl($"set bridge {br} mcast_snooping_enable=false fail_mode=secure");
            AwaitManagementSocket(br);
            Ofctl($"del-flows {br}");
            Ofctl($"del-groups {br}");
            Vsctl($"set-controller {br} tcp:127.0.0.1:{openFlowPort}");
        }
        Mode = FabricMode.OvsController;
    }

    /// <summary>
    /// Every host veth moves from OVS onto one Linux bridge with IGMP snooping and the bridge as querier (without a
    /// querier the bridge floods every group, registered or not). Other settings are the kernel's defaults
    /// (mcast_last_member_count 2, last_member_interval 1 s, fast leave off, mcast_flood on) unless
    /// <paramref name="floodUnregistered"/> is false: then mcast_flood is off on every host port.
    /// </summary>
    public void UseKernelBridge(bool floodUnregistered)
    {
        if (!_kernelBridge)
        {
            for (int h = 0; h < Hosts; h++) Vsctl($"del-port {LeafOf(h)} {Outer(h)}");
            for (int h = 0; h < Hosts; h++) Shell.Check("ip", $"link set {Outer(h)} master {KernelBridge}");
            _kernelBridge = true;
        }
        for (int h = 0; h < Hosts; h++) Shell.Check("bridge", $"link set dev {Outer(h)} mcast_flood {(floodUnregistered ? "on" : "off")}");
        Mode = floodUnregistered ? FabricMode.KernelBridge : FabricMode.KernelBridgeNoFlood;
    }

    /// <summary>Every receiver joins the reference group with the kernel's own IGMP (autojoin).</summary>
    public void JoinReference()
    {
        for (int h = 1; h < Hosts; h++) Shell.Check("ip", $"-n {Ns(h)} addr add {Reference}/32 dev {Inner(h)} autojoin");
    }

    /// <summary>Random loss on the sender's link: an nftables netdev egress hook drops IPv4 with numgen (no netem here).</summary>
    public void SetSenderLoss(double percent)
    {
        Shell.Run("ip", $"netns exec {Ns(0)} nft delete table netdev prooflss");
        if (percent <= 0) return;
        int perMillion = (int)Math.Round(percent * 10_000);
        var file = Path.Combine(Dir, "loss.nft");
        File.WriteAllText(file, string.Create(CultureInfo.InvariantCulture, $$"""
            table netdev prooflss {
              chain egress {
                type filter hook egress device "{{Inner(0)}}" priority 0;
                meta protocol ip numgen random mod 1000000 < {{perMillion}} counter drop
              }
            }
            """));
        Shell.Check("ip", $"netns exec {Ns(0)} nft -f {file}");
    }

    /// <summary>Bytes through a root-namespace veth end (the switch side of a host link).</summary>
    public static long Counter(string ifname, string which) =>
        long.Parse(File.ReadAllText($"/sys/class/net/{ifname}/statistics/{which}").Trim(), CultureInfo.InvariantCulture);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        lock (_children) foreach (var p in _children) Shell.Stop(p);
        _ovs.DeleteBridges(Bridges);
        foreach (var ns in _namespaces) Shell.Run("ip", $"netns del {ns}");
        foreach (var link in _links) Shell.Run("ip", $"link del {link}");
        _ovs.Dispose();
    }
}
