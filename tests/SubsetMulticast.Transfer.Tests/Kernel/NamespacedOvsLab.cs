using System.Diagnostics;
using System.Globalization;

namespace SubsetMulticast.Transfer.Tests.Kernel;

/// <summary>
/// Open vSwitch (userspace datapath) and the real controller, both inside a private "switch" network namespace
/// (<see cref="OvsNamespace"/>), hosts in namespaces of their own wired to it by veths. The switch namespace gives
/// this lab its own "ovs-netdev" device, so it runs beside any other ovs-vswitchd on the machine. The controller's
/// REST API is reached over a management veth (root ↔ switch namespace, and client host ↔ switch namespace). Every
/// name carries a per-test tag; <see cref="DisposeAsync"/> stops only our processes and daemons and removes our namespaces.
/// </summary>
internal sealed class NamespacedOvsLab : IAsyncDisposable
{
    private readonly OvsNamespace _net = new("tr");
    private readonly List<Process> _children = [];

    public string Tag => _net.Tag;
    public string Dir => _net.Dir;
    public Dictionary<string, string> Env => _net.Ovs.Env;
    public string SwitchNs => _net.SwitchNs;
    public Uri Api { get; private set; } = null!;
    public int OpenFlowPort { get; private set; }

    public string Vsctl(string args) => _net.Ovs.Vsctl(args, timeoutSeconds: 10);

    /// <summary>The bearer token of the lab's one API client (admin); <see cref="TokenSource"/> is what <c>tsm put --controller-token</c> takes.</summary>
    public string Token { get; private set; } = "";
    public string TokenSource => $"file:{Dir}/token";

    /// <summary>ovsdb-server and ovs-vswitchd (inside the switch namespace), and <c>tsm serve --openflow</c> (inside it).</summary>
    public async Task StartAsync(string tsmDll)
    {
        _net.Ovs.Start();
        // The API listens beyond loopback, so it requires a client: one admin token, kept in the lab's directory.
        Token = "tsm_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        File.WriteAllText(Path.Combine(Dir, "clients"), $"client lab scopes=admin token-sha256={Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Token)))}\n");
        File.WriteAllText(Path.Combine(Dir, "token"), Token);
        var p = Start("ip", $"netns exec {SwitchNs} dotnet {tsmDll} serve --openflow 127.0.0.1:0 --api http://0.0.0.0:0 --api-clients file:{Dir}/clients --quiet --lldp-interval 1"
            // Our querier makes the hosts report again: a store's unsolicited report sent before the punt flows were in
            // is lost, and with no query that store would never join the negotiating group (failed one clean-clone CI run).
            + " --querier 10.77.0.254 --query-interval 3 --query-response 1");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        string? api = null, of = null;
        for (int i = 0; i < 20 && (api is null || of is null); i++)
        {
            var line = (await p.StandardOutput.ReadLineAsync(cts.Token) ?? throw new Xunit.Sdk.XunitException($"tsm serve exited: {await p.StandardError.ReadToEndAsync(cts.Token)}")).Trim();
            if (line.StartsWith("api ", StringComparison.Ordinal)) api = line[3..].Trim().Replace("api/v1/groups", "", StringComparison.Ordinal);
            if (line.StartsWith("openflow ", StringComparison.Ordinal)) of = line[8..].Trim();
        }
        if (api is null || of is null) throw new Xunit.Sdk.XunitException("tsm serve printed no api/openflow address");
        _ = p.StandardOutput.ReadToEndAsync();
        _ = p.StandardError.ReadToEndAsync();
        OpenFlowPort = int.Parse(of[(of.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
        int apiPort = new Uri(api).Port;
        // Root ↔ switch namespace, for the test's own REST calls.
        var (_, inSwitch) = ManagementLink("m0", null);
        Api = new Uri($"http://{inSwitch}:{apiPort}/");
    }

    /// <summary>A /30 between <paramref name="ns"/> (null = root) and the switch namespace; returns (ns side, switch side) addresses.</summary>
    public (string Near, string Switch) ManagementLink(string suffix, string? ns) => _net.ManagementLink(suffix, ns);

    /// <summary>A bridge whose controller is our <c>tsm serve</c>, inside the switch namespace.</summary>
    public string AddBridge(string suffix, ulong dpid) => _net.AddBridge(suffix, dpid, $"tcp:127.0.0.1:{OpenFlowPort}");

    public string HostIface(int index) => _net.HostIface(index);
    public string SwitchSide(int index) => _net.SwitchSide(index);

    /// <summary>Host <paramref name="index"/>: namespace, 10.77.0.index/24, on OpenFlow port <paramref name="ofport"/> of <paramref name="bridge"/>.</summary>
    public string AddHost(string bridge, int index, int ofport) => _net.AddHost(bridge, index, ofport);

    public void Link(string bridgeA, int portA, string bridgeB, int portB, int index) => _net.Link(bridgeA, portA, bridgeB, portB, index);

    public (int Code, string Out, string Err) Ofctl(string args) => _net.Ovs.TryOfctl(args);

    public Process Start(string file, string args)
    {
        var p = Shell.Start(file, args);
        _children.Add(p);
        return p;
    }

    public string LogTail(string file, int lines) => _net.Ovs.LogTail(file, lines);

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _children) Shell.Stop(p);
        _net.Dispose();
        await Task.Yield();
    }
}
