using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using SubsetMulticast.Cli.CommandLine;
using SubsetMulticast.Cli.Emulated;
using SubsetMulticast.Cluster;
using SubsetMulticast.Cluster.Etcd;
using SubsetMulticast.Controller;
using SubsetMulticast.Controller.Composition;
using SubsetMulticast.Controller.Observability;
using SubsetMulticast.Controller.OpenFlowFabric;
using SubsetMulticast.Controller.Push;
using SubsetMulticast.Controller.Security;
using SubsetMulticast.OpenFlow.Connections;
using Microsoft.Extensions.DependencyInjection;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Emulator;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.Learning;
using SubsetMulticast.OpenFlow.Discovery;
using SubsetMulticast.OpenFlow.Southbound;
using SubsetMulticast.Push;
using SubsetMulticast.Snooping;

namespace SubsetMulticast.Cli.Commands;

/// <summary>
/// <c>tsm serve</c>: the controller service on an emulated fabric, until Ctrl-C. Every host joins the
/// reference group (real IGMPv3 reports, learned by the controller from the switches' control frames) so that
/// rendezvous groups can be requested at once over REST or pushed over UDP. With <c>--openflow ADDR:PORT</c> it
/// serves real switches instead: they connect over OpenFlow 1.3, the topology is learned by LLDP, reference
/// groups from punted IGMP/MLD, hosts from ARP/ND. Settings come from flags, <c>TSM_*</c> variables and <c>--config</c>.
/// </summary>
internal static class ServeCommand
{
    /// <summary>A secret's source: file:PATH or env:VAR, never the secret itself on the command line.</summary>
    private static Option<string?> Secret(string name, string description)
    {
        var option = new Option<string?>(name) { Description = description + " file:PATH or env:VAR.", HelpName = "file:PATH|env:VAR" };
        option.CustomParser = result =>
        {
            if (result.Tokens.Count == 0) return null;
            var t = result.Tokens[^1].Value;
            if (t.StartsWith("file:", StringComparison.Ordinal) && t.Length > 5 || t.StartsWith("env:", StringComparison.Ordinal) && t.Length > 4) return t;
            // Not echoed: what was given may be the secret itself.
            result.AddError($"{name} must be file:PATH or env:VAR (a secret is never given on the command line; the value given is not repeated here).");
            return null;
        };
        return option;
    }

    private const ushort EmulatedVlan = 1;
    private const string V6Block = "ff15::7:0/112";
    private const int DefaultQueryInterval = 125, DefaultQueryResponse = 10;

    /// <summary>Everything <c>tsm serve</c> runs with, parsed and validated.</summary>
    private sealed record Settings(string Api, IPEndPoint? PushUdp, bool PushUdpGiven, string Block, bool Quiet)
    {
        public FabricSpec? Fabric { get; init; }
        public string FabricText { get; init; } = "";
        public ApplyMode Mode { get; init; }
        public IpAddress Reference { get; init; }
        public string? PushKeys { get; init; }
        public ApiSecurityOptions ApiSecurity { get; init; } = new();
        public OpenFlowTlsOptions? OpenFlowTls { get; init; }
        public IPEndPoint? OpenFlow { get; init; }
        public ushort Vlan { get; init; }
        public int LldpSeconds { get; init; }
        public RuleEncoding Encoding { get; init; }
        public int AuditSeconds { get; init; } = 60;
        public SnoopingOptions Snooping { get; init; } = new();
        public LogFormat LogFormat { get; init; }
        public string? Snmp { get; init; }

        /// <summary>A second REST listener speaking HTTP/2 cleartext with prior knowledge (--api-h2c); null: none.</summary>
        public string? ApiH2c { get; init; }

        /// <summary>Whether an idle switch channel is written on the submitting thread (--openflow-write submitter, the default) or by a pool pass.</summary>
        public bool WriteOnSubmitter { get; init; } = true;

        /// <summary>The etcd URL groups are stored at; null: in memory.</summary>
        public string? Etcd { get; init; }

        /// <summary>This node's id when serving as one node of a cluster (--cluster); null: alone.</summary>
        public string? NodeId { get; init; }
        public int NodeTtl { get; init; } = 2;

