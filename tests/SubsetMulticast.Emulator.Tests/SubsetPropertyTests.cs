using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.ReferenceGroups;
using SubsetMulticast.Push;

namespace SubsetMulticast.Emulator.Tests;

/// <summary>
/// The issue's invariants over thousands of seeded random fabrics (leaf-spine, fat-tree, meshes with
/// redundant links), reference groups learned from real IGMPv3/MLDv2 reports, and random member lists
/// (members, non-members, unknown addresses). Every assertion is on frames the emulated fabric delivered.
/// </summary>
public sealed class SubsetPropertyTests
{
    private static readonly byte[] Key = "0123456789abcdef0123456789abcdef"u8.ToArray();

    public static TheoryData<int> Seeds()
    {
        var d = new TheoryData<int>();
        for (int s = 0; s < 8; s++) d.Add(s * 1000);
        return d;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task ComputedAndPushedModesDeliverExactlyMembersInReferenceGroup(int firstSeed)
    {
        int checkedFabrics = 0;
        for (int seed = firstSeed; seed < firstSeed + 300; seed++)
        {
            var rng = new Random(seed);
            var spec = RandomFabrics.Make(rng);
            bool v6 = rng.Next(3) == 0;
            var group = RandomFabrics.Group(rng, v6);
            var refMembers = spec.Hosts.Where(_ => rng.Next(2) == 0).Select(h => h.Name).ToList();
            if (refMembers.Count == 0) refMembers.Add(spec.Hosts[0].Name);
            var requested = new List<IpAddress>();
            foreach (var h in spec.Hosts)
                if (rng.Next(3) == 0) requested.Add(v6 ? h.Ipv6!.Value : h.Ipv4);
            if (rng.Next(4) == 0) requested.Add(v6 ? IpAddress.Parse("fd99::1") : IpAddress.Parse("10.99.99.99"));
            requested.Add(v6 ? spec.Hosts.First(h => h.Name == refMembers[0]).Ipv6!.Value : spec.Hosts.First(h => h.Name == refMembers[0]).Ipv4);
            string sender = spec.Hosts[rng.Next(spec.Hosts.Count)].Name;

            var computed = await Scenario.RunAsync(spec, group, refMembers, requested, sender, pushed: false);
            var pushed = await Scenario.RunAsync(spec, group, refMembers, requested, sender, pushed: true);
            var raw = await Scenario.RunAsync(spec, group, refMembers, requested, sender, pushed: true, pushUnfiltered: true);

            string ctx = $"seed {seed}, fabric {spec.Description} ({spec.Switches.Count} switches, {spec.Links.Count} links), sender {sender}";
            foreach (var run in new[] { computed, pushed, raw })
            {
                // Delivered set == members ∩ reference group (the sender does not hear itself).
                Assert.True(run.Expected.SetEquals(run.Delivered), $"{ctx}: expected {string.Join(",", run.Expected.Order())} got {string.Join(",", run.Delivered.Order())}");
                Assert.True(run.Delivered.IsSubsetOf(run.ReferenceMembers), $"{ctx}: a host outside the reference group received");
                Assert.True(run.MaxCopiesPerLink <= 1, $"{ctx}: a link carried {run.MaxCopiesPerLink} copies");
            }
            Assert.Equal(computed.Tables, pushed.Tables);
            checkedFabrics++;
        }
        Assert.Equal(300, checkedFabrics);
    }

    [Fact]
    public async Task ReleaseRemovesEveryRuleAndTheGroupFallsBackToUnregisteredForwarding()
    {
        var spec = Topology.FabricSpec.LeafSpine(2, 4, 4);
        var group = IpAddress.Parse("239.1.0.1");
        var run = await Scenario.RunAsync(spec, group, ["h1-1", "h2-2", "h3-3", "h4-4"], [IpAddress.Parse("10.0.1.1"), IpAddress.Parse("10.0.3.3")], "h2-2", pushed: false, release: true);
        Assert.Empty(run.Tables);
        Assert.Empty(run.Delivered); // unregistered: router ports only, never a host port
    }

    [Fact]
    public async Task FailedSwitchRollsBackEveryOtherSwitch()
    {
        var fabric = new EmulatedFabric(Topology.FabricSpec.LeafSpine(2, 4, 4));
        var (lifecycle, southbound) = Scenario.Controller(fabric, IpAddress.Parse("239.1.0.1"), ["h1-1", "h2-2", "h3-3"]);
        var tx = lifecycle.PrepareCreate(new CreateGroupRequest(1, IpAddress.Parse("239.1.0.1"), [IpAddress.Parse("10.0.1.1"), IpAddress.Parse("10.0.3.3")])).Value!;
        Assert.True(tx.Changes.Count >= 3);
        fabric.Switch(tx.Changes[^1].SwitchId).FailNextChange = "table full";
        var result = await southbound.ApplyAsync(tx.Changes, default);
        Assert.False(result.Succeeded);
        Assert.Equal("table full", result.Failures[0].Reason);
        lifecycle.Abort(tx);
        Assert.All(fabric.Switches, s => Assert.Empty(s.TransactionalEntries()));
        Assert.Empty(lifecycle.Store.All());
        Assert.Equal(0, lifecycle.BlockUsage(1, true)!.Value.InUse);
    }

    [Fact]
    public async Task ForgedAndReplayedPushesChangeNoSwitch()
    {
        var fabric = new EmulatedFabric(Topology.FabricSpec.LeafSpine(2, 3, 3));
        var group = IpAddress.Parse("239.1.0.1");
        var (_, southbound) = Scenario.Controller(fabric, group, ["h1-1", "h2-2", "h3-3"]);
        var keys = new PushKeyRing().Add(1, 1, Key);
        var buf = new byte[256];
        int n = PushInstructionWriter.Write(buf, PushOpcode.PushMembership, 1, 1, 7, 1, 5000, group, IpAddress.Parse("239.255.0.9"),
            [IpAddress.Parse("10.0.1.1"), IpAddress.Parse("10.0.2.2")], keys);
        var forged = buf[..n].ToArray();
        forged[^1] ^= 1;
        Assert.False((await southbound.PushAsync(forged, default)).Succeeded);
        Assert.All(fabric.Switches, s => Assert.Empty(s.TransactionalEntries()));
        Assert.True((await southbound.PushAsync(buf.AsMemory(0, n), default)).Succeeded);
        var tables = Scenario.Tables(fabric);
        Assert.NotEmpty(tables);
        // The same bytes again are a replay: refused, and the tables stay as the first push left them.
        var replay = await southbound.PushAsync(buf.AsMemory(0, n), default);
        Assert.False(replay.Succeeded);
        Assert.Contains("Replayed", replay.Failures[0].Reason);
        Assert.Equal(tables, Scenario.Tables(fabric));
    }

    internal sealed record Outcome(HashSet<string> Delivered, HashSet<string> Expected, HashSet<string> ReferenceMembers, int MaxCopiesPerLink, string Tables);

    internal static class Scenario
    {
        /// <param name="announceEveryHost">
        /// False when the caller announces the hosts that speak itself: every host's gratuitous ARP is a broadcast that
        /// reaches every other host, so announcing them all costs hosts² deliveries (4·10⁸ for 20,580 hosts).
        /// </param>
        public static (GroupLifecycle, EmulatorSouthbound) Controller(EmulatedFabric fabric, IpAddress referenceGroup, IReadOnlyList<string> refMembers, bool announceEveryHost = true)
        {
            if (announceEveryHost) fabric.Announce();
            foreach (var name in refMembers) fabric.Join(fabric.Host(name), referenceGroup);
            var hosts = new HostTable();
            fabric.ExportHosts(hosts);
            var refs = new ReferenceGroupTable(fabric.Topology);
            fabric.ExportReferenceGroups(refs);
            var options = new LifecycleOptions().AddVlan(1, "239.255.0.0/24", "ff15::7:0/120");
            var lifecycle = new GroupLifecycle(options, refs, hosts, new InMemoryGroupStore(), TimeProvider.System);
            return (lifecycle, new EmulatorSouthbound(fabric, new PushKeyRing().Add(1, 1, Key)));
        }

        public static async Task<Outcome> RunAsync(Topology.FabricSpec spec, IpAddress referenceGroup, IReadOnlyList<string> refMembers,
            IReadOnlyList<IpAddress> requested, string senderName, bool pushed, bool pushUnfiltered = false, bool release = false)
        {
            var fabric = new EmulatedFabric(spec);
            var (lifecycle, southbound) = Controller(fabric, referenceGroup, refMembers);
            var prepared = lifecycle.PrepareCreate(new CreateGroupRequest(1, referenceGroup, requested));
            var refSet = refMembers.ToHashSet();
            var sender = fabric.Host(senderName);
            if (!prepared.Succeeded)
            {
                // Only refused when no requested member is in the reference group: then nothing may be installed.
                Assert.Equal(ProblemKind.NoMemberInReferenceGroup, prepared.Problem!.Kind);
                Assert.DoesNotContain(requested, ip => fabric.TryGetHost(ip, out var h) && refSet.Contains(h.Name));
                return new Outcome([], [], refSet, 0, Tables(fabric));
            }
            var tx = prepared.Value!;
            var address = tx.After!.Address;
            if (pushed)
            {
                var members = pushUnfiltered ? requested.ToArray() : tx.After.Effective.ToArray();
                var buf = new byte[PushInstruction.LengthFor(address.IsV6, members.Length)];
                PushInstructionWriter.Write(buf, PushOpcode.PushMembership, 1, 1, 1, 1, 5000, referenceGroup, address, members, new PushKeyRing().Add(1, 1, Key));
                Assert.True((await southbound.PushAsync(buf, default)).Succeeded);
            }
            else Assert.True((await southbound.ApplyAsync(tx.Changes, default)).Succeeded);
            lifecycle.Commit(tx);
            if (release)
            {
                var rel = lifecycle.PrepareRelease(tx.After.Id).Value!;
                Assert.True((await southbound.ApplyAsync(rel.Changes, default)).Succeeded);
                lifecycle.Commit(rel);
            }
            var report = fabric.SendUdp(sender, address, "chunk"u8);
            var delivered = report.HostsReached().Select(i => fabric.Hosts[i].Name).ToHashSet();
            var expected = release ? [] : requested.Where(ip => fabric.TryGetHost(ip, out var h) && refSet.Contains(h.Name))
                .Select(ip => { fabric.TryGetHost(ip, out var h); return h.Name; }).Where(n => n != senderName).ToHashSet();
            return new Outcome(delivered, expected, refSet, report.MaxCopiesPerLinkPerFrame, Tables(fabric));
        }

        public static string Tables(EmulatedFabric fabric) => string.Join("; ", fabric.Switches
            .SelectMany(s => s.TransactionalEntries().Select(e => $"{s.Name} {e.Vlan}/{e.Group} -> [{string.Join(",", e.Ports)}]"))
            .Order(StringComparer.Ordinal));
    }
}
