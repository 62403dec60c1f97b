using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Core.Lifecycle;
using SubsetMulticast.Core.ReferenceGroups;
using SubsetMulticast.OpenFlow;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.Controller.OpenFlowFabric;

/// <summary>
/// Gives every OpenFlow switch, for each transactional block, a low-priority flow that sends block addresses
/// with no rule of their own to the switch's router ports — what an RFC 4541 snooping switch does with
/// unregistered multicast (§2.1.2), and what the planner assumes when it leaves a switch without a rule
/// (its portset would equal its router ports). Open vSwitch's NORMAL without snooping floods unregistered
/// multicast instead, so without these flows a sender's own leaf would flood a group to its non-members.
/// At the tree root (no router port) the flow drops. Resynchronised on connect, on topology changes and
/// on every <see cref="SyncAsync"/> (the service's tick, which picks up router ports learned from queries);
/// only switches whose flows would change are written.
/// </summary>
public sealed partial class UnregisteredGroupFlows : IDisposable
{
    /// <summary>"SU": the cookie space of these flows; the southbound's reconciliation does not touch it.</summary>
    public const ushort CookiePrefix = CookieSpaces.UnregisteredGroups;

    private readonly OpenFlowListener _listener;
    private readonly ReferenceGroupTable _references;
    private readonly IReadOnlyList<(VlanId Vlan, AddressBlock Block)> _blocks;
    private readonly ushort _priority;
    private readonly byte _tableId;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _sync = new(1, 1);
    private readonly ConcurrentDictionary<string, string> _installed = new(StringComparer.Ordinal);
    private int _disposed;

    /// <param name="priority">Above the table-miss (0), below the group rules (the southbound's priority).</param>
    public UnregisteredGroupFlows(OpenFlowListener listener, ReferenceGroupTable references, IEnumerable<VlanBlocks> vlans,
        ushort priority = 500, byte tableId = 0, ILogger? logger = null, bool syncOnConnect = true)
    {
        _listener = listener;
        _references = references;
        _blocks = [.. vlans.SelectMany(v => new[] { v.V4, v.V6 }.OfType<AddressBlock>().Select(b => (v.Vlan, b)))];
        _priority = priority;
        _tableId = tableId;
        _logger = logger ?? NullLogger.Instance;
        _syncOnConnect = syncOnConnect;
        if (syncOnConnect) listener.SwitchConnected += OnConnected;
    }

    private readonly bool _syncOnConnect;

    public ulong CookieBase => CookieSpaces.Base(CookiePrefix);

    /// <summary>What a switch's flows depend on: its router ports per VLAN. Equal signatures, equal flows.</summary>
    private string SignatureFor(int switchIndex)
    {
        var sig = new System.Text.StringBuilder();
        foreach (var (vlan, _) in _blocks)
            sig.Append(vlan.Value).Append(':').AppendJoin(',', _references.RouterPorts(vlan, switchIndex).ToArray()).Append(';');
        return sig.ToString();
    }

    /// <summary>The flows <paramref name="switchIndex"/> should hold now: one per (VLAN, block prefix).</summary>
    private List<FlowMod> FlowsFor(int switchIndex)
    {
        var flows = new List<FlowMod>();
        uint n = 0;
        foreach (var (vlan, block) in _blocks)
        {
            var router = _references.RouterPorts(vlan, switchIndex).ToArray();
            OfpInstruction[] instructions = router.Length == 0 ? [] : [new ApplyActions([.. router.Select(p => (OfpAction)new OutputAction(p))])];
            foreach (var (first, bits) in Prefixes(block))
            {
                var match = new OfpMatch
                {
                    VlanVid = vlan.Value == 0 ? null : (ushort)(Ofp.VidPresent | vlan.Value),
                    EthType = first.IsV4 ? (ushort)0x0800 : (ushort)0x86DD,
                    Ipv4Dst = first.IsV4 ? first.V4 : null,
                    Ipv4DstMask = first.IsV4 ? ~0u << bits : null,
                    Ipv6Dst = first.IsV4 ? null : first,
                    Ipv6DstMask = first.IsV4 ? null : IpAddress.FromV6(ulong.MaxValue, ~0UL << bits),
                };
                flows.Add(new FlowMod(FlowModCommand.Add, match, instructions)
                { Cookie = CookieBase | n++, TableId = _tableId, Priority = _priority });
            }
        }
        return flows;
    }