        /// <summary>How long one etcd call may take before what needed it is refused (503 for a REST request).</summary>
        public int EtcdTimeout { get; init; } = 5;
    }

    public static Command Create()
    {
        const string DefaultFabric = "leaf-spine:2:4:8";
        var fabric = OptionKinds.Fabric("--fabric", "The emulated fabric:", DefaultFabric);
        var api = OptionKinds.Parsed<string>("--api", "Where the REST API listens (port 0: any free port; beyond loopback it requires --api-clients or --api-client-ca).", "URL",
            t => Uri.TryCreate(t, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps) && u.AbsolutePath == "/" ? t : null,
            "must be a URL like http://127.0.0.1:8080 or https://0.0.0.0:8443");
        api.DefaultValueFactory = _ => "http://127.0.0.1:8080";
        var apiH2c = OptionKinds.Parsed<string>("--api-h2c", "A second REST listener for HTTP/2 cleartext clients (prior knowledge, no upgrade): one multiplexed connection, no head-of-line wait per request (port 0: any free port; loopback only).", "URL",
            t => Uri.TryCreate(t, UriKind.Absolute, out var u) && u.Scheme == Uri.UriSchemeHttp && u.AbsolutePath == "/" && u.IsLoopback ? t : null,
            "must be a loopback URL like http://127.0.0.1:8081");
        var pushUdp = OptionKinds.EndPoint("--push-udp", "Where the push-instruction endpoint listens (default 127.0.0.1:9470 emulated, off with --openflow).", allowOff: true, "127.0.0.1:9470");
        var mode = OptionKinds.Choice("--mode", "computed: the controller programs each switch; pushed: one signed instruction to every switch's agent (emulated only).", "computed", "computed", "pushed");
        var reference = OptionKinds.Address("--reference", "The reference group every emulated host joins (default 239.1.0.1).",
            ip => ip.IsMulticast && !ip.IsV6, "must be an IPv4 multicast group");
        var block = OptionKinds.Parsed<string>("--block", "The IPv4 block transactional groups are allocated from.", "CIDR", t =>
        {
            try { new LifecycleOptions().AddVlan(1, t, V6Block); return t; }
            catch (Exception e) when (e is FormatException or ArgumentException) { return null; }
        }, "must be a multicast block like 239.255.0.0/16");
        block.DefaultValueFactory = _ => "239.255.0.0/16";
        var pushKeys = Secret("--push-keys", "The push keys: lines 'VLAN KEY-ID HEX' (several ids roll a key over), or one hex key (id 1). Default emulated: a random key, never printed.");
        var apiClients = Secret("--api-clients", "The API's clients: lines 'client NAME scopes=… token-sha256=HEX' (tsm token create). Required beyond loopback unless --api-client-ca.");
        var apiCert = OptionKinds.Text("--api-cert", "HTTPS: the API's certificate (PEM; with its key, or --api-cert-key). --api must be https://.", "PEM");
        var apiCertKey = OptionKinds.Text("--api-cert-key", "The private key of --api-cert (PEM), if not in the same file.", "PEM");
        var apiClientCa = OptionKinds.Text("--api-client-ca", "Mutual TLS: client certificates must chain to this CA (PEM); the CN names the client in --api-clients.", "PEM");
        var rateLimit = OptionKinds.Count("--rate-limit", $"Requests per second per client on /api (0: off; default {ApiSecurityPolicy.DefaultRateLimit} when authentication is required, else off).", 0);
        var quotaClient = OptionKinds.Count("--quota-client", $"Live groups one client may hold (0: off; default {ApiSecurityPolicy.DefaultClientQuota} when authentication is required, else off).", 0);
        var quotaReference = OptionKinds.Count("--quota-reference", $"Live groups per reference group (0: off; default {ApiSecurityPolicy.DefaultReferenceQuota} when authentication is required, else off).", 0);
        var maxBody = OptionKinds.Count("--max-body", "The largest request body in bytes (default 1048576).", 1);
        var openflowCert = OptionKinds.Text("--openflow-cert", "OpenFlow over TLS (ssl: controllers): the controller's certificate (PEM; with its key, or --openflow-key). --openflow only.", "PEM");
        var openflowKey = OptionKinds.Text("--openflow-key", "The private key of --openflow-cert (PEM), if not in the same file.", "PEM");
        var openflowCa = OptionKinds.Text("--openflow-ca", "The CA switch certificates must chain to (PEM; ovs-pki's switchca/cacert.pem). With --openflow-cert.", "PEM");
        var quiet = OptionKinds.Flag("--quiet", "No log lines.");
        var logFormat = OptionKinds.Choice("--log-format", "text: one line per event; json: one JSON object per line (timestamp, level, event id, fields).", "text", "text", "json");
        var openflow = OptionKinds.EndPoint("--openflow", "Serve real OpenFlow 1.3 switches connecting here (port 0: any free port).", allowOff: false, "0.0.0.0:6653");
        var vlan = OptionKinds.Int("--vlan", "The VLAN of the groups (0: untagged). --openflow only.", 0, VlanId.MaxValue, 0);
        var lldp = OptionKinds.WholeSeconds("--lldp-interval", "How often every port is probed with LLDP. --openflow only.", 1, 3600, 5);
        var querier = OptionKinds.Address("--querier", "Be the IGMP querier from this address on the switches' host ports. --openflow only.",
            ip => ip.IsV4 && !ip.IsMulticast && !ip.IsUnspecified, "must be an IPv4 unicast address to query from (e.g. 10.0.0.254)");
        var querierV6 = OptionKinds.Address("--querier-v6", "Be the MLD querier from this link-local address too (with --querier).",
            ip => !ip.IsV4 && (ip.High >> 48) == 0xfe80, "must be an IPv6 link-local address (fe80::…, as MLD requires)");
        var queryInterval = OptionKinds.WholeSeconds("--query-interval", "Query interval; memberships last robustness × this + --query-response. --openflow only.", 2, 3175, DefaultQueryInterval);
        var queryResponse = OptionKinds.WholeSeconds("--query-response", "Query response interval. --openflow only.", 1, 3174, DefaultQueryResponse);
        var openflowWrite = OptionKinds.Choice("--openflow-write", "Who writes a setup's messages to an idle switch channel: submitter = the request's own thread, at once (no thread hop); pool = a write pass queued to the thread pool (the request's other work in the same turn rides along). --openflow only.", "submitter", "submitter", "pool");
        var encoding = OptionKinds.Choice("--rule-encoding", "How a group's rule is written to each switch: group = an ALL group and a flow (2 messages); flow = one flow outputting to the ports (1 message). --openflow only.", "group", "group", "flow");
        var auditInterval = OptionKinds.WholeSeconds("--audit-interval", "How often every switch's rules are audited against the intended ones (0: never; tsm audit runs one now).", 0, 86_400, 60);
        var snmp = OptionKinds.Text("--snmp", "Serve SNMP switches listed in FILE (Q-BRIDGE-MIB static multicast; see README, SNMP).", "FILE");
        var store = OptionKinds.Parsed<string>("--store", "Where groups are kept: memory (default), or etcd=URL (durable: a restarted controller reloads its groups; see README, Durable groups).", "STORE",
            t => t == "memory" || (t.StartsWith("etcd=", StringComparison.Ordinal) && Uri.TryCreate(t[5..], UriKind.Absolute, out var u) && u.Scheme is "http" or "https") ? t : null,
            "must be memory or etcd=http://HOST:PORT");
        store.DefaultValueFactory = _ => "memory";
        var cluster = OptionKinds.Parsed<string>("--cluster", "Serve as one node of a controller cluster sharing etcd=URL: groups in etcd, a master per switch, any node takes REST (see README, Controller cluster). --openflow only.", "etcd=URL",
            t => t.StartsWith("etcd=", StringComparison.Ordinal) && Uri.TryCreate(t[5..], UriKind.Absolute, out var u) && u.Scheme is "http" or "https" ? t[5..] : null,
            "must be etcd=http://HOST:PORT");
        var nodeId = OptionKinds.Parsed<string>("--node-id", "This node's name in the cluster (letters, digits, '-'; unique among live nodes). With --cluster.", "ID",
            t => t.Length is > 0 and <= 32 && t.All(c => char.IsAsciiLetterOrDigit(c) || c == '-') ? t : null, "must be 1-32 letters, digits or '-'");
        var nodeTtl = OptionKinds.WholeSeconds("--node-ttl", "Seconds a dead node keeps its masterships (its etcd lease TTL; etcd's minimum is 1.5 × its election timeout). With --cluster.", 1, 60, 2);
        var etcdTimeout = OptionKinds.WholeSeconds("--etcd-timeout", "Seconds one etcd call may take before the request that needed it is refused with 503 (a stalled or unreachable etcd). With --store etcd=… or --cluster.", 1, 60, 5);
        var config = ConfigurationArguments.Create();
        var command = new Command("serve", "The controller service until Ctrl-C: on an emulated fabric, or for OpenFlow 1.3 switches with --openflow.")
        {
            fabric, api, apiH2c, pushUdp, mode, reference, block, pushKeys, quiet, logFormat, openflow, vlan, lldp, querier, querierV6, queryInterval, queryResponse, encoding, openflowWrite, auditInterval, snmp,
            store, cluster, nodeId, nodeTtl, etcdTimeout,
            apiClients, apiCert, apiCertKey, apiClientCa, rateLimit, quotaClient, quotaReference, maxBody, openflowCert, openflowKey, openflowCa, config,
        };
        Option[] emulatedOnly = [fabric, reference, mode];
        Option[] openFlowOnly = [querier, querierV6, queryInterval, queryResponse, lldp, vlan, encoding, openflowWrite, openflowCert, openflowKey, openflowCa];
        command.AddCheck(r =>
        {
            if (r.GetResult(snmp) is { Implicit: false })
            {
                // The SNMP fabric is the file's: emulated-only and OpenFlow-only settings do not apply (--vlan is the file's `vlan`).
                foreach (var o in emulatedOnly.Concat(openFlowOnly).Append(openflow))
                    if (r.GetResult(o) is { Implicit: false }) { r.AddError($"{o.Name} does not apply with --snmp (the switch list file says what the fabric is)."); return; }
                return;
            }
            bool isOpenFlow = r.GetResult(openflow) is { Implicit: false };
            foreach (var o in isOpenFlow ? emulatedOnly : openFlowOnly)
                if (r.GetResult(o) is { Implicit: false })
                {
                    r.AddError(isOpenFlow
                        ? $"{o.Name} does not apply with --openflow: the fabric and its reference groups are learned from the switches, and rules are computed by the controller."
                        : $"{o.Name} applies with --openflow only (the emulated fabric is VLAN {EmulatedVlan} and re-reports on its own).");
                    return;
                }
            if ((r.GetResult(openflowCert) is { Implicit: false }) != (r.GetResult(openflowCa) is { Implicit: false }))
            { r.AddError("--openflow-cert and --openflow-ca go together: TLS to the switches needs the controller's certificate and the CA the switches' certificates come from."); return; }
            bool isCluster = r.GetResult(cluster) is { Implicit: false };
            if (isCluster && !isOpenFlow) { r.AddError("--cluster applies with --openflow only: its nodes share real switches."); return; }
            if (isCluster && r.GetResult(store) is { Implicit: false }) { r.AddError("--cluster keeps the groups in its etcd; leave --store out."); return; }
            if (isCluster != (r.GetResult(nodeId) is { Implicit: false })) { r.AddError("--cluster and --node-id go together."); return; }
            if (!isCluster && r.GetResult(nodeTtl) is { Implicit: false }) { r.AddError("--node-ttl applies with --cluster only."); return; }
            if (!isCluster && r.GetResult(etcdTimeout) is { Implicit: false } && !(r.GetValue(store)?.StartsWith("etcd=", StringComparison.Ordinal) ?? false))
            { r.AddError("--etcd-timeout applies with --store etcd=… or --cluster only."); return; }
            if (r.GetResult(querierV6) is { Implicit: false } && r.GetResult(querier) is not { Implicit: false })
                r.AddError("--querier-v6 goes with --querier.");
            else if (r.ValueOr(queryResponse, DefaultQueryResponse) is var response && r.ValueOr(queryInterval, DefaultQueryInterval) is var interval && response >= interval)
                r.AddError($"--query-response ({response} s) must be shorter than --query-interval ({interval} s).");
        });
        command.SetAction((r, ct) =>
        {
            ApiSecurityOptions security;
            OpenFlowTlsOptions? openflowTls = null;
            try
            {
                security = ApiSecuritySources.Load(r.GetValue(apiClients), r.GetValue(apiCert), r.GetValue(apiCertKey), r.GetValue(apiClientCa));
                security.RateLimitPerSecond = r.GetValue(rateLimit);
                security.ClientGroupQuota = r.GetValue(quotaClient);
                security.ReferenceGroupQuota = r.GetValue(quotaReference);
                if (r.GetValue(maxBody) is { } body) security.MaxRequestBodyBytes = body;
                if (r.GetValue(openflowCert) is { } cert)
                    openflowTls = OpenFlowTlsOptions.FromPemFiles(cert, r.GetValue(openflowKey), r.GetValue(openflowCa)!);
                if (r.GetValue(pushKeys) is { } source) _ = SecretSource.Read(source); // unreadable: say so now, not at the first instruction
            }
            catch (Exception e) when (e is FormatException or IOException or ArgumentException or System.Security.Cryptography.CryptographicException)
            {
                r.InvocationConfiguration.Error.WriteLine($"tsm serve: {e.Message}");
                return Task.FromResult(2);
            }
            var settings = new Settings(r.GetValue(api)!, r.GetValue(pushUdp)?.EndPoint, r.GetValue(pushUdp) is not null, r.GetValue(block)!, r.GetValue(quiet))
            {
                Fabric = r.GetValue(fabric) ?? FabricSpec.Parse(DefaultFabric),
                FabricText = r.GetResult(fabric)?.Tokens is { Count: > 0 } t ? t[^1].Value : DefaultFabric,
                Mode = r.GetValue(mode) == "pushed" ? ApplyMode.Pushed : ApplyMode.Computed,
                LogFormat = ConsoleLogs.Parse(r.GetValue(logFormat)!) ?? LogFormat.Text,
                Reference = r.GetValue(reference) ?? IpAddress.Parse("239.1.0.1"),
                PushKeys = r.GetValue(pushKeys),
                ApiSecurity = security,
                OpenFlowTls = openflowTls,
                OpenFlow = r.GetValue(openflow)?.EndPoint,
                Vlan = (ushort)r.GetValue(vlan),
                LldpSeconds = r.GetValue(lldp),
                Encoding = r.GetValue(encoding) == "flow" ? RuleEncoding.Flow : RuleEncoding.GroupAndFlow,
                WriteOnSubmitter = r.GetValue(openflowWrite) != "pool",
                ApiH2c = r.GetValue(apiH2c),
                Etcd = r.GetValue(cluster) ?? (r.GetValue(store) is { } st && st.StartsWith("etcd=", StringComparison.Ordinal) ? st[5..] : null),
                NodeId = r.GetValue(nodeId),
                NodeTtl = r.GetValue(nodeTtl),
                EtcdTimeout = r.GetValue(etcdTimeout),
                AuditSeconds = r.GetValue(auditInterval),
                Snooping = SnoopingOptions.FromQueryTimers(TimeSpan.FromSeconds(r.GetValue(queryInterval)), TimeSpan.FromSeconds(r.GetValue(queryResponse)),
                    r.GetValue(querier) is { } q4 ? new QuerierOptions { IPv4Source = q4, IPv6Source = r.GetValue(querierV6), Vlans = [new VlanId((ushort)r.GetValue(vlan))] } : null),
            };
            var stdout = r.InvocationConfiguration.Output;
            var stderr = r.InvocationConfiguration.Error;
            if (r.GetValue(snmp) is { } snmpFile)
                return ServeSnmp.RunAsync(snmpFile, settings.Api, settings.Block, V6Block, settings.Quiet, stdout, stderr, ct, settings.ApiSecurity, settings.AuditSeconds);
            return settings.OpenFlow is null ? RunEmulatedAsync(settings, stdout, stderr, ct) : RunOpenFlowAsync(settings, stdout, stderr, ct);
        });
        return command;
    }

