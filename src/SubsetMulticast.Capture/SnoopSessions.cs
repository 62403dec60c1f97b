using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Snooping;

namespace SubsetMulticast.Capture;

/// <summary>Entry points that drive a <see cref="Snooper"/> from a capture file or from live interfaces.</summary>
public static class SnoopSessions
{
    /// <summary>
    /// Replays a pcap/pcapng file on its own timestamps. Each capture interface is a port named after the
    /// pcapng if_name (pcap: <paramref name="singlePortName"/>). Non-Ethernet interfaces are skipped.
    /// The clock ends at the last timestamp in the file (statistics blocks included), or at
    /// <paramref name="until"/>: frames after it are not replayed and timers run up to it.
    /// </summary>
    public static Snooper ReplayFile(string path, SnoopingOptions? options = null, DateTimeOffset? until = null, string singlePortName = "pcap")
    {
        var snooper = new Snooper(options, TimeProvider.System);
        Replay(snooper, path, until, singlePortName);
        return snooper;
    }

    /// <summary>Replays into an existing snooper (see <see cref="ReplayFile"/>).</summary>
    public static void Replay(Snooper snooper, string path, DateTimeOffset? until = null, string singlePortName = "pcap")
    {
        if (until is { } u) Replay(snooper, path, [CaptureMoment.At(u)], null, singlePortName);
        else Replay(snooper, path, [], null, singlePortName);
    }

    /// <summary>
    /// Replays <paramref name="path"/> and stops at each of <paramref name="moments"/> in time order: frames up to
    /// the moment are applied, timers run to it, and <paramref name="atMoment"/> gets the state then. Replay ends
    /// at the last moment (frames after it are not read); with no moments it ends at the file's last timestamp.
    /// Returns the resolved moments (ticks since the Unix epoch) in the order they were reported.
    /// </summary>
    public static IReadOnlyList<long> Replay(Snooper snooper, string path, IReadOnlyList<CaptureMoment> moments,
        Action<SnoopingSnapshot>? atMoment, string singlePortName = "pcap")
    {
        ArgumentNullException.ThrowIfNull(moments);
        using var reader = CaptureFileReader.Open(path);
        var ports = new List<PortId?>();
        long last = long.MinValue;
        long[]? due = null;   // resolved and sorted once the first record's time is known
        int next = 0;
        void ReachMoment()
        {
            snooper.AdvanceTo(due![next++]);
            atMoment?.Invoke(snooper.Snapshot());
        }
        while (reader.TryRead(out var record))
        {
            due ??= Resolve(moments, record.Timestamp);
            while (next < due.Length && record.Timestamp > due[next]) ReachMoment();
            if (due.Length > 0 && next == due.Length) break;
            last = Math.Max(last, record.Timestamp);
            if (record.Kind != CaptureRecordKind.Packet) continue;
            while (ports.Count < reader.Interfaces.Count)
            {
                var i = reader.Interfaces[ports.Count];
                ports.Add(i.LinkType == CaptureFileReader.LinkTypeEthernet
                    ? snooper.AddPort(reader.IsPcapNg ? i.Name : singlePortName) : null);
            }
            if (ports[record.Interface] is { } port) snooper.Process(port, record.Data.Span, record.Timestamp);
        }
        // An empty capture has no first record: relative moments count from the epoch.
        due ??= Resolve(moments, 0);
        while (next < due.Length) ReachMoment();
        if (due.Length == 0 && last != long.MinValue) snooper.AdvanceTo(last);
        return due;
    }

    private static long[] Resolve(IReadOnlyList<CaptureMoment> moments, long first)
    {
        var due = new long[moments.Count];
        for (int i = 0; i < due.Length; i++) due[i] = moments[i].Resolve(first);
        Array.Sort(due);
        return due;
    }

    /// <summary>
    /// Snoops live on <paramref name="interfaces"/> (one port per interface, named after it) until
    /// <paramref name="cancellationToken"/> fires: one reader thread per interface, timers ticked every 100 ms.
    /// With <see cref="SnoopingOptions.Querier"/> set, our queries are injected on every interface.
    /// </summary>
    public static async Task RunLiveAsync(Snooper? snooper, IReadOnlyList<string> interfaces, SnoopingOptions options,
        Action<Snooper>? started, string? filter, CancellationToken cancellationToken)
    {
        if (interfaces.Count == 0) throw new ArgumentException("At least one interface.", nameof(interfaces));
        var handles = new List<LiveCaptureHandle>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Exception? failure = null;
        try
        {
            foreach (var name in interfaces) handles.Add(LiveCaptureHandle.Open(name, filter ?? LiveCaptureHandle.DefaultFilter));
            snooper ??= new Snooper(options, TimeProvider.System, options.Querier is null ? null : new InjectAll(handles));
            var ports = interfaces.Select(snooper.AddPort).ToArray();
            started?.Invoke(snooper);
            var s = snooper;
            var token = stop.Token;
            void Fail(Exception e)
            {
                Interlocked.CompareExchange(ref failure, e, null);
                stop.Cancel();
            }
            // Readers stop within one read timeout (100 ms) of cancellation; a failure in any of them stops all.
            var readers = handles.Select((h, i) => Task.Factory.StartNew(() =>
            {
                try
                {
                    while (!token.IsCancellationRequested)
                        if (h.TryNext(out var frame, out long ts)) s.Process(ports[i], frame, ts);
                }
                catch (Exception e) { Fail(e); }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToList();
            var ticker = Task.Run(async () =>
            {
                using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
                try { while (await timer.WaitForNextTickAsync(token)) s.Tick(); }
                catch (OperationCanceledException) { }
                catch (Exception e) { Fail(e); }
            }, CancellationToken.None);
            await Task.WhenAll(readers.Append(ticker));
        }
        finally
        {
            // Only now, with every reader finished, may the handles close.
            foreach (var h in handles) h.Dispose();
        }
        if (failure is not null) throw failure as CaptureException ?? new CaptureException($"live capture failed: {failure.Message}", failure);
    }

    private sealed class InjectAll(List<LiveCaptureHandle> handles) : IFrameTransmitter
    {
        public void Send(VlanId vlan, ReadOnlySpan<byte> frame)
        {
            foreach (var h in handles) h.Inject(frame);
        }
    }
}
