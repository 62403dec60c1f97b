using System.Net;
using SubsetMulticast.Snmp.Client;
using SubsetMulticast.Snmp.Messages;
using SubsetMulticast.Snmp.Security;
using SubsetMulticast.Snmp.Tests.Support;

namespace SubsetMulticast.Snmp.Tests.Interop;

/// <summary>Our manager against a real net-snmp 5.9 snmpd: the same values snmpget prints, and typed errors for bad credentials.</summary>
public sealed class ManagerAgainstSnmpdTests : IDisposable
{
    private readonly Snmpd _agent = new();
    private readonly SnmpClient _client = new();

    // Stable objects (sysUpTime moves): sysDescr, sysObjectID, sysContact, sysName, sysLocation, sysORID.1, snmpEngineID, sysORUpTime.1 (TimeTicks).
    private static readonly string[] Oids =
        ["1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.4.0", "1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.6.0", "1.3.6.1.2.1.1.9.1.2.1", "1.3.6.1.6.3.10.2.1.1.0", "1.3.6.1.2.1.1.9.1.4.1", "1.3.6.1.2.1.1.7.0", "1.3.6.1.2.1.1.99.0"];

    public void Dispose()
    {
        _client.DisposeAsync().AsTask().Wait();
        _agent.Dispose();
    }

    [Fact]
    public async Task V2c_Get_PrintsWhatSnmpgetPrints()
    {
        var r = await _client.GetAsync(SnmpTarget.V2c(_agent.Endpoint, "public"), Oids.Select(ObjectIdentifier.Parse));
        Assert.True(r.Succeeded, r.ToString());
        var (code, expected, err) = _agent.Tool("snmpget", ["-On", "-v2c", "-c", "public", $"127.0.0.1:{_agent.Port}", .. Oids]);
        Assert.True(code == 0, err);
        Assert.Equal(Lines(expected), r.VarBinds.Select(v => v.ToString()).ToArray());
    }

    [Fact]
    public async Task V1_Get_PrintsWhatSnmpgetPrints()
    {
        string[] oids = Oids[..7];
        var r = await _client.GetAsync(new SnmpTarget(_agent.Endpoint, SnmpVersion.V1) { Community = "public" }, oids.Select(ObjectIdentifier.Parse));
        Assert.True(r.Succeeded, r.ToString());
        var (code, expected, err) = _agent.Tool("snmpget", ["-On", "-v1", "-c", "public", $"127.0.0.1:{_agent.Port}", .. oids]);
        Assert.True(code == 0, err);
        Assert.Equal(Lines(expected), r.VarBinds.Select(v => v.ToString()).ToArray());
    }

    public static TheoryData<string> V3Users => new(Snmpd.Users.Select(u => u.User));

    [Theory]
    [MemberData(nameof(V3Users))]
    public async Task V3AuthPriv_Get_PrintsWhatSnmpgetPrints(string name)
    {
        var u = Snmpd.Users.Single(x => x.User == name);
        var r = await _client.GetAsync(SnmpTarget.V3(_agent.Endpoint, User(u)), Oids.Select(ObjectIdentifier.Parse));
        Assert.True(r.Succeeded, r.ToString());
        var (code, expected, err) = _agent.Tool("snmpget", ["-On", "-v3", "-l", "authPriv", "-u", u.User, "-a", u.Auth, "-A", u.AuthPass, "-x", u.Priv, "-X", u.PrivPass, $"127.0.0.1:{_agent.Port}", .. Oids]);
        Assert.True(code == 0, err);
        Assert.Equal(Lines(expected), r.VarBinds.Select(v => v.ToString()).ToArray());
    }

    [Fact]
    public async Task V3_BulkWalk_SameAsSnmpbulkwalk()
    {
        var u = Snmpd.Users.Single(x => x.User == "u512");
        var root = "1.3.6.1.2.1.1.9";   // sysORTable: stable, several rows
        var w = await _client.WalkAsync(SnmpTarget.V3(_agent.Endpoint, User(u)) with { MaxRepetitions = 5 }, ObjectIdentifier.Parse(root));
        Assert.True(w.Succeeded, w.Error?.ToString());
        var (code, expected, err) = _agent.Tool("snmpbulkwalk", ["-On", "-v3", "-l", "authPriv", "-u", u.User, "-a", u.Auth, "-A", u.AuthPass, "-x", u.Priv, "-X", u.PrivPass, $"127.0.0.1:{_agent.Port}", root]);
        Assert.True(code == 0, err);
        Assert.Equal(Lines(expected), w.VarBinds.Select(v => v.ToString()).ToArray());
        Assert.True(w.VarBinds.Count > 8);
    }

