using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace SubsetMulticast.Snmp.LinuxBridge;

public sealed record BridgePort(uint Number, string Name, int IfIndex);
public sealed record MdbEntry(string Port, string Group, bool Permanent);
public sealed record FdbRecord(ulong Mac, string Port);

/// <summary>
/// Reads and writes one Linux bridge through iproute2 (<c>bridge -j …</c>) and sysfs. Bridge port numbers are the
/// kernel's own (brif/*/port_no), which is what BRIDGE-MIB's dot1dBasePort means. Each command is bounded in time.
/// </summary>
public sealed class LinuxBridgeState(string bridge)
{
    public string Bridge { get; } = bridge;

    public IReadOnlyList<BridgePort> Ports()
    {
        var dir = $"/sys/class/net/{Bridge}/brif";
        if (!Directory.Exists(dir)) throw new IOException($"{Bridge} is not a bridge (no {dir}).");
        var list = new List<BridgePort>();
        foreach (var d in Directory.GetDirectories(dir))
        {
            var name = Path.GetFileName(d);
            var no = File.ReadAllText(Path.Combine(d, "port_no")).Trim();
            var idx = File.ReadAllText($"/sys/class/net/{name}/ifindex").Trim();
            list.Add(new BridgePort(Convert.ToUInt32(no, 16), name, int.Parse(idx, CultureInfo.InvariantCulture)));
        }
        return [.. list.OrderBy(p => p.Number)];
    }

    public IReadOnlyList<MdbEntry> Mdb()
    {
        using var doc = JsonDocument.Parse(Run("bridge", ["-j", "mdb", "show", "dev", Bridge]));
        var list = new List<MdbEntry>();
        foreach (var block in doc.RootElement.EnumerateArray())
        {
            if (!block.TryGetProperty("mdb", out var mdb)) continue;
            foreach (var e in mdb.EnumerateArray())
            {
                var port = e.GetProperty("port").GetString()!;
                if (port == Bridge) continue;     // the bridge's own host-side memberships
                list.Add(new MdbEntry(port, e.GetProperty("grp").GetString()!, e.TryGetProperty("state", out var s) && s.GetString() == "permanent"));
            }
        }
        return list;
    }

    public IReadOnlyList<FdbRecord> Fdb()
    {
        using var doc = JsonDocument.Parse(Run("bridge", ["-j", "fdb", "show", "br", Bridge]));
        var list = new List<FdbRecord>();
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            // Learned entries: on a port, mastered by the bridge, not permanent (the ports' own addresses are).
            if (!e.TryGetProperty("master", out var m) || m.GetString() != Bridge) continue;
            if (e.TryGetProperty("state", out var st) && st.GetString() == "permanent") continue;
            if (Core.Addressing.MacAddress.TryParse(e.GetProperty("mac").GetString(), out var mac))
                list.Add(new FdbRecord(mac.Value, e.GetProperty("ifname").GetString()!));
        }
        return list;
    }

    public void AddMdb(string port, string group) => Run("bridge", ["mdb", "add", "dev", Bridge, "port", port, "grp", group, "permanent"]);
    public void DelMdb(string port, string group) => Run("bridge", ["mdb", "del", "dev", Bridge, "port", port, "grp", group]);

    internal static string Run(string file, IReadOnlyList<string> args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new IOException($"cannot start {file}");
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(10_000)) { try { p.Kill(); } catch (InvalidOperationException) { } throw new IOException($"{file} {string.Join(' ', args)} did not finish in 10 s"); }
        p.WaitForExit();
        if (p.ExitCode != 0) throw new IOException($"{file} {string.Join(' ', args)}: {e.Result.Trim()}");
        return o.Result;
    }
}
