using System.Globalization;
using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Emulator.Topology;

public sealed record SwitchSpec(string Name, ulong BridgeId, int PortCount);
public sealed record LinkSpec(string SwitchA, uint PortA, string SwitchB, uint PortB);
public sealed record HostSpec(string Name, string Switch, uint Port, IpAddress Ipv4, IpAddress? Ipv6, MacAddress Mac, VlanId Vlan);

/// <summary>
/// A fabric to emulate. Generated from "single:HOSTS", "leaf-spine:SPINES:LEAVES:HOSTS" or "fat-tree:K",
/// or read from a topology file (see <see cref="ParseFile"/>). Host L-H (leaf L, host H, both from 1)
/// gets 10.(L/256).(L%256).H and fd00::L:H, so "10.0.1.2" is the second host of the first leaf.
/// </summary>
public sealed class FabricSpec
{
    public List<SwitchSpec> Switches { get; } = [];
    public List<LinkSpec> Links { get; } = [];
    public List<HostSpec> Hosts { get; } = [];
    public string Description { get; private set; } = "";

    public static FabricSpec Parse(string spec, ushort vlan = 1, bool ipv6 = true)
    {
        var parts = spec.Split(':');
        int Arg(int i, int min, int max)
        {
            if (parts.Length <= i || !int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
                throw new FormatException($"'{spec}': argument {i} must be a number {min}..{max} (forms: single:HOSTS, leaf-spine:SPINES:LEAVES:HOSTS, fat-tree:K, file:PATH).");
            return v;
        }
        var f = parts[0] switch
        {
            "single" when parts.Length == 2 => LeafSpine(0, 1, Arg(1, 1, 250), vlan, ipv6),
            "leaf-spine" when parts.Length == 4 => LeafSpine(Arg(1, 1, 64), Arg(2, 1, 4000), Arg(3, 1, 250), vlan, ipv6),
            "fat-tree" when parts.Length == 2 => FatTree(Arg(1, 2, 64), vlan, ipv6),
            "file" when parts.Length >= 2 => ParseFile(File.ReadAllText(string.Join(':', parts[1..]))),
            _ => throw new FormatException($"'{spec}' is not a fabric spec (single:HOSTS, leaf-spine:SPINES:LEAVES:HOSTS, fat-tree:K, file:PATH)."),
        };
        if (parts[0] == "fat-tree" && Arg(1, 2, 64) % 2 != 0) throw new FormatException($"'{spec}': fat-tree K must be even.");
        f.Description = spec;
        return f;
    }

    /// <summary>Leaves 1..L, each with H hosts on ports 1..H and uplinks H+1..H+S to spines 1..S; spines have the lowest bridge ids, so spine1 is the root.</summary>
    public static FabricSpec LeafSpine(int spines, int leaves, int hosts, ushort vlan = 1, bool ipv6 = true)
    {
        var f = new FabricSpec();
        for (int s = 1; s <= spines; s++) f.Switches.Add(new SwitchSpec($"spine{s}", (ulong)s, leaves));
        for (int l = 1; l <= leaves; l++)
        {
            string leaf = spines == 0 ? "s1" : $"leaf{l}";
            f.Switches.Add(new SwitchSpec(leaf, 0x1000UL + (ulong)l, hosts + spines));
            for (int h = 1; h <= hosts; h++) f.Hosts.Add(MakeHost(l, h, leaf, (uint)h, vlan, ipv6));
            for (int s = 1; s <= spines; s++) f.Links.Add(new LinkSpec(leaf, (uint)(hosts + s), $"spine{s}", (uint)l));
        }
        return f;
    }

    /// <summary>The k-ary fat tree: (k/2)² cores, k pods of k/2 aggregation and k/2 edge switches, k/2 hosts per edge switch.</summary>
    public static FabricSpec FatTree(int k, ushort vlan = 1, bool ipv6 = true)
    {
        if (k % 2 != 0) throw new FormatException("fat-tree K must be even.");
        var f = new FabricSpec();
        int half = k / 2;
        for (int c = 0; c < half * half; c++) f.Switches.Add(new SwitchSpec($"core{c + 1}", (ulong)(c + 1), k));
        int leafNo = 0;
        for (int p = 0; p < k; p++)
        {
            for (int a = 0; a < half; a++)
            {
                string agg = $"agg{p + 1}-{a + 1}";
                f.Switches.Add(new SwitchSpec(agg, 0x1000UL + (ulong)(p * half + a), k));
                // Aggregation a connects to cores a*half .. a*half+half-1 on its upper ports half+1..k.
                for (int j = 0; j < half; j++) f.Links.Add(new LinkSpec(agg, (uint)(half + 1 + j), $"core{a * half + j + 1}", (uint)(p + 1)));
            }
            for (int e = 0; e < half; e++)
            {
                string edge = $"edge{p + 1}-{e + 1}";
                leafNo++;
                f.Switches.Add(new SwitchSpec(edge, 0x100000UL + (ulong)(p * half + e), k));
                for (int h = 1; h <= half; h++) f.Hosts.Add(MakeHost(leafNo, h, edge, (uint)h, vlan, ipv6));
                for (int a = 0; a < half; a++) f.Links.Add(new LinkSpec(edge, (uint)(half + 1 + a), $"agg{p + 1}-{a + 1}", (uint)(e + 1)));
            }
        }
        return f;
    }

    /// <summary>
    /// A topology file, one statement a line ('#' comments):
    /// <c>switch NAME PORTS [BRIDGE-ID]</c>, <c>link NAME:PORT NAME:PORT</c>,
    /// <c>host NAME SWITCH:PORT IPV4 [ipv6=ADDR] [mac=MAC] [vlan=N]</c>.
    /// </summary>
    public static FabricSpec ParseFile(string text)
    {
        var f = new FabricSpec();
        int lineNo = 0, hostNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var line = raw.Split('#')[0].Trim();
            if (line.Length == 0) continue;
            var w = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            FormatException Bad(string why) => new($"topology line {lineNo}: {why}: '{line}'");
            (string, uint) End(string s)
            {
                var i = s.LastIndexOf(':');
                if (i <= 0 || !uint.TryParse(s[(i + 1)..], out var port) || port == 0) throw Bad($"'{s}' is not SWITCH:PORT");
                return (s[..i], port);
            }
            switch (w[0])
            {
                case "switch" when w.Length is 3 or 4:
                    if (!int.TryParse(w[2], out var ports) || ports < 1) throw Bad("port count must be a positive number");
                    ulong id = (ulong)f.Switches.Count + 1;
                    if (w.Length == 4 && !ulong.TryParse(w[3], out id)) throw Bad("bridge id must be a number");
                    f.Switches.Add(new SwitchSpec(w[1], id, ports));
                    break;
                case "link" when w.Length == 3:
                    var (a, pa) = End(w[1]);
                    var (b, pb) = End(w[2]);
                    f.Links.Add(new LinkSpec(a, pa, b, pb));
                    break;
                case "host" when w.Length >= 4:
                    var (sw, port) = End(w[2]);
                    if (!IpAddress.TryParse(w[3], out var v4) || !v4.IsV4) throw Bad($"'{w[3]}' is not an IPv4 address");
                    hostNo++;
                    IpAddress? v6 = null;
                    var mac = new MacAddress(0x02_00_00_00_00_00UL | (uint)hostNo);
                    ushort vlan = 1;
                    foreach (var opt in w[4..])
                    {
                        var kv = opt.Split('=', 2);
                        if (kv.Length != 2) throw Bad($"'{opt}' is not key=value");
                        switch (kv[0])
                        {
                            case "ipv6" when IpAddress.TryParse(kv[1], out var a6) && a6.IsV6: v6 = a6; break;
                            case "mac" when MacAddress.TryParse(kv[1], out var m): mac = m; break;
                            case "vlan" when ushort.TryParse(kv[1], out var v) && VlanId.IsValid(v): vlan = v; break;
                            default: throw Bad($"bad option '{opt}'");
                        }
                    }
                    f.Hosts.Add(new HostSpec(w[1], sw, port, v4, v6, mac, vlan));
                    break;
                default: throw Bad("expected 'switch NAME PORTS [ID]', 'link A:P B:P' or 'host NAME SW:PORT IPV4 [ipv6=..] [mac=..] [vlan=..]'");
            }
        }
        f.Description = "file";
        return f;
    }

    private static HostSpec MakeHost(int leaf, int h, string sw, uint port, ushort vlan, bool ipv6)
    {
        var v4 = IpAddress.FromV4((10u << 24) | ((uint)(leaf >> 8) << 16) | ((uint)(leaf & 0xFF) << 8) | (uint)h);
        IpAddress? v6 = ipv6 ? IpAddress.FromV6(0xFD00UL << 48, ((ulong)leaf << 16) | (uint)h) : null;
        var mac = new MacAddress(0x02_00_00_00_00_00UL | ((ulong)leaf << 16) | (uint)h);
        return new HostSpec($"h{leaf}-{h}", sw, port, v4, v6, mac, vlan);
    }
}
