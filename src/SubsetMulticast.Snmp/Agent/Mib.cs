using SubsetMulticast.Snmp.Messages;

namespace SubsetMulticast.Snmp.Agent;

/// <summary>The outcome of a SET phase: <see cref="SnmpErrorStatus.NoError"/>, or the status and 1-based varbind index.</summary>
public readonly record struct SetOutcome(SnmpErrorStatus Status, int Index)
{
    public static readonly SetOutcome Ok = new(SnmpErrorStatus.NoError, 0);
    public bool Succeeded => Status == SnmpErrorStatus.NoError;
}

/// <summary>
/// A prepared SET on one region (RFC 3416 §4.2.5's two phases, AgentX's TestSet/CommitSet/UndoSet/CleanupSet):
/// everything was checked by <see cref="MibRegion.Prepare"/>; <see cref="Commit"/> applies it; <see cref="Undo"/>
/// puts back what a successful commit changed.
/// </summary>
public interface ISetTransaction
{
    bool Commit(out string? error);
    bool Undo();
}

/// <summary>A subtree an agent serves: an ordered snapshot of its instances, and optionally writes.</summary>
public abstract class MibRegion
{
    public abstract ObjectIdentifier Root { get; }

    /// <summary>The instances under <see cref="Root"/> now, in OID order.</summary>
    public abstract IReadOnlyList<VarBind> Snapshot();

    /// <summary>Checks a SET's varbinds (all under <see cref="Root"/>); <paramref name="indexes"/> are their 1-based positions in the PDU.</summary>
    public virtual ISetTransaction? Prepare(IReadOnlyList<VarBind> varBinds, IReadOnlyList<int> indexes, out SetOutcome outcome)
    {
        outcome = new SetOutcome(SnmpErrorStatus.NotWritable, indexes[0]);
        return null;
    }
}

/// <summary>A region of fixed scalars or a small table computed on each read.</summary>
public sealed class ComputedRegion(ObjectIdentifier root, Func<IEnumerable<VarBind>> read) : MibRegion
{
    public override ObjectIdentifier Root { get; } = root;
    public override IReadOnlyList<VarBind> Snapshot() => [.. read().OrderBy(v => v.Oid)];
}

/// <summary>
/// The agent's MIB view: regions with disjoint roots. GET/GETNEXT search the regions' snapshots; SET prepares every
/// touched region first and commits only if all prepared, undoing committed regions if a later commit fails, so a
/// failed multi-varbind SET changes nothing (RFC 3416 §4.2.5: "as if simultaneously").
/// </summary>
public sealed class MibTree
{
    private readonly List<MibRegion> _regions;
    private readonly Lock _gate = new();

    public MibTree(IEnumerable<MibRegion> regions) => _regions = [.. regions.OrderBy(r => r.Root)];

    /// <summary>Serialises SETs against each other and against reads (one PDU at a time is enough here).</summary>
    public Lock Gate => _gate;

    private MibRegion? RegionOf(ObjectIdentifier oid) => _regions.FirstOrDefault(r => oid.StartsWith(r.Root));

    public SnmpValue Get(ObjectIdentifier oid)
    {
        var region = RegionOf(oid);
        if (region is null) return SnmpValue.NoSuchObject;
        var snap = region.Snapshot();
        int i = Search(snap, oid);
        return i >= 0 ? snap[i].Value : SnmpValue.NoSuchInstance;
    }

    public VarBind? GetNext(ObjectIdentifier oid)
    {
        foreach (var r in _regions)
        {
            if (r.Root <= oid && !oid.StartsWith(r.Root) && !r.Root.StartsWith(oid)) continue;   // region entirely before oid
            var snap = r.Snapshot();
            int i = Search(snap, oid);
            i = i >= 0 ? i + 1 : ~i;
            if (i < snap.Count) return snap[i];
        }
        return null;
    }

    /// <summary>SET in one go: prepare every touched region, then commit (undoing on a failed commit).</summary>
    public SetOutcome Set(IReadOnlyList<VarBind> varBinds, out string? detail)
    {
        detail = null;
        var prepared = Prepare(varBinds, out var outcome);
        if (prepared is null) return outcome;
        return prepared.Commit(out detail);
    }

    /// <summary>The test phase (AgentX TestSet): checks every varbind; null with the failing status and index when any fails.</summary>
    public PreparedSet? Prepare(IReadOnlyList<VarBind> varBinds, out SetOutcome outcome)
    {
        var byRegion = new Dictionary<MibRegion, (List<VarBind> Vbs, List<int> Idx)>();
        for (int i = 0; i < varBinds.Count; i++)
        {
            var region = RegionOf(varBinds[i].Oid);
            if (region is null) { outcome = new SetOutcome(SnmpErrorStatus.NotWritable, i + 1); return null; }
            if (!byRegion.TryGetValue(region, out var l)) byRegion[region] = l = ([], []);
            l.Vbs.Add(varBinds[i]);
            l.Idx.Add(i + 1);
        }
        var prepared = new List<ISetTransaction>();
        foreach (var (region, (vbs, idx)) in byRegion)
        {
            var tx = region.Prepare(vbs, idx, out outcome);
            if (tx is null || !outcome.Succeeded)
            {
                if (outcome.Succeeded) outcome = new SetOutcome(SnmpErrorStatus.GenErr, idx[0]);
                return null;
            }
            prepared.Add(tx);
        }
        outcome = SetOutcome.Ok;
        return new PreparedSet(prepared);
    }

    private static int Search(IReadOnlyList<VarBind> snap, ObjectIdentifier oid)
    {
        int lo = 0, hi = snap.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            int c = snap[mid].Oid.CompareTo(oid);
            if (c == 0) return mid;
            if (c < 0) lo = mid + 1; else hi = mid - 1;
        }
        return ~lo;
    }
}

/// <summary>A SET that passed its test phase: commit it (all regions or none), and undo a committed one.</summary>
public sealed class PreparedSet(List<ISetTransaction> regions)
{
    private int _committed;

    public SetOutcome Commit(out string? detail)
    {
        detail = null;
        for (int i = 0; i < regions.Count; i++)
        {
            if (regions[i].Commit(out detail)) { _committed = i + 1; continue; }
            bool undone = true;
            for (int j = i - 1; j >= 0; j--) undone &= regions[j].Undo();
            _committed = 0;
            return new SetOutcome(undone ? SnmpErrorStatus.CommitFailed : SnmpErrorStatus.UndoFailed, 1);
        }
        return SetOutcome.Ok;
    }

    public bool Undo()
    {
        bool ok = true;
        for (int j = _committed - 1; j >= 0; j--) ok &= regions[j].Undo();
        _committed = 0;
        return ok;
    }
}
