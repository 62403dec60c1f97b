using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Planning;
using SubsetMulticast.Learning.Tests.Support;

namespace SubsetMulticast.Learning.Tests;

/// <summary>
/// Random leaf-spine fabrics told to the learner in random order, hosts that join and leave random reference
/// groups with random protocol versions: the learned reference groups equal what the hosts joined, and a
/// plan made on the learned tables delivers to exactly the requested members that joined.
/// </summary>
public sealed class PropertyTests
{
    private static readonly IpAddress[] Groups = [IpAddress.Parse("239.1.0.1"), IpAddress.Parse("239.1.0.2"), IpAddress.Parse("ff15::1:1")];

    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 25)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomJoinsAndLeaves_LearnedTablesEqualTheJoins_AndPlansReachOnlyMembers(int seed)
    {
        var rng = new Random(seed);
        var lab = LearnerLab.LeafSpine(spines: rng.Next(1, 3), leaves: rng.Next(2, 6), hostsPerLeaf: rng.Next(1, 5), announce: false);
        // The feed's calls arrive in any order: links before switches, switches interleaved.
        var announcements = new List<Action>();
        foreach (var sw in lab.Ports.Keys) announcements.Add(() => lab.SwitchUp(sw));
        foreach (var (a, b) in lab.Links) { announcements.Add(() => lab.Learner.LinkUp(a, b)); announcements.Add(() => lab.Learner.LinkUp(b, a)); }
        foreach (var announce in announcements.OrderBy(_ => rng.Next())) announce();
        Assert.Equal(lab.Links.Count, lab.Learner.Topology.Links.Count);

        foreach (var h in lab.Hosts.Where(_ => rng.Next(3) > 0)) lab.Emit(h, rng.Next(2) == 0 ? LearnerLab.Arp(h) : LearnerLab.Na(h));

        var joined = Groups.ToDictionary(g => g, _ => new HashSet<LabHost>());
        for (int step = 0; step < 3 * lab.Hosts.Count; step++)
        {
            var h = lab.Hosts[rng.Next(lab.Hosts.Count)];
            var g = Groups[rng.Next(Groups.Length)];
            lab.Emit(h, g.IsV6 ? LearnerLab.Mld2Join(h, g) : rng.Next(2) == 0 ? LearnerLab.V2Report(h, g) : LearnerLab.V3Join(h, g));
            joined[g].Add(h);
        }
        foreach (var g in Groups)
        {
            foreach (var h in joined[g].Where(_ => rng.Next(3) == 0).ToList())
            {
                lab.Emit(h, g.IsV6 ? LearnerLab.Mld2Leave(h, g) : rng.Next(2) == 0 ? LearnerLab.V2Leave(h, g) : LearnerLab.V3Leave(h, g));
                joined[g].Remove(h);
            }
        }
        // Past the last-member query time the leaves take effect; the members that stay answer the
        // group-specific queries (a flooded leave lowered every switch's timer on the port toward it).
        lab.Clock.Advance(TimeSpan.FromSeconds(3));
        lab.Learner.Tick();
        foreach (var g in Groups)
            foreach (var h in joined[g]) lab.Emit(h, g.IsV6 ? LearnerLab.Mld2Join(h, g) : LearnerLab.V3Join(h, g));

        var buffer = new PlanBuffer();
        foreach (var g in Groups)
        {
            Assert.Equal(Expectations.MemberPorts(lab, joined[g]), Expectations.Learned(lab.Learner.References, default, g));
            if (joined[g].Count == 0) { Assert.False(lab.Learner.References.TryGet(default, g, out _)); continue; }

            // A rendezvous subset: some members, plus one host that did not join (ignored, never flooded).
            var members = joined[g].OrderBy(_ => rng.Next()).Take(rng.Next(1, 5)).ToList();
            var outsider = lab.Hosts.FirstOrDefault(h => !joined[g].Contains(h));
            var asked = members.Select(h => g.IsV6 ? h.V6 : h.V4).ToList();
            if (outsider is not null) asked.Add(g.IsV6 ? outsider.V6 : outsider.V4);
            Assert.True(lab.Learner.References.TryGet(default, g, out var reference));
            new SubsetPlanner(lab.Learner.Topology, lab.Learner.Hosts).Plan(reference, asked.ToArray(), buffer);
            Assert.Equal(members.Select(h => g.IsV6 ? h.V6 : h.V4).Order(), buffer.Effective.ToArray().Order());
            if (outsider is not null) Assert.Equal(g.IsV6 ? outsider.V6 : outsider.V4, Assert.Single(buffer.Ignored.ToArray()).Member);

            var sender = lab.Hosts[rng.Next(lab.Hosts.Count)];
            var expected = new SortedSet<int>(members.Select(h => h.Number).Where(n => n != sender.Number));
            Assert.Equal(expected, Expectations.Deliver(lab, buffer, default, sender));
        }
    }
}
