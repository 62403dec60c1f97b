namespace SubsetMulticast.OpenFlow.Tests.Interop;

/// <summary>
/// A private Open vSwitch PKI made with <c>ovs-pki</c> (Debian openvswitch-common) in a temp directory: a controllerca
/// and a switchca, a controller certificate from the one and a switch certificate from the other. Two instances are
/// two unrelated PKIs (a switch certificate "from another CA"). Deleted on dispose.
/// </summary>
internal sealed class OvsPki : IDisposable
{
    private readonly string _ovsPki;

    // Each PKI costs four RSA keys from ovs-pki (two CAs, two certificates): about 3 s on a quiet 2-core machine and
    // 8 s or more under the suite's load. The TLS tests only read the files, so one pair per test process, made on
    // two threads at once, serves them all; the directories go when the process exits.
    private static readonly Lazy<Task<(OvsPki Ours, OvsPki Other)>> SharedPair = new(async () =>
    {
        var ours = Task.Run(() => new OvsPki());
        var other = Task.Run(() => new OvsPki());
        var pair = (await ours, await other);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { pair.Item1.Dispose(); pair.Item2.Dispose(); };
        return pair;
    });

    /// <summary>Two unrelated PKIs for this test process, shared read-only: <c>Ours</c> for the controller and its
    /// switches, <c>Other</c> for a switch "from another CA". Do not dispose them.</summary>
    public static Task<(OvsPki Ours, OvsPki Other)> SharedAsync() => SharedPair.Value;

    public OvsPki()
    {
        _ovsPki = Shell.Require("ovs-pki", "openvswitch-common");
        Shell.Require("openssl", "openssl");
        Dir = Directory.CreateTempSubdirectory("ovs-pki-").FullName;
        Shell.Check(_ovsPki, $"--dir={Dir}/pki --log={Dir}/pki.log init");
        (ControllerKey, ControllerCert) = Issue("ctl", "controller");
        (SwitchKey, SwitchCert) = Issue("sw", "switch");
    }

    public string Dir { get; }
    public string ControllerKey { get; }
    public string ControllerCert { get; }
    public string SwitchKey { get; }
    public string SwitchCert { get; }

    /// <summary>What a switch trusts the controller by (ovs-vsctl set-ssl … CACERT).</summary>
    public string ControllerCa => Path.Combine(Dir, "pki", "controllerca", "cacert.pem");

    /// <summary>What the controller checks switches against (tsm serve --openflow-ca).</summary>
    public string SwitchCa => Path.Combine(Dir, "pki", "switchca", "cacert.pem");

    /// <summary>ovs-pki req+sign NAME TYPE, run in <see cref="Dir"/> (it writes NAME-privkey.pem and NAME-cert.pem to the working directory).</summary>
    public (string Key, string Cert) Issue(string name, string type)
    {
        var (code, _, err) = Shell.Run("sh", $"-c \"cd '{Dir}' && '{_ovsPki}' --dir='{Dir}/pki' --log='{Dir}/pki.log' req+sign {name} {type}\"");
        if (code != 0) throw new InvalidOperationException($"ovs-pki req+sign {name} {type} failed: {err}");
        return (Path.Combine(Dir, $"{name}-privkey.pem"), Path.Combine(Dir, $"{name}-cert.pem"));
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