    [Fact]
    public async Task V2c_Set_ThenSnmpgetSeesIt()
    {
        // sysLocation is writable when the config file does not set it (net-snmp system_mib).
        var target = SnmpTarget.V2c(_agent.Endpoint, "private");
        var location = ObjectIdentifier.Parse("1.3.6.1.2.1.1.6.0");
        var set = await _client.SetAsync(target, [new VarBind(location, SnmpValue.OctetString("row 4, rack 7"))]);
        Assert.True(set.Succeeded, set.ToString());
        var (_, after, _) = _agent.Tool("snmpget", ["-On", "-v2c", "-c", "public", $"127.0.0.1:{_agent.Port}", location.ToString()]);
        Assert.Equal(".1.3.6.1.2.1.1.6.0 = STRING: \"row 4, rack 7\"", after.Trim());
        // A wrong type is refused with the varbind's index, and changes nothing.
        var wrong = await _client.SetAsync(target, [new VarBind(location, SnmpValue.Integer(7))]);
        Assert.Equal(SnmpErrorKind.ErrorStatus, wrong.Error?.Kind);
        Assert.Equal(SnmpErrorStatus.WrongType, wrong.Error!.Status);
        Assert.Equal(1, wrong.Error.Index);
        var (_, still, _) = _agent.Tool("snmpget", ["-On", "-v2c", "-c", "public", $"127.0.0.1:{_agent.Port}", location.ToString()]);
        Assert.Equal(after, still);
    }

    [Fact]
    public async Task WrongCommunity_TimesOut_AsTyped()
    {
        var r = await _client.GetAsync(SnmpTarget.V2c(_agent.Endpoint, "wrong") with { Timeout = TimeSpan.FromMilliseconds(200), Retries = 1 }, [ObjectIdentifier.Parse("1.3.6.1.2.1.1.5.0")]);
        Assert.Equal(SnmpErrorKind.Timeout, r.Error?.Kind);
        Assert.DoesNotContain("wrong", r.Error!.Message);
    }

    [Fact]
    public async Task UnknownUser_IsUnknownUserName()
    {
        var r = await _client.GetAsync(SnmpTarget.V3(_agent.Endpoint, new UsmUser("nobody", AuthProtocol.Sha256, "whatever1", PrivProtocol.Aes128, "whatever2")), [ObjectIdentifier.Parse("1.3.6.1.2.1.1.5.0")]);
        Assert.Equal(SnmpErrorKind.UnknownUserName, r.Error?.Kind);
    }

    [Fact]
    public async Task WrongAuthKey_IsWrongDigest()
    {
        var r = await _client.GetAsync(SnmpTarget.V3(_agent.Endpoint, new UsmUser("u256", AuthProtocol.Sha256, "not-the-password", PrivProtocol.Aes128, "privpass256")), [ObjectIdentifier.Parse("1.3.6.1.2.1.1.5.0")]);
        Assert.Equal(SnmpErrorKind.WrongDigest, r.Error?.Kind);
    }

    [Fact]
    public async Task PrivacyForAnAuthOnlyUser_IsUnsupportedSecurityLevel()
    {
        var r = await _client.GetAsync(SnmpTarget.V3(_agent.Endpoint, new UsmUser(Snmpd.AuthOnlyUser, AuthProtocol.Sha1, Snmpd.AuthOnlyPass, PrivProtocol.Aes128, "privpass-none")), [ObjectIdentifier.Parse("1.3.6.1.2.1.1.5.0")]);
        Assert.Equal(SnmpErrorKind.UnsupportedSecurityLevel, r.Error?.Kind);
        // The same user at its own level works.
        var ok = await _client.GetAsync(SnmpTarget.V3(_agent.Endpoint, new UsmUser(Snmpd.AuthOnlyUser, AuthProtocol.Sha1, Snmpd.AuthOnlyPass)), [ObjectIdentifier.Parse("1.3.6.1.2.1.1.5.0")]);
        Assert.True(ok.Succeeded, ok.ToString());
        Assert.Equal("STRING: \"tsm-test\"", ok.VarBinds[0].Value.ToNetSnmpString());
    }

    [Fact]
    public async Task BelowTheAccessLevel_IsAuthorizationError()
    {
        // usha may read at priv only (rwuser … priv): at noAuthNoPriv VACM refuses with authorizationError.
        var r = await _client.GetAsync(SnmpTarget.V3(_agent.Endpoint, new UsmUser("usha")), [ObjectIdentifier.Parse("1.3.6.1.2.1.1.5.0")]);
        Assert.Equal(SnmpErrorKind.ErrorStatus, r.Error?.Kind);
        Assert.Equal(SnmpErrorStatus.AuthorizationError, r.Error!.Status);
    }

    internal static UsmUser User((string User, string Auth, string AuthPass, string Priv, string PrivPass) u)
    {
        Assert.True(UsmProtocols.TryParseAuth(u.Auth, out var a));
        Assert.True(UsmProtocols.TryParsePriv(u.Priv, out var p));
        return new UsmUser(u.User, a, u.AuthPass, p, u.PrivPass);
    }

    internal static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
}
