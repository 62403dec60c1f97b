using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Transfer.Groups;
using SubsetMulticast.Transfer.Sending;
using SubsetMulticast.Transfer.Transport;

namespace SubsetMulticast.Cli.Commands;

/// <summary>Options shared by store, put, get and push: parsed here, behaviour in SubsetMulticast.Transfer.</summary>
internal static class TransferCommandOptions
{
    public static readonly string[] Client = ["--iface", "--port", "--controller", "--vlan", "--rate", "--fec", "--encrypt", "--datagram", "--json"];

    public static IpAddress Group(Args a, string name)
    {
        var s = a.Get(name) ?? throw new UsageException($"{name} GROUP is required.");
        if (!IpAddress.TryParse(s, out var g) || !g.IsMulticast || !g.IsV4) throw new UsageException($"{name} must be an IPv4 multicast address, not '{s}'.");
        return g;
    }

    public static ushort Port(Args a) => (ushort)a.Int("--port", TransferPorts.Server, 1, 65535);

    public static LinuxUdpTransport ClientTransport(Args a) => new(new LinuxUdpTransportOptions { Interface = a.Get("--iface") });

    public static IRendezvousGroups? Controller(Args a, out HttpClient? http)
    {
        http = null;
        var url = a.Get("--controller");
        if (url is null) return null;
        if (!Uri.TryCreate(url.EndsWith('/') ? url : url + "/", UriKind.Absolute, out var uri)) throw new UsageException($"--controller must be a URL, not '{url}'.");
        http = new HttpClient { BaseAddress = uri, Timeout = TimeSpan.FromSeconds(5) };
        return new RestRendezvousGroups(http);
    }

    public static PushOptions Push(Args a) => new()
    {
        Vlan = a.Int("--vlan", 0, 0, 4094),
        ServerPort = Port(a),
        RateBytesPerSecond = a.Get("--rate") is { } r
            ? long.TryParse(r, out var rate) && rate > 0 ? rate : throw new UsageException($"--rate must be bytes per second, not '{r}'.")
            : null,
        Fec = a.Get("--fec") is { } f ? ParseFec(f) : null,
        Encrypt = a.Has("--encrypt"),
        DatagramPayload = a.Int("--datagram", 1400, 64, 8800),
    };

    private static FecOptions ParseFec(string s)
    {
        var parts = s.Split('x');
        if (parts.Length == 2 && int.TryParse(parts[0], out int k) && int.TryParse(parts[1], out int layers) && k is >= 2 and <= 64 && layers is >= 1 and <= 3)
            return new FecOptions(k, layers);
        throw new UsageException($"--fec must be KxLAYERS (e.g. 8x2), not '{s}'.");
    }

    public static AddressBlock Block(Args a)
    {
        var s = a.Get("--block") ?? "239.255.0.0/16";
        try { return AddressBlock.Parse(s); }
        catch (Exception e) when (e is FormatException or ArgumentException) { throw new UsageException($"--block: {e.Message}"); }
    }
}
