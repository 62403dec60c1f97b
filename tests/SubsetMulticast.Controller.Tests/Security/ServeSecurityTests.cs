using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using SubsetMulticast.Controller.Security;

namespace SubsetMulticast.Controller.Tests.Security;

/// <summary>
/// The real <c>tsm serve</c> process (emulated fabric, VLAN 1, reference 239.1.0.1, API on a free loopback port) with a
/// clients file: every refusal is problem+json and leaves the groups exactly as they were.
/// </summary>
public sealed class ServeSecurityTests
{
    private const string Reference = "239.1.0.1";

    [Fact]
    public async Task Serve_WithClients_RefusesWhatEachTokenMayNotDo_AsProblemJson_AndChangesNothing()
    {
        var tokens = new Dictionary<string, string>();
        var lines = new StringBuilder("# test clients\n");
        foreach (var (name, scopes) in new[] { ("reader", "read"), ("vlan1", "groups:write:1"), ("vlan2", "groups:write:2"), ("other", "groups:write:1:239.1.0.1"), ("admin", "admin"), ("flood", "read") })
        {
            tokens[name] = ApiClientTable.NewToken();
            lines.AppendLine(ApiClientTable.FormatLine(new ApiClient(name, scopes.Split(',').Select(s => ApiScope.TryParse(s, out var x) ? x.Value : throw new ArgumentException(s)).ToList(), ApiClientTable.HashToken(tokens[name]))));
        }
        Assert.DoesNotContain(tokens["admin"], lines.ToString()); // only hashes at rest
        // The clients come from the environment, named by a TSM_ setting (the --config/TSM_* path): no file, nothing on the command line.
        string variable = "TSM_TEST_CLIENTS_" + Random.Shared.Next(1_000_000);
        await using var serve = await Serve.StartAsync(new Dictionary<string, string> { ["TSM_API_CLIENTS"] = "env:" + variable, [variable] = lines.ToString() },
            "--fabric", "leaf-spine:2:2:4", "--push-udp", "off", "--quota-client", "2", "--quota-reference", "3", "--rate-limit", "20", "--max-body", "4096");
        using var http = new HttpClient { BaseAddress = serve.Api, Timeout = TimeSpan.FromSeconds(30) };
        var hosts = JsonDocument.Parse(await SendAsync(http, HttpMethod.Get, "api/v1/topology", tokens["reader"]).ContinueWith(t => t.Result.Body))
            .RootElement.GetProperty("hosts").EnumerateArray().Select(h => h.GetProperty("ip").GetString()!).ToArray();
        string Body(int vlan = 1, string? group = null, params string[] members) => JsonSerializer.Serialize(new { vlan, reference = Reference, members = members.Length > 0 ? members : hosts[..2], ttlMs = 600_000, group });

        // No token, a wrong token: 401 with a Bearer challenge.
        var none = await SendAsync(http, HttpMethod.Get, "api/v1/groups", null);
        AssertProblem(none, 401, "unauthenticated");
        Assert.StartsWith("Bearer", none.Response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        AssertProblem(await SendAsync(http, HttpMethod.Post, "api/v1/groups", "tsm_not-a-token", Body()), 401, "unauthenticated");
        AssertProblem(await SendAsync(http, HttpMethod.Get, "metrics", null), 401, "unauthenticated");
        string before = await GroupsAsync(http, tokens);
        Assert.Equal("[]", before);

        // A read token cannot create; a VLAN 2 token cannot touch VLAN 1; a VLAN 1 token cannot touch VLAN 2.
        var readerCreates = await SendAsync(http, HttpMethod.Post, "api/v1/groups", tokens["reader"], Body());
        AssertProblem(readerCreates, 403, "forbidden");
        Assert.Contains("'reader' has no scope that allows this: it needs groups:write or more", // the endpoint policy's reason
            JsonDocument.Parse(readerCreates.Body).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        AssertProblem(await SendAsync(http, HttpMethod.Get, "api/v1/groups", tokens["reader"] + "x"), 401, "unauthenticated");
        AssertProblem(await SendAsync(http, HttpMethod.Post, "api/v1/groups", tokens["vlan2"], Body()), 403, "forbidden");
        AssertProblem(await SendAsync(http, HttpMethod.Post, "api/v1/groups", tokens["vlan1"], Body(vlan: 2)), 403, "forbidden");
        AssertProblem(await SendAsync(http, HttpMethod.Post, "api/v1/persistent-sets", tokens["vlan1"],
            JsonSerializer.Serialize(new { vlan = 1, reference = Reference, members = hosts[..4], k = 2 })), 403, "forbidden");
        Assert.Equal(before, await GroupsAsync(http, tokens));

        // vlan1 creates A; "other" (allowed on that reference group) may not refresh, release or supersede it.
        var a = await SendAsync(http, HttpMethod.Post, "api/v1/groups", tokens["vlan1"], Body());
        Assert.True(a.Status == 201, a.Body);
        var view = JsonDocument.Parse(a.Body).RootElement;
        string idA = view.GetProperty("id").GetString()!, addressA = view.GetProperty("group").GetString()!;
        string withA = await GroupsAsync(http, tokens);
        AssertProblem(await SendAsync(http, HttpMethod.Delete, $"api/v1/groups/{idA}", tokens["other"]), 403, "forbidden");
        AssertProblem(await SendAsync(http, HttpMethod.Post, $"api/v1/groups/{idA}/refresh", tokens["other"]), 403, "forbidden");
        AssertProblem(await SendAsync(http, HttpMethod.Post, "api/v1/groups", tokens["other"], Body(group: addressA)), 403, "forbidden");
        AssertProblem(await SendAsync(http, HttpMethod.Delete, $"api/v1/groups/{idA}", tokens["reader"]), 403, "forbidden");
        Assert.Equal(withA, await GroupsAsync(http, tokens));
        Assert.Equal(200, (await SendAsync(http, HttpMethod.Post, $"api/v1/groups/{idA}/refresh", tokens["vlan1"])).Status); // its creator may

        // Quotas: vlan1 may hold 2 live groups; the reference group 3 in all.
        Assert.Equal(201, (await SendAsync(http, HttpMethod.Post, "api/v1/groups", tokens["vlan1"], Body())).Status);
        string full = await GroupsAsync(http, tokens);
        var overClient = await SendAsync(http, HttpMethod.Post, "api/v1/groups", tokens["vlan1"], Body());
        AssertProblem(overClient, 429, "quota-exceeded");
        Assert.True(overClient.Response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After on a quota refusal");
        Assert.Equal(full, await GroupsAsync(http, tokens));
        Assert.Equal(201, (await SendAsync(http, HttpMethod.Post, "api/v1/groups", tokens["other"], Body())).Status);
        string three = await GroupsAsync(http, tokens);
        AssertProblem(await SendAsync(http, HttpMethod.Post, "api/v1/groups", tokens["admin"], Body()), 429, "quota-exceeded");
        Assert.Equal(three, await GroupsAsync(http, tokens));

        // An admin may release anyone's group; the slot is free again.
        Assert.Equal(204, (await SendAsync(http, HttpMethod.Delete, $"api/v1/groups/{idA}", tokens["admin"])).Status);
        Assert.Equal(201, (await SendAsync(http, HttpMethod.Post, "api/v1/groups", tokens["vlan1"], Body())).Status);

        // A body over --max-body: 413, nothing created.
        string now = await GroupsAsync(http, tokens);
        var big = await SendAsync(http, HttpMethod.Post, "api/v1/groups", tokens["admin"], Body(members: [.. Enumerable.Repeat("10.0.1.1", 1000)]));
        AssertProblem(big, 413, "");
        Assert.Equal(now, await GroupsAsync(http, tokens));

        // 20 requests per second per client: a burst of 60 from one client meets 429 with Retry-After; other clients are not slowed.
        var burst = await Task.WhenAll(Enumerable.Range(0, 60).Select(_ => SendAsync(http, HttpMethod.Get, "api/v1/groups", tokens["flood"])));
        var limited = burst.Where(r => r.Status == 429).ToList();
        Assert.NotEmpty(limited);
        Assert.All(limited, r => { AssertProblem(r, 429, "rate-limited"); Assert.True(r.Response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1)); });
        Assert.All(burst.Where(r => r.Status != 429), r => Assert.Equal(200, r.Status));
        Assert.Equal(200, (await SendAsync(http, HttpMethod.Get, "api/v1/groups", tokens["reader"])).Status);
        Assert.Equal(now, await GroupsAsync(http, tokens));
        Assert.False(serve.HasExited);
    }

    [Fact]
    public async Task Serve_BeyondLoopbackWithoutClients_RefusesToStart()
    {
        var (code, stderr) = await Serve.RunToExitAsync("--fabric", "single:4", "--api", "http://0.0.0.0:0", "--push-udp", "off", "--quiet");
        Assert.Equal(2, code);
        Assert.Contains("beyond loopback", stderr, StringComparison.Ordinal);
        Assert.Contains("--api-clients", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_PushKeyOnTheCommandLine_IsRefused_AndARandomKeyIsNeverPrinted()
    {
        var (code, stderr) = await Serve.RunToExitAsync("--fabric", "single:4", "--push-keys", "00112233445566778899aabbccddeeff");
        Assert.Equal(2, code);
        Assert.Contains("file:PATH or env:VAR", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("00112233445566778899aabbccddeeff", stderr, StringComparison.Ordinal);

        string keyFile = Path.Combine(Path.GetTempPath(), $"tsm-push-{Guid.NewGuid():N}.keys");
        string key = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        await File.WriteAllTextAsync(keyFile, $"# rollover: id 1 and id 2 both verify; 2 signs\n1 1 {key}\n1 2 {Convert.ToHexString(RandomNumberGenerator.GetBytes(32))}\n");
        try
        {
            await using var serve = await Serve.StartAsync([], "--fabric", "single:4", "--push-udp", "127.0.0.1:0", "--push-keys", "file:" + keyFile);
            Assert.Contains("signing key id 2", serve.Banner, StringComparison.Ordinal);
            Assert.DoesNotContain(key, serve.Banner, StringComparison.OrdinalIgnoreCase);
        }
        finally { File.Delete(keyFile); }
    }

    /// <summary>HTTPS with a given certificate, and mutual TLS: a client certificate from the CA is the client its CN names; one from another CA never gets through the handshake.</summary>
    [Fact]
    public async Task Serve_HttpsWithClientCertificates_CertificateNamesTheClient_OtherCaRefused()
    {
        using var ca = MakeCa("tsm test CA");
        using var otherCa = MakeCa("another CA");
        using var server = Issue(ca, "127.0.0.1", serverAuth: true);
        using var monitor = Issue(ca, "monitor", serverAuth: false);
        using var rogue = Issue(otherCa, "monitor", serverAuth: false);
        var dir = Directory.CreateTempSubdirectory("tsm-tls-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "server.pem"), server.ExportCertificatePem());
            await File.WriteAllTextAsync(Path.Combine(dir, "server.key"), server.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
            await File.WriteAllTextAsync(Path.Combine(dir, "ca.pem"), ca.ExportCertificatePem());
            await File.WriteAllTextAsync(Path.Combine(dir, "clients"), "client monitor scopes=read\n");
            await using var serve = await Serve.StartAsync([], "--fabric", "single:4", "--push-udp", "off", "--api", "https://127.0.0.1:0",
                "--api-cert", Path.Combine(dir, "server.pem"), "--api-cert-key", Path.Combine(dir, "server.key"),
                "--api-client-ca", Path.Combine(dir, "ca.pem"), "--api-clients", "file:" + Path.Combine(dir, "clients"));
            Assert.Equal("https", serve.Api.Scheme);

            HttpClient Client(X509Certificate2? certificate)
            {
                var handler = new HttpClientHandler
                {
                    // Trust our CA only, for the server's certificate too.
                    ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert is not null && ApiSecurityComposition.ChainsTo(cert, [ca]),
                };
                if (certificate is not null) handler.ClientCertificates.Add(certificate);
                return new HttpClient(handler) { BaseAddress = serve.Api, Timeout = TimeSpan.FromSeconds(30) };
            }
            using (var anonymous = Client(null))
                AssertProblem(await SendAsync(anonymous, HttpMethod.Get, "api/v1/groups", null), 401, "unauthenticated");
            using (var good = Client(monitor))
            {
                Assert.Equal(200, (await SendAsync(good, HttpMethod.Get, "api/v1/groups", null)).Status);
                AssertProblem(await SendAsync(good, HttpMethod.Post, "api/v1/groups", null,
                    JsonSerializer.Serialize(new { vlan = 1, reference = Reference, members = new[] { "10.0.1.1" } })), 403, "forbidden");
            }
            using (var bad = Client(rogue))
                await Assert.ThrowsAsync<HttpRequestException>(() => bad.GetAsync("api/v1/groups"));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public async Task TokenCreate_PrintsTheTokenOnce_WritesOnlyItsHash()
    {
        string file = Path.Combine(Path.GetTempPath(), $"tsm-clients-{Guid.NewGuid():N}");
        try
        {
            var psi = Serve.Psi("token", "create", "storage-a", "--scope", "read", "--scope", "groups:write:1:239.1.0.1", "--clients", file);
            using var p = Process.Start(psi)!;
            string token = (await p.StandardOutput.ReadToEndAsync()).Trim();
            await p.WaitForExitAsync();
            Assert.Equal(0, p.ExitCode);
            Assert.StartsWith(ApiClientTable.TokenPrefix, token, StringComparison.Ordinal);
            string text = await File.ReadAllTextAsync(file);
            Assert.DoesNotContain(token, text, StringComparison.Ordinal);
            var table = ApiClientTable.Parse(text, file);
            Assert.True(table.TryAuthenticate(token, out var client));
            Assert.Equal("storage-a", client.Name);
            Assert.Equal(["read", "groups:write:1:239.1.0.1"], client.Scopes.Select(s => s.ToString()));
            Assert.False(table.TryAuthenticate(token + "x", out _));
        }
        finally { File.Delete(file); }
    }

    private sealed record Reply(int Status, string Body, string? ContentType, HttpResponseMessage Response);

    private static async Task<Reply> SendAsync(HttpClient http, HttpMethod method, string path, string? token, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        var response = await http.SendAsync(request);
        return new Reply((int)response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.MediaType, response);
    }

    private static void AssertProblem(Reply r, int status, string slug)
    {
        Assert.True(r.Status == status, $"expected {status}, got {r.Status}: {r.Body}");
        Assert.Equal("application/problem+json", r.ContentType);
        var problem = JsonDocument.Parse(r.Body).RootElement;
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.StartsWith("urn:tsm:problem:" + slug, problem.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
    }

    /// <summary>The live groups as the admin sees them (ids, addresses, members, leases): equal strings mean nothing changed.</summary>
    private static async Task<string> GroupsAsync(HttpClient http, Dictionary<string, string> tokens)
    {
        var r = await SendAsync(http, HttpMethod.Get, "api/v1/groups", tokens["admin"]);
        Assert.Equal(200, r.Status);
        return r.Body;
    }

    private static X509Certificate2 MakeCa(string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string name, bool serverAuth)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(serverAuth ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        if (serverAuth)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
        }
        var serial = RandomNumberGenerator.GetBytes(8);
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(12), serial);
        var withKey = issued.CopyWithPrivateKey(key);
        // A PKCS#12 round trip: SslStream on Linux wants a key it can hand to OpenSSL, not an ephemeral handle.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }
}

/// <summary>A <c>tsm serve</c> child process of ours (stopped by its handle), its API address read from its banner.</summary>
internal sealed class Serve : IAsyncDisposable
{
    private readonly Process _process;

    private Serve(Process process, Uri api, string banner)
    {
        _process = process;
        Api = api;
        Banner = banner;
    }

    public Uri Api { get; }
    public string Banner { get; }
    public bool HasExited => _process.HasExited;

    public static ProcessStartInfo Psi(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(typeof(SubsetMulticast.Cli.Program).Assembly.Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return psi;
    }

    public static async Task<Serve> StartAsync(Dictionary<string, string> environment, params string[] args)
    {
        var psi = Psi(["serve", .. args.Contains("--api") ? [] : new[] { "--api", "http://127.0.0.1:0" }, "--quiet", .. args]);
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        var p = Process.Start(psi)!;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            var banner = new StringBuilder();
            string? api = null;
            while (true)
            {
                var line = await p.StandardOutput.ReadLineAsync(cts.Token)
                    ?? throw new Xunit.Sdk.XunitException($"tsm serve exited: {await p.StandardError.ReadToEndAsync(cts.Token)}");
                banner.AppendLine(line);
                var t = line.Trim();
                if (t.StartsWith("api ", StringComparison.Ordinal)) api = t[3..].Trim().Replace("api/v1/groups", "", StringComparison.Ordinal);
                if (t == "Ctrl-C stops.") break;
            }
            _ = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            return new Serve(p, new Uri(api ?? throw new Xunit.Sdk.XunitException("no api line")), banner.ToString());
        }
        catch
        {
            p.Kill(entireProcessTree: true);
            p.Dispose();
            throw;
        }
    }

    public static async Task<(int Code, string Stderr)> RunToExitAsync(params string[] args)
    {
        using var p = Process.Start(Psi(["serve", .. args]))!;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var stderr = p.StandardError.ReadToEndAsync(cts.Token);
        _ = p.StandardOutput.ReadToEndAsync(cts.Token);
        try { await p.WaitForExitAsync(cts.Token); }
        finally { if (!p.HasExited) p.Kill(entireProcessTree: true); }
        return (p.ExitCode, await stderr);
    }

    public async ValueTask DisposeAsync()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try { await _process.WaitForExitAsync(cts.Token); } catch (OperationCanceledException) { }
        _process.Dispose();
    }
}
