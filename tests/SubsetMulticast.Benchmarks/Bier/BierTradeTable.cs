using SubsetMulticast.Bier.Binding;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Fabric;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.ReferenceGroups;
using SubsetMulticast.Emulator;
using SubsetMulticast.Emulator.Bier;
using SubsetMulticast.Emulator.Topology;
using SubsetMulticast.Push;

namespace SubsetMulticast.Benchmarks.Bier;

/// <summary>
/// The TSM-over-BIER trade as counts, not times (`dotnet SubsetMulticast.Benchmarks.dll bier-trade`): on
/// leaf-spine 2 × 16 × 16, for 50 seeded rendezvous groups of each size, the link copies per packet, the BIER
/// header bytes those copies carry, and the switch entries transactional state needs — measured on the emulator
/// (TSM state through the controller's lifecycle and southbound, BIER through the switches' BIFTs).
/// </summary>
public static class BierTradeTable
{
    public static void Print(TextWriter output)
    {
        const int groups = 50;
        output.WriteLine("| members | link copies / packet | BIER header bytes / packet | TSM entries (switches) | TSM-over-BIER entries | same copies per link |");
        output.WriteLine("|---:|---:|---:|---:|---:|:---:|");
        foreach (int k in new[] { 3, 12, 64 })
        {
            double copies = 0, headerBytes = 0, entries = 0, tobEntries = 0;
            bool same = true;
            var rng = new Random(k);
            for (int g = 0; g < groups; g++)
            {
                var fabric = new EmulatedFabric(FabricSpec.LeafSpine(2, 16, 16, ipv6: false));
                fabric.Announce();
                var reference = IpAddress.Parse("239.1.0.1");
                var chosen = fabric.Hosts.OrderBy(_ => rng.Next()).Take(k + 1).ToArray();
                foreach (var h in chosen) fabric.Join(h, reference);
                var hosts = new HostTable();
                fabric.ExportHosts(hosts);
                var refs = new ReferenceGroupTable(fabric.Topology);
                fabric.ExportReferenceGroups(refs);
                var lifecycle = new GroupLifecycle(new LifecycleOptions().AddVlan(1, "239.255.0.0/16"), refs, hosts, new InMemoryGroupStore(), TimeProvider.System);
                var southbound = new EmulatorSouthbound(fabric, new PushKeyRing().Add(1, 1, new byte[32]));
                var sender = chosen[0];
                var members = chosen[1..];
                var tx = lifecycle.PrepareCreate(new CreateGroupRequest(1, reference, [.. members.Select(m => m.Ipv4)])).Value!;
                if (!southbound.ApplyAsync(tx.Changes, default).AsTask().GetAwaiter().GetResult().Succeeded) throw new InvalidOperationException("apply failed");
                lifecycle.Commit(tx);
                var tsm = fabric.SendUdp(sender, tx.After!.Address, "x"u8);
                entries += fabric.Switches.Count(s => s.TransactionalEntries().Any());
                var plane = fabric.EnableBier();
                var bier = fabric.SendBier(sender, members, "x"u8);
                same &= tsm.CopiesPerLink.SequenceEqual(bier.CopiesPerLink);
                // Access link of the sender included: the BitString travels on it too.
                int c = bier.CopiesPerLink.Sum();
                copies += c;
                headerBytes += c * plane.HeaderBytes;
                var tob = new TsmOverBier(fabric, new BitStringBinderOptions { BindAfter = 1 }, TimeProvider.System, "239.254.0.0/24");
                tob.Send(sender, members, "x"u8);
                tobEntries += tob.InstalledEntries;
            }
            output.WriteLine($"| {k} | {copies / groups:F1} | {headerBytes / groups:F0} | {entries / groups:F1} | {tobEntries / groups:F1} | {(same ? "yes" : "NO")} |");
        }
    }
}
