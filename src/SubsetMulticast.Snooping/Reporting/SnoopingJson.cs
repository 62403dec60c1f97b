using System.Text.Json;

namespace SubsetMulticast.Snooping.Reporting;

/// <summary>
/// The snooper's state as JSON: <c>{"groups":[{"vlan","group","port","mode","sources","compatibility"}], "routerPorts":[{"vlan","port"}],
/// "queriers":[…], "hosts":[{"mac","vlan","ips","port"}], "dropped":{"reason":n}, "refused":{…}}</c>, one group
/// entry per (VLAN, group, port). Sources: forwarded ones in INCLUDE mode, blocked ones in EXCLUDE mode.
/// </summary>
public static class SnoopingJson
{
    public static void Write(Stream output, SnoopingSnapshot s, bool indented = false)
    {
        using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = indented, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteStartArray("groups");
        foreach (var g in s.Groups)
        {
            w.WriteStartObject();
            w.WriteNumber("vlan", g.Vlan.Value);
            w.WriteString("group", g.Group.ToString());
            w.WriteString("port", g.Port);
            w.WriteString("mode", g.Mode == FilterMode.Include ? "INCLUDE" : "EXCLUDE");
            w.WriteStartArray("sources");
            foreach (var src in g.Sources) w.WriteStringValue(src.ToString());
            w.WriteEndArray();
            w.WriteString("compatibility", g.Compatibility);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("routerPorts");
        foreach (var r in s.RouterPorts)
        {
            w.WriteStartObject();
            w.WriteNumber("vlan", r.Vlan.Value);
            w.WriteString("port", r.Port);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("queriers");
        foreach (var q in s.Queriers)
        {
            w.WriteStartObject();
            w.WriteNumber("vlan", q.Vlan.Value);
            w.WriteString("address", q.Address.ToString());
            w.WriteString("port", q.Port);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("hosts");
        foreach (var h in s.Hosts)
        {
            w.WriteStartObject();
            w.WriteString("mac", h.Mac.ToString());
            w.WriteNumber("vlan", h.Vlan.Value);
            w.WriteStartArray("ips");
            foreach (var ip in h.Addresses) w.WriteStringValue(ip.ToString());
            w.WriteEndArray();
            w.WriteString("port", h.Port);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartObject("dropped");
        foreach (var (reason, n) in s.Dropped) w.WriteNumber(JsonNamingPolicy.CamelCase.ConvertName(reason.ToString()), n);
        w.WriteEndObject();
        w.WriteStartObject("refused");
        foreach (var (what, n) in s.Refused) w.WriteNumber(what, n);
        w.WriteEndObject();
        w.WriteNumber("frames", s.FramesSeen);
        w.WriteNumber("applied", s.MessagesApplied);
        w.WriteString("time", s.Time.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        w.WriteEndObject();
    }

    public static string ToJson(SnoopingSnapshot s, bool indented = false)
    {
        using var ms = new MemoryStream();
        Write(ms, s, indented);
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>A plain-text rendering for people.</summary>
    public static void WriteText(TextWriter o, SnoopingSnapshot s)
    {
        o.WriteLine($"time {s.Time:O}  frames {s.FramesSeen}  applied {s.MessagesApplied}");
        o.WriteLine($"groups ({s.Groups.Count} memberships):");
        foreach (var g in s.Groups)
            o.WriteLine($"  vlan {g.Vlan,-4} {g.Group,-28} {g.Port,-15} {(g.Mode == FilterMode.Include ? "INCLUDE" : "EXCLUDE")} {string.Join(',', g.Sources)}");
        o.WriteLine($"router ports: {string.Join(' ', s.RouterPorts.Select(r => $"{r.Port}@{r.Vlan}"))}");
        foreach (var q in s.Queriers) o.WriteLine($"querier vlan {q.Vlan}: {q.Address} on {q.Port}");
        o.WriteLine($"hosts ({s.Hosts.Count}):");
        foreach (var h in s.Hosts) o.WriteLine($"  {h.Mac} vlan {h.Vlan,-4} {h.Port,-15} {string.Join(',', h.Addresses)}");
        o.WriteLine($"dropped: {(s.Dropped.Count == 0 ? "none" : string.Join(' ', s.Dropped.Select(d => $"{d.Key}={d.Value}")))}");
        if (s.Refused.Count > 0) o.WriteLine($"refused: {string.Join(' ', s.Refused.Select(d => $"{d.Key}={d.Value}"))}");
    }
}
