using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Packets.Igmp;
using SubsetMulticast.Packets.Mld;
using SubsetMulticast.Snooping.Membership;

namespace SubsetMulticast.Snooping;

/// <summary>Sends our querier's frames (live: pcap_inject on every port; tests: a list).</summary>
public interface IFrameTransmitter
{
    void Send(VlanId vlan, ReadOnlySpan<byte> frame);
}

/// <summary>
/// Our own IGMPv3/MLDv2 querier (RFC 3376 §6.6, RFC 3810 §7.6). It queries only while no other querier with a
/// lower address is present (the election of RFC 3376 §6.6.2): general queries every query interval (a quarter
/// of it for the first robustness-count startup queries), and LMQC group-specific queries LMQI apart after a leave.
/// </summary>
internal sealed class OwnQuerier(SnoopingOptions options, QuerierOptions querier, RouterTable routers, IFrameTransmitter transmitter)
{
    private readonly byte[] _frame = new byte[256];
    private readonly VlanId[] _vlans = [.. querier.Vlans];
    private long _nextDue = long.MinValue;
    private readonly Dictionary<(VlanId Vlan, bool V6), (long Next, int Sent)> _general = new();
    private readonly List<(VlanId Vlan, IpAddress Group, long Due, int Left)> _pending = [];

    public long FramesSent { get; private set; }

    /// <summary>True when we are the querier for this VLAN and family at <paramref name="now"/>.</summary>
    public bool IsActive(VlanId vlan, bool v6, long now)
    {
        var own = v6 ? querier.IPv6Source : querier.IPv4Source;
        if (own is null || Array.IndexOf(_vlans, vlan) < 0) return false;
        return !routers.TryGetQuerier(vlan, v6, now, out var other) || other.Address.CompareTo(own.Value) >= 0;
    }

    /// <summary>A member left <paramref name="group"/>: schedule Q(G), LMQC times, LMQI apart.</summary>
    public void OnLeave(VlanId vlan, IpAddress group, long now)
    {
        foreach (var p in _pending) if (p.Vlan == vlan && p.Group == group) return;
        _pending.Add((vlan, group, now, options.LastMemberQueryCount));
        _nextDue = Math.Min(_nextDue, now);
    }

    public void Tick(long now)
    {
        // Called for every new timestamp: return at once unless something is due (no work, no allocation).
        if (now < _nextDue) return;
        long next = now + options.LastMemberQueryInterval.Ticks;   // re-check elections at least this often
        foreach (var vlan in _vlans)
        {
            for (int f = 0; f < 2; f++)
            {
                bool v6 = f == 1;
                if (!IsActive(vlan, v6, now)) continue;
                var key = (vlan, v6);
                _general.TryGetValue(key, out var state);
                if (state.Next > now) { next = Math.Min(next, state.Next); continue; }
                Send(vlan, v6 ? Unspecified6 : IpAddress.FromV4(0), v6, options.QueryResponseInterval);
                long interval = state.Sent < options.LastMemberQueryCount ? options.QueryInterval.Ticks / 4 : options.QueryInterval.Ticks;
                _general[key] = (now + interval, state.Sent + 1);
                next = Math.Min(next, now + interval);
            }
        }
        for (int i = _pending.Count - 1; i >= 0; i--)
        {
            var p = _pending[i];
            if (p.Due > now) { next = Math.Min(next, p.Due); continue; }
            if (IsActive(p.Vlan, p.Group.IsV6, now)) Send(p.Vlan, p.Group, p.Group.IsV6, options.LastMemberQueryInterval);
            if (p.Left <= 1) _pending.RemoveAt(i);
            else
            {
                _pending[i] = p with { Due = now + options.LastMemberQueryInterval.Ticks, Left = p.Left - 1 };
                next = Math.Min(next, now + options.LastMemberQueryInterval.Ticks);
            }
        }
        _nextDue = next;
    }

    private static readonly IpAddress Unspecified6 = IpAddress.FromV6(0, 0);

    private void Send(VlanId vlan, IpAddress group, bool v6, TimeSpan maxResponse)
    {
        int qi = (int)Math.Min(options.QueryInterval.TotalSeconds, 31744);
        byte qrv = (byte)Math.Clamp(options.LastMemberQueryCount, 1, 7);
        int n = v6
            ? MldFrames.WriteV2Query(_frame, querier.SourceMac, vlan, querier.IPv6Source!.Value, group,
                (int)Math.Min(maxResponse.TotalMilliseconds, 8387584), false, qrv, qi)
            : IgmpFrames.WriteV3Query(_frame, querier.SourceMac, vlan, querier.IPv4Source!.Value, group,
                (int)Math.Min(maxResponse.TotalMilliseconds / 100, 31744), false, qrv, qi);
        transmitter.Send(vlan, _frame.AsSpan(0, n));
        FramesSent++;
    }
}
