using Microsoft.Extensions.Time.Testing;
using SubsetMulticast.Bier.Binding;
using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Bier.Forwarding;
using SubsetMulticast.Bier.TrafficEngineering;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Emulator.Bier;

namespace SubsetMulticast.Emulator.Tests.Bier;

/// <summary>
/// The same rendezvous group delivered three ways on the same seeded random fabrics: as transactional-group
/// state (the controller's plan applied to the emulated switches, a UDP datagram to the group address), as BIER
/// frames the emulated switches forward by their BIFTs, and as a BIER-TE tree the controller writes as bits.
/// All three must reach exactly the effective members and put the same number of copies on every link.
/// </summary>
public sealed class BierDeliveryPropertyTests
{
    public static TheoryData<int> Seeds() => [0, 1000, 2000, 3000];

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task BierAndBierTe_SameDeliveredSetAndPerLinkCopiesAsTsmState(int firstSeed)
    {
        int compared = 0;
        for (int seed = firstSeed; seed < firstSeed + 100; seed++)
        {
            var rng = new Random(seed);
            var spec = RandomFabrics.Make(rng);
            var group = RandomFabrics.Group(rng, v6: false);
            var refMembers = spec.Hosts.Where(_ => rng.Next(2) == 0).Select(h => h.Name).ToList();
            if (refMembers.Count == 0) refMembers.Add(spec.Hosts[0].Name);
            var requested = spec.Hosts.Where(_ => rng.Next(3) == 0).Select(h => h.Ipv4).Append(spec.Hosts.First(h => h.Name == refMembers[0]).Ipv4).ToList();
            var sender = spec.Hosts[rng.Next(spec.Hosts.Count)].Name;

            var fabric = new EmulatedFabric(spec);
            var (lifecycle, southbound) = SubsetPropertyTests.Scenario.Controller(fabric, group, refMembers);
            var tx = lifecycle.PrepareCreate(new CreateGroupRequest(1, group, requested)).Value!;
            Assert.True((await southbound.ApplyAsync(tx.Changes, default)).Succeeded);
            lifecycle.Commit(tx);
            var from = fabric.Host(sender);
            var members = tx.After!.Effective.Select(ip => { Assert.True(fabric.TryGetHost(ip, out var h)); return h; }).Where(h => h != from).ToList();
            string ctx = $"seed {seed}, {spec.Description}, sender {sender}, members {string.Join(",", members.Select(m => m.Name))}";

            var tsm = fabric.SendUdp(from, tx.After.Address, "chunk"u8);
            if (members.Count == 0)
            {
                // The sender is the only effective member: BIER has no bit to set and sends no frame at all, while
                // the datagram to the group still crosses the sender's access link. Nothing else to compare.
                Assert.Empty(tsm.HostsReached());
                Assert.Empty(fabric.EnableBier().Encode(members));
                continue;
            }
            var plane = fabric.EnableBier();
            var bier = fabric.SendBier(from, members, "chunk"u8);
            var te = new BierTeDomain(plane.Graph, Enumerable.Range(plane.Graph.NodeCount - fabric.Hosts.Count, fabric.Hosts.Count));
            int hostBase = plane.Graph.NodeCount - fabric.Hosts.Count;
            var teBits = te.WriteTree(hostBase + from.Index, members.Select(m => hostBase + m.Index), out var unreachable);
            Assert.Empty(unreachable);
            var bierTe = BierWalk.BierTe(te.Bifts, plane.Graph.LinkCount, hostBase + from.Index, teBits);

            var expected = members.Select(m => m.Index).Order().ToArray();
            Assert.True(expected.SequenceEqual(tsm.HostsReached()), $"{ctx}: TSM reached {string.Join(",", tsm.HostsReached())}");
            Assert.True(expected.SequenceEqual(bier.HostsReached()), $"{ctx}: BIER reached {string.Join(",", bier.HostsReached())}");
            Assert.True(expected.SequenceEqual(bierTe.Deliveries.Keys.Select(n => n - hostBase).Order()), $"{ctx}: BIER-TE reached");
            Assert.All(bier.FramesPerHost, n => Assert.True(n <= 1));
            Assert.True(bier.MaxCopiesPerLinkPerFrame <= 1, $"{ctx}: {bier.MaxCopiesPerLinkPerFrame} BIER copies on one link");
            Assert.True(tsm.CopiesPerLink.SequenceEqual(bier.CopiesPerLink),
                $"{ctx}: per-link copies TSM [{string.Join(",", tsm.CopiesPerLink)}] BIER [{string.Join(",", bier.CopiesPerLink)}]");
            // The BIER-TE walk starts at the sender's host node, so it counts the access link as the fabric does.
            Assert.True(tsm.CopiesPerLink.SequenceEqual(bierTe.CopiesPerLink),
                $"{ctx}: per-link copies TSM [{string.Join(",", tsm.CopiesPerLink)}] BIER-TE [{string.Join(",", bierTe.CopiesPerLink)}]");
            // TSM over BIER: a bound BitString's entries are rooted at its BFIR, so each switch's ports are a subset of
            // the controller's source-independent plan (or of its router ports where the plan has no entry), and the
            // packets sent to the bound group then take exactly the links the BIER copies took.
            var tob = new TsmOverBier(fabric, new BitStringBinderOptions { BindAfter = 1 }, TimeProvider.System, "239.253.0.0/24");
            var bound = tob.Send(from, members, "chunk"u8);
            Assert.True(bound.ViaGroup);
            foreach (var sw in fabric.Switches)
            {
                if (!sw.TryGetTransactional(from.Vlan, bound.Group, out var mine)) continue;
                var allowed = sw.TryGetTransactional(from.Vlan, tx.After.Address, out var plan) ? plan : sw.RouterPorts;
                Assert.True(mine.All(allowed.Contains), $"{ctx}: {sw.Name} TSM over BIER [{string.Join(",", mine)}] ⊄ plan [{string.Join(",", allowed)}]");
            }
            Assert.True(tob.InstalledEntries <= fabric.Switches.Count(sw => sw.TryGetTransactional(from.Vlan, tx.After.Address, out _)), $"{ctx}: more entries than the plan");
            Assert.True(expected.SequenceEqual(bound.Report.HostsReached()), $"{ctx}: the bound group reached {string.Join(",", bound.Report.HostsReached())}");
            Assert.True(bier.CopiesPerLink.SequenceEqual(bound.Report.CopiesPerLink), $"{ctx}: bound group's copies differ from BIER's");
            compared++;
        }
        Assert.True(compared >= 80, $"only {compared} of 100 fabrics had a member besides the sender");
    }