    private static async Task<int> RunEmulatedAsync(Settings s, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var spec = s.Fabric!;
        var lifecycle = new LifecycleOptions().AddVlan(EmulatedVlan, s.Block, V6Block);
        PushKeyFile pushKeys;
        try
        {
            // No keys given: a random one that only the emulated agents know (never printed: a printed key is a leaked key).
            pushKeys = s.PushKeys is { } source ? PushKeyFile.Read(source, [new VlanId(EmulatedVlan)])
                : PushKeyFile.Parse(Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)), "random", [new VlanId(EmulatedVlan)]);
        }
        catch (FormatException e)
        {
            await stderr.WriteLineAsync($"tsm serve: --push-keys {e.Message}");
            return 2;
        }
        if (!pushKeys.Keys.HasKey(new VlanId(EmulatedVlan), pushKeys.SigningKeyId))
        {
            await stderr.WriteLineAsync($"tsm serve: --push-keys has no key id {pushKeys.SigningKeyId} for the emulated VLAN {EmulatedVlan}.");
            return 2;
        }
        var pushAt = s.PushUdpGiven ? s.PushUdp : new IPEndPoint(IPAddress.Loopback, 9470);

        var fabric = new EmulatedFabric(spec);
        // The controller learns from the switches' control frames (feed first, then the hosts speak):
        // reference groups from the IGMP reports, hosts from ARP/ND, as `serve --openflow` does from punts.
        var learner = new FabricLearner();
        using var feed = new EmulatedFabricFeed(fabric, learner);
        fabric.Announce();
        foreach (var h in fabric.Hosts) fabric.Join(h, s.Reference);
        var keys = pushKeys.Keys;
        var options = new ControllerOptions
        {
            ApiUrl = s.Api,
            ApiH2cUrl = s.ApiH2c,
            PushUdp = pushAt,
            Mode = s.Mode,
            PushKeys = keys,
            PushKeyId = pushKeys.SigningKeyId,
            ApiSecurity = s.ApiSecurity,
            Lifecycle = lifecycle,
            ConfigureLogging = ConsoleLogging.For(s.Quiet, s.LogFormat),
        };

        var groups = await OpenStoreAsync(s, stderr, cancellationToken);
        if (groups is { Failed: true }) return 1;
        using var etcd = groups?.Store;
        TsmControllerHost controller;
        try
        {
            controller = await TsmControllerHost.StartAsync(options, tsm =>
            {
                tsm.AddEmulatedFabric(fabric, learner, keys, keepJoined: s.Reference);
                if (etcd is not null) tsm.UseEtcdGroupStore(etcd);
            }, cancellationToken);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            await stderr.WriteLineAsync($"tsm serve: cannot listen: {e.Message}");
            return 1;
        }
        catch (ArgumentException e)
        {
            await stderr.WriteLineAsync($"tsm serve: {e.Message}");
            return 2;
        }
        await using (controller)
        {
            var inv = CultureInfo.InvariantCulture;
            await stdout.WriteLineAsync(string.Create(inv, $"tsm serve: {s.FabricText} ({fabric.Switches.Count} switches, {fabric.Hosts.Count} hosts), {s.Mode.ToString().ToLowerInvariant()} mode"));
            await stdout.WriteLineAsync($"  api       {controller.ApiUrl}api/v1/groups");
            if (controller.ApiH2cUrl is { } h2c) await stdout.WriteLineAsync($"  api-h2c   {h2c}api/v1/groups");
            await stdout.WriteLineAsync($"  dashboard {controller.ApiUrl}");
            await stdout.WriteLineAsync($"  security  {Describe(controller)}");
            await stdout.WriteLineAsync(controller.PushEndPoint is { } p
                ? $"  push-udp  {p}  (VLAN {EmulatedVlan}, signing key id {pushKeys.SigningKeyId}; {(s.PushKeys is null ? "a random key, not printed: give --push-keys file:PATH to share one" : $"keys from {s.PushKeys}")})"
                : "  push-udp  off");
            int learned = learner.References.TryGet(EmulatedVlan, s.Reference, out var referenceGroup) ? referenceGroup.SwitchCount : 0;
            await stdout.WriteLineAsync($"  reference {s.Reference} on VLAN {EmulatedVlan}: {fabric.Hosts.Count} hosts joined, learned on {learned} switches; block {s.Block}");
            await stdout.WriteLineAsync("  Ctrl-C stops.");
            await stdout.FlushAsync(CancellationToken.None);
            try
            {
                await controller.WaitForShutdownAsync(cancellationToken);
            }
            catch (OperationCanceledException) { }
        }
        return 0;
    }

    /// <summary>One line on how the API is guarded (never a secret).</summary>
    private static string Describe(TsmControllerHost controller)
    {
        var p = controller.Services.GetRequiredService<ApiSecurityPolicy>();
        if (!p.Required) return "open on loopback (no --api-clients): every caller is the local administrator";
        string limit(int n) => n == 0 ? "off" : n.ToString(CultureInfo.InvariantCulture);
        return $"authentication required: {p.Clients.Clients.Count} clients{(p.ClientCertificateAuthorities is { Count: > 0 } ? ", client certificates from the CA" : "")}; "
            + $"rate limit {limit(p.RateLimitPerSecond)}/s per client, quotas {limit(p.ClientGroupQuota)} per client, {limit(p.ReferenceGroupQuota)} per reference group";
    }

    /// <summary>The etcd store when --store etcd=URL, opened and loaded; null for memory; Failed (said on stderr) when etcd does not answer.</summary>
    private static async Task<(EtcdGroupStore? Store, bool Failed)?> OpenStoreAsync(Settings s, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (s.Etcd is null) return null;
        // A few tries: an etcd started just before us (a cluster brought up together, a test lab on a loaded machine)
        // may miss the first deadline; one that stays silent for ~20 s is reported and serve stops.
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return (await EtcdGroupStore.OpenAsync(new EtcdStoreOptions { Endpoints = s.Etcd, CallTimeout = TimeSpan.FromSeconds(s.EtcdTimeout) }, cancellationToken: cancellationToken), false);
            }
            catch (EtcdUnavailableException e) when (attempt < 4 && !cancellationToken.IsCancellationRequested)
            {
                await stderr.WriteLineAsync($"tsm serve: the group store at {s.Etcd} did not answer ({e.Message}); trying again");
            }
            catch (EtcdUnavailableException e)
            {
                await stderr.WriteLineAsync($"tsm serve: the group store at {s.Etcd} did not answer: {e.Message}");
                return (null, true);
            }
        }
    }

    private static async Task<int> RunOpenFlowAsync(Settings s, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var snooping = s.Snooping;
        var vlans = new[] { new VlanId(s.Vlan) };
        PushKeyFile? pushKeys = null;
        try
        {
            if (s.PushKeys is { } source) pushKeys = PushKeyFile.Read(source, vlans);
        }
        catch (FormatException e)
        {
            await stderr.WriteLineAsync($"tsm serve: --push-keys {e.Message}");
            return 2;
        }
        var groups = await OpenStoreAsync(s, stderr, cancellationToken);
        if (groups is { Failed: true }) return 1;
        using var etcd = groups?.Store;
        var clusterOptions = s.NodeId is null ? null : new ClusterOptions { NodeId = s.NodeId, NodeTtlSeconds = s.NodeTtl };
        var lifecycle = new LifecycleOptions().AddVlan(s.Vlan, s.Block, V6Block);
        if (clusterOptions is not null) lifecycle.IdPrefix = $"rg-{clusterOptions.NodeId}-";
        var settings = new OpenFlowControllerSettings
        {
            Features = etcd is null ? null : clusterOptions is not null ? tsm => tsm.AddCluster(clusterOptions, etcd) : tsm => tsm.UseEtcdGroupStore(etcd),
            OpenFlowEndpoint = s.OpenFlow!,
            Connection = new OpenFlow.Connections.OpenFlowOptions { Tls = s.OpenFlowTls, WriteOnSubmitter = s.WriteOnSubmitter },
            Learner = new FabricLearnerOptions { Snooping = snooping },
            Discovery = DiscoveryOptions.ForLldpInterval(TimeSpan.FromSeconds(s.LldpSeconds)),
            Southbound = new OpenFlowSouthboundOptions { Encoding = s.Encoding },
            Controller = new ControllerOptions
            {
                ApiUrl = s.Api,
                ApiH2cUrl = s.ApiH2c,
                PushUdp = s.PushUdp, // off unless given: OpenFlow switches run no push agent
                PushKeys = pushKeys?.Keys ?? new PushKeyRing(),
                ApiSecurity = s.ApiSecurity,
                Mode = ApplyMode.Computed,
                // Untagged hosts are VLAN 0 (the southbound then matches no vlan_vid).
                Lifecycle = lifecycle,
                ConfigureLogging = ConsoleLogging.For(s.Quiet, s.LogFormat),
                Audit = new SubsetMulticast.Controller.Audit.RuleAuditOptions { Interval = s.AuditSeconds == 0 ? null : TimeSpan.FromSeconds(s.AuditSeconds) },
            },
        };

        OpenFlowControllerService service;
        try
        {
            service = await OpenFlowControllerService.StartAsync(settings, cancellationToken);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            await stderr.WriteLineAsync($"tsm serve: cannot listen: {e.Message}");
            return 1;
        }
        catch (ArgumentException e)
        {
            await stderr.WriteLineAsync($"tsm serve: {e.Message}");
            return 2;
        }
        await using (service)
        {
            await stdout.WriteLineAsync($"tsm serve: OpenFlow 1.3 fabric, learned from the switches (LLDP every {s.LldpSeconds} s, IGMP/MLD/ARP/ND punted)");
            await stdout.WriteLineAsync($"  api       {service.Controller.ApiUrl}api/v1/groups");
            if (service.Controller.ApiH2cUrl is { } h2c) await stdout.WriteLineAsync($"  api-h2c   {h2c}api/v1/groups");
            await stdout.WriteLineAsync($"  dashboard {service.Controller.ApiUrl}");
            await stdout.WriteLineAsync($"  openflow  {service.Listener.LocalEndpoint}");
            await stdout.WriteLineAsync(s.OpenFlowTls is null ? "  switches  plain TCP (tcp: controllers)" : "  switches  TLS, certificates checked against --openflow-ca (ssl: controllers)");
            await stdout.WriteLineAsync($"  security  {Describe(service.Controller)}");
            await stdout.WriteLineAsync(service.Controller.PushEndPoint is { } p
                ? $"  push-udp  {p}  ({(pushKeys is null ? "no keys: instructions are refused" : $"keys from {s.PushKeys}")})" : "  push-udp  off");
            await stdout.WriteLineAsync($"  groups on VLAN {s.Vlan} from block {s.Block}; reference groups are whatever hosts join");
            await stdout.WriteLineAsync(etcd is null ? "  store     memory (groups are lost when the controller stops)" : $"  store     etcd {s.Etcd}: {etcd.Count} group(s) reloaded");
            if (clusterOptions is not null)
                await stdout.WriteLineAsync($"  cluster   node {clusterOptions.NodeId}; masterships on a {clusterOptions.NodeTtlSeconds} s lease; switches connect to every node");
            await stdout.WriteLineAsync(snooping.Querier is { } q
                ? string.Create(CultureInfo.InvariantCulture, $"  querier   {q.IPv4Source}{(q.IPv6Source is { } q6 ? $" / {q6}" : "")} on edge ports every {snooping.QueryInterval.TotalSeconds:0} s while no lower-addressed querier is heard; membership interval {snooping.GroupMembershipInterval.TotalSeconds:0} s")
                : string.Create(CultureInfo.InvariantCulture, $"  querier   none of ours (--querier ADDR): memberships last {snooping.GroupMembershipInterval.TotalSeconds:0} s unless a router or switch queries"));
            await stdout.WriteLineAsync("  Ctrl-C stops.");
            await stdout.FlushAsync(CancellationToken.None);
            try
            {
                await service.Controller.WaitForShutdownAsync(cancellationToken);
            }
            catch (OperationCanceledException) { }
        }
        return 0;
    }
}
