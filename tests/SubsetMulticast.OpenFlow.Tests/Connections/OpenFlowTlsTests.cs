using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Tests.Interop;

namespace SubsetMulticast.OpenFlow.Tests.Connections;

/// <summary>
/// The listener's TLS side with certificates from <c>ovs-pki</c>: a switch certificate from the switch CA reaches an
/// OpenFlow session (the controller's HELLO comes back over TLS); one from another PKI, or none, is refused during the
/// handshake and counted, and no session is made.
/// </summary>
public sealed class OpenFlowTlsTests
{
    [Fact]
    public async Task TlsListener_SwitchCertificateFromTheCa_GetsHello_OtherCaOrNoCertificate_Refused()
    {
        var (pki, other) = await OvsPki.SharedAsync();
        var tls = OpenFlowTlsOptions.FromPemFiles(pki.ControllerCert, pki.ControllerKey, pki.SwitchCa);
        await using var listener = new OpenFlowListener(new IPEndPoint(IPAddress.Loopback, 0), new OpenFlowOptions { Tls = tls });
        listener.Start();

        // The switch from our PKI: the TLS handshake completes and the session greets it with HELLO (type 0).
        await using (var good = await ConnectAsync(listener.LocalEndpoint, X509Certificate2.CreateFromPemFile(pki.SwitchCert, pki.SwitchKey), pki))
        {
            var header = new byte[8];
            await good.ReadExactlyAsync(header).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal((byte)4, header[0]); // OpenFlow 1.3
            Assert.Equal((byte)0, header[1]); // HELLO
        }
        Assert.Equal(0, listener.TlsRefused);

        // A switch certificate from another PKI's switchca, and no certificate at all: refused in the handshake.
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var rogue = await ConnectAsync(listener.LocalEndpoint, X509Certificate2.CreateFromPemFile(other.SwitchCert, other.SwitchKey), pki);
            await rogue.ReadExactlyAsync(new byte[8]).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        });
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var anonymous = await ConnectAsync(listener.LocalEndpoint, null, pki);
            await anonymous.ReadExactlyAsync(new byte[8]).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        });
        for (int i = 0; i < 400 && listener.TlsRefused < 2; i++) await Task.Delay(25);
        Assert.Equal(2, listener.TlsRefused);
        Assert.Empty(listener.Switches);
    }

    /// <summary>A TLS client as a switch is one: its certificate, and the controller's checked against the controllerca.</summary>
    private static async Task<SslStream> ConnectAsync(IPEndPoint at, X509Certificate2? certificate, OvsPki trust)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(at);
        var controllerCa = X509CertificateLoader.LoadCertificateFromFile(trust.ControllerCa);
        var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, cert, _, _) =>
        {
            if (cert is null) return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(controllerCa);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(cert));
        });
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "controller",
            ClientCertificates = certificate is null ? null : [certificate],
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        });
        return ssl;
    }
}
