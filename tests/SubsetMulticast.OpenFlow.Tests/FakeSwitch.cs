using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using SubsetMulticast.Core.Addressing;
using SubsetMulticast.OpenFlow.Connections;
using SubsetMulticast.OpenFlow.Protocol;

namespace SubsetMulticast.OpenFlow.Tests;

/// <summary>
/// A minimal OpenFlow 1.3 switch over TCP for tests: answers the handshake, keeps a group table and a
/// flow table, applies FLOW_MOD / GROUP_MOD like OVS does (ADD of an existing group fails GROUP_EXISTS,
/// MODIFY of a missing one UNKNOWN_GROUP), answers multipart flow / group-desc and barriers.
/// </summary>
public sealed class FakeSwitch : IAsyncDisposable
{
    private readonly TcpClient _client = new();
    private readonly SemaphoreSlim _write = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private Stream? _stream;

    public FakeSwitch(ulong dpid, int ports = 4) { DatapathId = dpid; PortCount = ports; }

    public ulong DatapathId { get; }
    public int PortCount { get; }
    public string SwitchId => OpenFlowSession.FormatDatapathId(DatapathId);
    public Dictionary<uint, GroupMod> Groups { get; } = [];
    public List<FlowMod> Flows { get; } = [];
    public List<OfpMessage> Received { get; } = [];
    public readonly object Gate = new();

    /// <summary>When set, a GROUP_MOD for this group id is refused with GROUP_MOD_FAILED/this code.</summary>
    public (uint GroupId, ushort Code)? FailGroup { get; set; }

    /// <summary>Delay before each barrier reply (to show that switches are programmed in parallel).</summary>
    public TimeSpan BarrierDelay { get; set; }

    /// <summary>Stop answering echoes (keepalive test).</summary>
    public bool Mute { get; set; }

    public Task Closed => _loop ?? Task.CompletedTask;

    public async Task ConnectAsync(IPEndPoint controller)
    {
        await _client.ConnectAsync(controller);
        _stream = _client.GetStream();
        await SendAsync(new HelloMessage(HelloMessage.Bitmap13));
        _loop = LoopAsync(_stop.Token);
    }

    public async Task SendRawAsync(byte[] bytes)
    {
        await _write.WaitAsync();
        try { await _stream!.WriteAsync(bytes); await _stream.FlushAsync(); }
        finally { _write.Release(); }
    }

    public Task SendAsync(OfpMessage m) => SendRawAsync(m.ToArray());

    private async Task LoopAsync(CancellationToken ct)
    {
        var reader = PipeReader.Create(_stream!);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var result = await reader.ReadAsync(ct);
                var buffer = result.Buffer;
                while (OpenFlowFramer.TryReadMessage(ref buffer, Ofp.MaxMessageLength, out var m))
                {
                    lock (Gate) Received.Add(m!);
                    if (m is BarrierRequest && BarrierDelay > TimeSpan.Zero) await Task.Delay(BarrierDelay, ct);
                    foreach (var reply in Handle(m!)) await SendAsync(reply);
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted) return;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException) { }
    }

    private IEnumerable<OfpMessage> Handle(OfpMessage m)
    {
        switch (m)
        {
            case FeaturesRequest:
                yield return new FeaturesReply(DatapathId, 0, 254, 0, 0x4F) { Xid = m.Xid };
                break;
            case PortDescRequest:
                yield return new PortDescReply(Enumerable.Range(1, PortCount)
                    .Select(i => new OfpPort((uint)i, new MacAddress(0x020000000000UL | (uint)i), $"p{i}")).ToList()) { Xid = m.Xid };
                break;
            case EchoRequest e when !Mute:
                yield return new EchoReply(e.Data) { Xid = m.Xid };
                break;
            case BarrierRequest:
                yield return new BarrierReply { Xid = m.Xid };
                break;
            case GroupMod g:
                if (ApplyGroup(g) is { } err) yield return err;
                break;
            case FlowMod f:
                ApplyFlow(f);
                break;
            case FlowStatsRequest fs:
                List<FlowStatsEntry> entries;
                lock (Gate)
                    entries = Flows.Where(f => (f.Cookie & fs.CookieMask) == (fs.Cookie & fs.CookieMask))
                        .Select(f => new FlowStatsEntry(f.TableId, f.Priority, f.Cookie, f.Match, f.Instructions)).ToList();
                // one entry per part to exercise REPLY_MORE
                if (entries.Count == 0) { yield return new FlowStatsReply([]) { Xid = m.Xid }; break; }
                for (int i = 0; i < entries.Count; i++)
                    yield return new FlowStatsReply([entries[i]], i < entries.Count - 1 ? Ofp.MultipartMore : (ushort)0) { Xid = m.Xid };
                break;
            case GroupDescRequest:
                List<GroupDescEntry> groups;
                lock (Gate) groups = Groups.Values.Select(g => new GroupDescEntry(g.GroupType, g.GroupId, g.Buckets)).ToList();
                yield return new GroupDescReply(groups) { Xid = m.Xid };
                break;
        }
    }

    private ErrorMessage? ApplyGroup(GroupMod g)
    {
        var echo = g.ToArray()[..Math.Min(64, g.EncodedLength)];
        lock (Gate)
        {
            if (FailGroup is { } fail && fail.GroupId == g.GroupId) return new ErrorMessage(6, fail.Code, echo) { Xid = g.Xid };
            switch (g.Command)
            {
                case GroupModCommand.Add:
                    if (Groups.ContainsKey(g.GroupId)) return new ErrorMessage(6, 0, echo) { Xid = g.Xid };
                    Groups[g.GroupId] = g; return null;
                case GroupModCommand.Modify:
                    if (!Groups.ContainsKey(g.GroupId)) return new ErrorMessage(6, 8, echo) { Xid = g.Xid };
                    Groups[g.GroupId] = g; return null;
                default:
                    Groups.Remove(g.GroupId);
                    Flows.RemoveAll(f => f.Instructions.OfType<ApplyActions>().Any(a => a.Actions.Any(x => x is GroupAction ga && ga.GroupId == g.GroupId)));
                    return null;
            }
        }
    }

    private void ApplyFlow(FlowMod f)
    {
        lock (Gate)
        {
            switch (f.Command)
            {
                case FlowModCommand.Add:
                    Flows.RemoveAll(x => x.Priority == f.Priority && x.Match.SameAs(f.Match));
                    Flows.Add(f); break;
                case FlowModCommand.DeleteStrict:
                    Flows.RemoveAll(x => x.Priority == f.Priority && x.Match.SameAs(f.Match) && (x.Cookie & f.CookieMask) == (f.Cookie & f.CookieMask)); break;
                case FlowModCommand.Delete:
                    Flows.RemoveAll(x => (x.Cookie & f.CookieMask) == (f.Cookie & f.CookieMask)); break;
            }
        }
    }

    public int CountReceived<T>() where T : OfpMessage { lock (Gate) return Received.OfType<T>().Count(); }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _client.Dispose();
        if (_loop is not null) await _loop;
    }
}