    [Fact]
    public void TsmOverBier_BindsAfterNSightings_ThenGroupState_AgesOutBackToBier()
    {
        var fabric = new EmulatedFabric(Topology.FabricSpec.LeafSpine(2, 4, 4));
        fabric.Announce();
        fabric.EnableBier();
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-01T00:00:00Z"));
        var tob = new TsmOverBier(fabric, new BitStringBinderOptions { BindAfter = 3, IdleTimeout = TimeSpan.FromSeconds(1) }, time);
        var sender = fabric.Host("h1-1");
        var members = new[] { fabric.Host("h2-1"), fabric.Host("h3-2"), fabric.Host("h1-3") };
        var expected = members.Select(m => m.Index).Order().ToArray();
        var via = new List<bool>();
        for (int i = 0; i < 5; i++)
        {
            var (report, viaGroup, newly, _) = tob.Send(sender, members, "chunk"u8);
            Assert.Equal(expected, report.HostsReached());
            Assert.True(report.MaxCopiesPerLinkPerFrame <= 1);
            Assert.Equal(i == 2, newly);
            via.Add(viaGroup);
        }
        Assert.Equal([false, false, true, true, true], via);
        // Entries: leaf1 (h1-3 and the uplink), spine1 (toward leaf2 and leaf3), leaf2, leaf3 — one per switch on the tree.
        Assert.Equal(4, tob.InstalledEntries);
        Assert.Equal(4, fabric.Switches.Sum(s => s.TransactionalEntries().Count()));
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Single(tob.Expire());
        Assert.Equal(0, fabric.Switches.Sum(s => s.TransactionalEntries().Count()));
        Assert.False(tob.Send(sender, members, "chunk"u8).ViaGroup);
    }

    [Fact]
    public void Bier_EcmpOverEveryLink_DeliversOncePerMember()
    {
        var fabric = new EmulatedFabric(Topology.FabricSpec.LeafSpine(3, 6, 3));
        fabric.Announce();
        var plane = fabric.EnableBier(BitStringLength.Bits64, treeOnly: false);
        var sender = fabric.Hosts[0];
        var members = fabric.Hosts.Where(h => h.Index % 2 == 1).ToList();
        var report = fabric.SendBier(sender, members, "x"u8);
        Assert.Equal(members.Select(m => m.Index), report.HostsReached());
        Assert.All(report.FramesPerHost, n => Assert.True(n <= 1));
        Assert.Equal(0, plane.Domain.Routers.Sum(r => r.Drops.Total));
        // BSL 64 with 18 hosts fits one SI; ids past 64 would need one frame per SI.
        Assert.Equal(1, report.FramesSent);
    }
}