    /// <summary>Brings every ready switch's flows to what they should be; writes only those that differ.</summary>
    public async Task SyncAsync(CancellationToken ct = default)
    {
        if (Volatile.Read(ref _disposed) != 0) return;
        await _sync.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var topology = _references.Topology;
            var writes = new List<Task>();
            foreach (var (id, session) in _listener.Switches)
            {
                // A slave's writes are refused IS_SLAVE; the master writes them (its bootstrap or takeover resyncs).
                if (!session.IsReady || session.IsSlave || !topology.TryGetIndex(id, out int index)) continue;
                var signature = SignatureFor(index);
                if (_installed.TryGetValue(id, out var had) && had == signature) continue;
                writes.Add(WriteAsync(session, id, FlowsFor(index), signature, ct));
            }
            await Task.WhenAll(writes).ConfigureAwait(false);
        }
        finally { _sync.Release(); }
    }

    private async Task WriteAsync(OpenFlowSession session, string id, IReadOnlyList<FlowMod> flows, string signature, CancellationToken ct)
    {
        try
        {
            var errors = await session.ApplyWithBarrierAsync(flows, ct).ConfigureAwait(false);
            if (errors.Count > 0)
            {
                _installed.TryRemove(id, out _);
                Log.Refused(_logger, id, errors[0].Name);
                return;
            }
            _installed[id] = signature;
        }
        catch (Exception e) when (e is OpenFlowSessionException or TimeoutException or OperationCanceledException)
        {
            _installed.TryRemove(id, out _); // the next sync tries again
        }
    }

    private void OnConnected(OpenFlowSession session)
    {
        // A (re)connected switch may have lost its tables (ovs-vswitchd restart): write it again.
        _installed.TryRemove(session.SwitchId, out _);
        RequestSync();
    }

    private int _syncRequested, _syncRunning;

    /// <summary>
    /// Asks for a <see cref="SyncAsync"/> soon. Requests made while one runs fold into ONE more run: discovery changes
    /// the topology once per link found, and a full sync over every switch per change made a 1,000-switch fabric's
    /// learning quadratic.
    /// </summary>
    public void RequestSync()
    {
        Volatile.Write(ref _syncRequested, 1);
        if (Interlocked.CompareExchange(ref _syncRunning, 1, 0) == 0) _ = Task.Run(RunRequestedSyncsAsync);
    }

    private async Task RunRequestedSyncsAsync()
    {
        while (true)
        {
            while (Interlocked.Exchange(ref _syncRequested, 0) == 1) await SyncSafeAsync().ConfigureAwait(false);
            Volatile.Write(ref _syncRunning, 0);
            if (Volatile.Read(ref _syncRequested) == 0 || Interlocked.CompareExchange(ref _syncRunning, 1, 0) != 0) return;
        }
    }

    /// <summary>The bootstrap step: a (re)connected switch may have lost its tables (ovs-vswitchd restart), so its flows are written again.</summary>
    public async Task<bool> ResyncAsync(OpenFlowSession session, CancellationToken ct)
    {
        _installed.TryRemove(session.SwitchId, out _);
        // This switch only: a full sync per connecting switch serialised a large fabric's bootstraps behind one lock.
        var topology = _references.Topology;
        if (Volatile.Read(ref _disposed) == 0 && session.IsReady && topology.TryGetIndex(session.SwitchId, out int index))
        {
            var signature = SignatureFor(index);
            await WriteAsync(session, session.SwitchId, FlowsFor(index), signature, ct).ConfigureAwait(false);
        }
        return true;
    }

    internal async Task SyncSafeAsync()
    {
        try { await SyncAsync().ConfigureAwait(false); }
        catch (ObjectDisposedException) { }
    }

    /// <summary>The aligned prefixes covering a block (one, for blocks parsed from CIDR).</summary>
    internal static IEnumerable<(IpAddress First, int HostBits)> Prefixes(AddressBlock block)
    {
        ulong start = block.First.IsV4 ? block.First.V4 : block.First.Low, remaining = (ulong)block.Size;
        while (remaining > 0)
        {
            int bits = start == 0 ? 63 : System.Numerics.BitOperations.TrailingZeroCount(start);
            while (bits > 0 && (1UL << bits) > remaining) bits--;
            var first = block.First.IsV4 ? IpAddress.FromV4((uint)start) : IpAddress.FromV6(block.First.High, start);
            yield return (first, bits);
            start += 1UL << bits;
            remaining -= 1UL << bits;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_syncOnConnect) _listener.SwitchConnected -= OnConnected;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "Switch {Switch} refused the unregistered-group flows: {Error}")]
        public static partial void Refused(ILogger logger, string @switch, string error);
    }
}
