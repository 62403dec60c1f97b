using System.CommandLine;
using System.Globalization;
using SubsetMulticast.Cli.CommandLine;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Transfer.Groups;
using SubsetMulticast.Transfer.Sending;
using SubsetMulticast.Transfer.Transport;

namespace SubsetMulticast.Cli.Commands;

/// <summary>Options the transfer commands (store, put, get, push) share; behaviour is in SubsetMulticast.Transfer.</summary>
internal sealed class TransferCommandOptions
{
    public Option<string?> Iface { get; } = OptionKinds.Text("--iface", "The interface to use (default: the first up, non-loopback one with an IPv4 address).", "IF");
    public Option<int> Port { get; } = OptionKinds.Int("--port", "UDP port of the storage servers.", 1, 65535, TransferPorts.Server);
    public Option<Uri?> Controller { get; } = OptionKinds.Parsed<Uri?>("--controller", "The controller's REST API (without it: unicast fan-out).", "URL",
        t => Uri.TryCreate(t.EndsWith('/') ? t : t + "/", UriKind.Absolute, out var u) && u.Scheme is "http" or "https" ? u : null, "must be an http URL");
    public Option<string?> ControllerToken { get; } = OptionKinds.Text("--controller-token", "The bearer token for --controller when its API requires one: file:PATH or env:VAR (never the token itself).", "file:PATH|env:VAR");
    public Option<int> Vlan { get; } = OptionKinds.Int("--vlan", "VLAN of the rendezvous group.", 0, 4094, 0);
    public Option<long?> Rate { get; } = OptionKinds.Parsed<long?>("--rate", "Sending rate in bytes/s (default: the slowest chosen bid; 125000000 for a push).", "BYTES",
        t => long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out long v) && v >= 100_000 ? v : null, "wants bytes per second ≥ 100000");
    public Option<FecOptions?> Fec { get; } = OptionKinds.Parsed<FecOptions?>("--fec", "Layered XOR parity: K datagrams per parity, LAYERS interleaved layers (e.g. 8x2).", "KxLAYERS",
        t => t.Split('x') is [var k, var l] && int.TryParse(k, out int kk) && int.TryParse(l, out int ll) && kk is >= 2 and <= 64 && ll is >= 1 and <= 3 ? new FecOptions(kk, ll) : null,
        "wants KxLAYERS with K 2..64 and LAYERS 1..3");
    public Option<bool> Encrypt { get; } = OptionKinds.Flag("--encrypt", "AES-256-GCM with a fresh key per transfer (given to the targets with the rendezvous).");
    public Option<int> Datagram { get; } = OptionKinds.Int("--datagram", "Datagram payload in bytes (1400 fits a 1500-byte MTU).", 64, 8800, 1400);
    public Option<bool> Json { get; } = OptionKinds.Flag("--json", "One JSON object on standard output.");

    public static Option<IpAddress?> Group(string name, string description) =>
        OptionKinds.Address(name, description, ip => ip.IsV4 && ip.IsMulticast, "wants an IPv4 multicast address");

    public void AddTo(Command command)
    {
        foreach (Option o in new Option[] { Iface, Port, Controller, ControllerToken, Vlan, Rate, Fec, Encrypt, Datagram, Json }) command.Options.Add(o);
    }

    public LinuxUdpTransport ClientTransport(ParseResult r) => new(new LinuxUdpTransportOptions { Interface = r.GetValue(Iface) });

    public IRendezvousGroups? Groups(ParseResult r, out HttpClient? http)
    {
        http = r.GetValue(Controller) is { } url ? new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(5) } : null;
        if (http is not null && r.GetValue(ControllerToken) is { } source)
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", global::SubsetMulticast.Controller.Security.SecretSource.Read(source).Trim());
        return http is null ? null : new RestRendezvousGroups(http);
    }

    public PushOptions Push(ParseResult r) => new()
    {
        Vlan = r.GetValue(Vlan),
        ServerPort = (ushort)r.GetValue(Port),
        RateBytesPerSecond = r.GetValue(Rate),
        Fec = r.GetValue(Fec),
        Encrypt = r.GetValue(Encrypt),
        DatagramPayload = r.GetValue(Datagram),
    };

    public static Option<AddressBlock?> Block() => OptionKinds.Parsed<AddressBlock?>("--block", "The VLAN's transactional block, whose datagrams are taken without joining (default 239.255.0.0/16).", "CIDR",
        t => { try { return AddressBlock.Parse(t); } catch (Exception e) when (e is FormatException or ArgumentException) { return null; } }, "wants a block like 239.255.0.0/16");
}
