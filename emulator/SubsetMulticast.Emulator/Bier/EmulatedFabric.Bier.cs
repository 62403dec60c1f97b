using SubsetMulticast.Emulator.Switching;
using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Bier.Encapsulation;
using SubsetMulticast.Bier.Forwarding;
using SubsetMulticast.Emulator.Bier;

namespace SubsetMulticast.Emulator;

public sealed partial class EmulatedFabric
{
    // Copies in flight live in one arena that grows to the largest frame's copies and is reused for every frame: the
    // queue holds (node, offset, length) into it, so forwarding allocates nothing per frame once warm.
    private readonly Queue<(int Node, int Offset, int Length)> _bierQueue = new();
    private byte[] _bierArena = new byte[16 * 1024];
    private int _bierUsed;
    private readonly BierCopyList _bierCopies = new();

    /// <summary>Set by <see cref="EnableBier"/>: switches then forward BIER frames (EtherType 0xAB37 / 0x8847) by their BIFTs.</summary>
    public BierPlane? Bier { get; private set; }

    public BierPlane EnableBier(BitStringLength bsl = BitStringLength.Bits256, bool treeOnly = true)
    {
        lock (_gate) return Bier = new BierPlane(this, bsl, treeOnly);
    }

    /// <summary>Sends one BIER frame per SI from <paramref name="host"/> to <paramref name="members"/>, carrying <paramref name="payload"/>.</summary>
    public DeliveryReport SendBier(EmulatedHost host, IEnumerable<EmulatedHost> members, ReadOnlySpan<byte> payload, DeliveryReport? into = null)
    {
        var plane = Bier ?? throw new InvalidOperationException("BIER is not enabled on this fabric (EnableBier).");
        var report = into ?? new DeliveryReport(_hosts.Length, _linkCount);
        foreach (var set in plane.Encode(members)) Send(host, plane.Frame(host, set, payload), report);
        return report;
    }

    /// <summary>
    /// The forwarding path's BIER hook: a BIER frame reaching a switch is forwarded by the BFRs from there on, each
    /// copy with its own BitString (so not through the fabric's one-frame queue). A host BFER counts a frame only
    /// when its own BFR delivers it (its bit set); every copy on a link is counted like any frame. A frame whose copies
    /// outlive the hop budget (a forwarding loop, e.g. a BIFT misconfigured by a test) is dropped and counted in
    /// <see cref="DeliveryReport.LoopDrops"/>, like a real BFR's TTL/loop protection, not thrown. Under the gate.
    /// </summary>
    private bool TryForwardBier(EmulatedSwitch s, ReadOnlySpan<byte> frame, int sender, DeliveryReport report)
    {
        if (Bier is not { } plane || !BierFrame.TryGetHeader(frame, out var packet)) return false;
        _bierUsed = 0;
        EnqueueBier(s.Index, packet);
        int budget = 4 * (plane.Graph.NodeCount + _linkCount) + 16;
        while (_bierQueue.Count > 0)
        {
            if (--budget < 0)
            {
                _bierQueue.Clear();
                report.LoopDrops++;
                break;
            }
            var (node, offset, length) = _bierQueue.Dequeue();
            var verdict = plane.Domain.Routers[node].Process(_bierArena.AsSpan(offset, length), _bierCopies);
            if (node >= plane.SwitchCount)
            {
                int host = node - plane.SwitchCount;
                if (verdict.DeliveredLocally && host != sender) report.FramesPerHost[host]++;
                continue; // a host BFER forwards nothing on
            }
            for (int i = 0; i < _bierCopies.Count; i++)
            {
                var to = _bierCopies.Target(i);
                var copy = _bierCopies.Packet(i);
                Copy(report, to.Link, BierFrame.EthernetLength + copy.Length);
                EnqueueBier(to.Neighbour, copy);
            }
        }
        return true;
    }

    private void EnqueueBier(int node, ReadOnlySpan<byte> packet)
    {
        if (_bierUsed + packet.Length > _bierArena.Length) Array.Resize(ref _bierArena, Math.Max(_bierArena.Length * 2, _bierUsed + packet.Length));
        packet.CopyTo(_bierArena.AsSpan(_bierUsed));
        _bierQueue.Enqueue((node, _bierUsed, packet.Length));
        _bierUsed += packet.Length;
    }
}
