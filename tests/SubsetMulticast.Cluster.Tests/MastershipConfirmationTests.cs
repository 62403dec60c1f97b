using SubsetMulticast.Cluster;

namespace SubsetMulticast.Cluster.Tests;

/// <summary>
/// When a transaction counts as applied on a switch: its master's applied mark reaches the transaction's revision
/// AND the master's own claim. Found by ClusterOvsTests after integration: a group created while a switch had no
/// master was acknowledged on the new master's mark from before its claim — before (and, when that reconcile
/// failed, without) the group ever reaching the switch.
/// </summary>
public class MastershipConfirmationTests
{
    [Fact]
    public void AMarkFromBeforeTheClaim_DoesNotConfirm_AGroupCreatedWhileTheSwitchHadNoMaster()
    {
        // n2 reported revision 105 while n1 (dead) still held the switch's key; the group came at 100 with no master;
        // n2 claimed the switch at 110 and has not reconciled it yet.
        var n2 = new Mastership("n2", Generation: 110);
        Assert.False(ClusterNode.Confirms(n2, applied: 105, revision: 100));
        // Once n2 has reconciled the switch from the store it reports past its claim: now the group is there.
        Assert.True(ClusterNode.Confirms(n2, applied: 111, revision: 100));
        Assert.True(ClusterNode.Confirms(n2, applied: 110, revision: 100));
    }

    [Fact]
    public void AMarkBelowTheRevision_NeverConfirms()
    {
        Assert.False(ClusterNode.Confirms(new Mastership("n1", 5), applied: 99, revision: 100));
        Assert.True(ClusterNode.Confirms(new Mastership("n1", 5), applied: 100, revision: 100));
    }

    /// <summary>
    /// A seeded run of masterships and marks as etcd orders them: a node's mark at revision R says it applied every
    /// change up to R to the switches it mastered at R, and a fresh master reports only once it reconciled. Whenever
    /// Confirms says yes, the model's switch must hold the change.
    /// </summary>
    [Fact]
    public void SeededHistories_ConfirmOnlyWhatTheSwitchHolds()
    {
        var random = new Random(12);
        for (int history = 0; history < 2000; history++)
        {
            long revision = 1;
            var master = new Mastership("n0", 1);
            var marks = new Dictionary<string, long> { ["n0"] = 1, ["n1"] = 1, ["n2"] = 1 };
            long held = 1;           // every change up to this revision is on the switch
            long change = -1;        // the transaction under watch
            bool reconciled = true;
            for (int step = 0; step < 30; step++)
            {
                revision++;
                switch (random.Next(4))
                {
                    case 0 when change < 0: change = revision; break; // the transaction's record
                    case 1: // the master dies or resigns; another node claims at a later revision
                        string next = "n" + random.Next(3);
                        revision++;
                        master = new Mastership(next, (ulong)revision);
                        reconciled = false;
                        break;
                    case 2: // the master reconciles (if fresh) and reports everything it processed
                        if (!reconciled) { held = revision; reconciled = true; }
                        else held = revision;
                        marks[master.Node] = revision;
                        break;
                    default: // some other node reports (for switches of its own)
                        string other = "n" + random.Next(3);
                        if (other != master.Node) marks[other] = revision;
                        break;
                }
                if (change > 0 && ClusterNode.Confirms(master, marks[master.Node], change))
                    Assert.True(held >= change, $"history {history}: confirmed revision {change} on {master} with mark {marks[master.Node]}, but the switch holds up to {held}");
            }
        }
    }
}
