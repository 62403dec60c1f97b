using System.Globalization;
using System.Net;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Snmp.Client;
using SubsetMulticast.Snmp.Messages;
using SubsetMulticast.Snmp.Security;
using SubsetMulticast.Snmp.Southbound;

namespace SubsetMulticast.Snmp.Fabric;

public sealed record SnmpLink(string SwitchA, uint PortA, string SwitchB, uint PortB);
public sealed record SnmpHost(IpAddress Ip, MacAddress Mac);

/// <summary>
/// The switch list <c>tsm serve --snmp FILE</c> runs (one directive per line, # comments):
/// <code>
/// switch NAME HOST:PORT v2c community=SECRET [driver=q-bridge|ieee8021] [ports=N]
/// switch NAME HOST:PORT v3 user=NAME auth=SHA-256 auth-key=SECRET priv=AES-256 priv-key=SECRET [driver=…] [ports=N]
/// link NAME:PORT NAME:PORT          (used when the switches serve no LLDP-MIB)
/// host IP MAC                       (located through the switches' FDB)
/// reference GROUP                   (a reference group whose learned ports are read from dot1qTpGroupTable)
/// vlan N                            (the VLAN of the groups; 0 = untagged = dot1qVlanIndex 1)
/// poll SECONDS                      (how often groups, FDB and LLDP are read; default 5)
/// </code>
/// A SECRET is <c>env:VARIABLE</c> or <c>file:PATH</c> (first line) — never the secret itself, so the file can be
/// shown, and no secret is ever printed.
/// </summary>
public sealed record SnmpFabricFile(IReadOnlyList<SnmpSwitch> Switches, IReadOnlyList<SnmpLink> Links, IReadOnlyList<SnmpHost> Hosts,
    IReadOnlyList<IpAddress> References, VlanId Vlan, TimeSpan Poll)
{
    /// <summary>Parses the file; a <see cref="FormatException"/> names the line and what is wrong (never a secret).</summary>
    public static SnmpFabricFile Parse(string text, Func<string, string?>? environment = null, string? baseDirectory = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var switches = new List<SnmpSwitch>();
        var links = new List<SnmpLink>();
        var hosts = new List<SnmpHost>();
        var refs = new List<IpAddress>();
        VlanId vlan = new(0);
        var poll = TimeSpan.FromSeconds(5);
        int n = 0;
        foreach (var raw in text.Split('\n'))
        {
            n++;
            var line = raw.Split('#')[0].Trim();
            if (line.Length == 0) continue;
            var w = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            FormatException Bad(string what) => new($"line {n}: {what}");
            switch (w[0])
            {
                case "switch" when w.Length >= 4:
                {
                    if (!IPEndPoint.TryParse(w[2], out var ep) || ep.Port == 0) throw Bad($"'{w[2]}' is not HOST:PORT (an IP address and port)");
                    var kv = new Dictionary<string, string>(StringComparer.Ordinal);
                    foreach (var p in w[4..])
                    {
                        int eq = p.IndexOf('=', StringComparison.Ordinal);
                        if (eq <= 0) throw Bad($"'{p}' is not key=value");
                        kv[p[..eq]] = p[(eq + 1)..];
                    }
                    string Secret(string key)
                    {
                        if (!kv.TryGetValue(key, out var r)) throw Bad($"switch {w[1]} needs {key}=env:VAR or {key}=file:PATH");
                        if (r.StartsWith("env:", StringComparison.Ordinal))
                            return environment(r[4..]) is { Length: > 0 } v ? v : throw Bad($"{key}: environment variable {r[4..]} is not set");
                        if (r.StartsWith("file:", StringComparison.Ordinal))
                        {
                            var path = Path.IsPathRooted(r[5..]) || baseDirectory is null ? r[5..] : Path.Combine(baseDirectory, r[5..]);
                            try { return File.ReadLines(path).FirstOrDefault()?.Trim() is { Length: > 0 } v ? v : throw Bad($"{key}: {path} is empty"); }
                            catch (IOException e) { throw Bad($"{key}: cannot read {path}: {e.Message}"); }
                        }
                        throw Bad($"{key} must be env:VAR or file:PATH, so that the file holds no secret");
                    }
                    SnmpTarget target = w[3] switch
                    {
                        "v1" => new SnmpTarget(ep, SnmpVersion.V1) { Community = Secret("community") },
                        "v2c" => SnmpTarget.V2c(ep, Secret("community")),
                        "v3" => SnmpTarget.V3(ep, User(kv, Secret, Bad)),
                        _ => throw Bad($"version '{w[3]}' is not v1, v2c or v3"),
                    };
                    IStaticMulticastDriver driver = kv.GetValueOrDefault("driver", "q-bridge") switch
                    {
                        "q-bridge" => new QBridgeDriver(),
                        "ieee8021" => new Ieee8021QBridgeDriver(),
                        var d => throw Bad($"driver '{d}' is not q-bridge or ieee8021"),
                    };
                    int ports = kv.TryGetValue("ports", out var ps) && int.TryParse(ps, NumberStyles.None, CultureInfo.InvariantCulture, out var pn) && pn is > 0 and <= 4096 ? pn : 0;
                    if (switches.Any(s => s.Id == w[1])) throw Bad($"switch {w[1]} twice");
                    switches.Add(new SnmpSwitch(w[1], target, driver, ports));
                    break;
                }
                case "link" when w.Length == 3:
                {
                    if (!TryEnd(w[1], out var a, out var pa) || !TryEnd(w[2], out var b, out var pb)) throw Bad("link needs NAME:PORT NAME:PORT");
                    links.Add(new SnmpLink(a, pa, b, pb));
                    break;
                }
                case "host" when w.Length == 3:
                    if (!IpAddress.TryParse(w[1], out var ip) || !MacAddress.TryParse(w[2], out var mac)) throw Bad("host needs IP MAC");
                    hosts.Add(new SnmpHost(ip, mac));
                    break;
                case "reference" when w.Length == 2:
                    if (!IpAddress.TryParse(w[1], out var g) || !g.IsMulticast) throw Bad($"'{w[1]}' is not a multicast group");
                    refs.Add(g);
                    break;
                case "vlan" when w.Length == 2 && ushort.TryParse(w[1], NumberStyles.None, CultureInfo.InvariantCulture, out var v) && VlanId.IsValid(v):
                    vlan = new VlanId(v);
                    break;
                case "poll" when w.Length == 2 && int.TryParse(w[1], NumberStyles.None, CultureInfo.InvariantCulture, out var sec) && sec is > 0 and <= 3600:
                    poll = TimeSpan.FromSeconds(sec);
                    break;
                default:
                    throw Bad($"'{w[0]}' with {w.Length - 1} arguments is not a directive (switch, link, host, reference, vlan, poll)");
            }
        }
        if (switches.Count == 0) throw new FormatException("no switch line");
        foreach (var l in links)
            if (!switches.Any(s => s.Id == l.SwitchA) || !switches.Any(s => s.Id == l.SwitchB)) throw new FormatException($"link {l.SwitchA}:{l.PortA} {l.SwitchB}:{l.PortB} names an unknown switch");
        return new SnmpFabricFile(switches, links, hosts, refs, vlan, poll);
    }

    private static UsmUser User(Dictionary<string, string> kv, Func<string, string> secret, Func<string, FormatException> bad)
    {
        if (!kv.TryGetValue("user", out var name)) throw bad("v3 needs user=NAME");
        var auth = AuthProtocol.None;
        var priv = PrivProtocol.None;
        if (kv.TryGetValue("auth", out var a) && !UsmProtocols.TryParseAuth(a, out auth)) throw bad($"auth '{a}' is not MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512");
        if (kv.TryGetValue("priv", out var p) && !UsmProtocols.TryParsePriv(p, out priv)) throw bad($"priv '{p}' is not DES, AES, AES-192, AES-256, AES-192-C or AES-256-C");
        try
        {
            return new UsmUser(name, auth, auth == AuthProtocol.None ? null : secret("auth-key"), priv, priv == PrivProtocol.None ? null : secret("priv-key"));
        }
        catch (ArgumentException e) { throw bad(e.Message); }
    }

    private static bool TryEnd(string text, out string sw, out uint port)
    {
        int c = text.LastIndexOf(':');
        sw = c > 0 ? text[..c] : "";
        port = 0;
        return c > 0 && uint.TryParse(text.AsSpan(c + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) && port > 0;
    }
}
