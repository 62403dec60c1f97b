using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace SubsetMulticast.OpenFlow.Connections;

/// <summary>
/// OpenFlow over TLS, as Open vSwitch's <c>ssl:</c> controllers speak it (<c>ovs-vsctl set-ssl KEY CERT CACERT</c>):
/// the controller shows <see cref="Certificate"/>, and a switch must show a certificate that chains to one of
/// <see cref="SwitchAuthorities"/> (for <c>ovs-pki</c>, the switchca's cacert.pem) — only those, not the system's
/// trust store. A switch without one, or with one from another CA, is refused before a byte of OpenFlow is read.
/// </summary>
public sealed class OpenFlowTlsOptions
{
    /// <summary>The controller's certificate with its private key (the switches check it against their CACERT).</summary>
    public required X509Certificate2 Certificate { get; init; }

    /// <summary>The CA(s) a switch certificate must chain to.</summary>
    public required X509Certificate2Collection SwitchAuthorities { get; init; }

    /// <summary>How long a TLS handshake may take; a peer that stalls is dropped.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>From PEM files: the certificate (and its key, in the same file or in <paramref name="keyPem"/>), and the switch CA.</summary>
    public static OpenFlowTlsOptions FromPemFiles(string certificatePem, string? keyPem, string switchCaPem)
    {
        var certificate = X509Certificate2.CreateFromPemFile(certificatePem, keyPem);
        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(switchCaPem);
        if (authorities.Count == 0) throw new ArgumentException($"{switchCaPem} holds no certificate.", nameof(switchCaPem));
        return new OpenFlowTlsOptions { Certificate = certificate, SwitchAuthorities = authorities };
    }

    /// <summary>True when <paramref name="certificate"/> chains to one of <see cref="SwitchAuthorities"/>.</summary>
    public bool Accepts(X509Certificate? certificate, out string reason)
    {
        if (certificate is null) { reason = "the switch sent no certificate"; return false; }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(SwitchAuthorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // ovs-pki issues no CRLs; revoke by replacing the CA
        using var cert = new X509Certificate2(certificate);
        if (chain.Build(cert)) { reason = ""; return true; }
        reason = $"certificate '{cert.Subject}' does not chain to the switch CA ({string.Join(", ", chain.ChainStatus.Select(s => s.Status))})";
        return false;
    }

    /// <summary>The server side of the handshake on an accepted socket; the stream the session then reads. Throws <see cref="AuthenticationException"/> when refused.</summary>
    internal async Task<SslStream> AuthenticateAsync(Socket socket, CancellationToken cancellationToken)
    {
        string reason = "";
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false,
            (_, certificate, _, _) => Accepts(certificate, out reason)); // the chain is ours to judge: SslStream's errors (no trust in the system store) do not count
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(HandshakeTimeout);
        try
        {
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = Certificate,
                ClientCertificateRequired = true,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            }, timeout.Token).ConfigureAwait(false);
            return ssl;
        }
        catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new AuthenticationException(reason.Length > 0 ? reason
                : e is OperationCanceledException ? $"no TLS handshake within {HandshakeTimeout.TotalSeconds:0} s" : e.Message, e);
        }
    }
}
