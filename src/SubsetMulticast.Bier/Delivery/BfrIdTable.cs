using SubsetMulticast.Core.Addressing;
using SubsetMulticast.Bier.BitStrings;

namespace SubsetMulticast.Bier.Delivery;

/// <summary>
/// The BFR-ids of the hosts (BFERs) of one BIER sub-domain, keyed by (VLAN, MAC) so a host's IPv4 and IPv6
/// addresses share one id. Ids are given in order of first use from 1 (dense, so BitStrings stay in low SIs)
/// or preset (<see cref="Assign"/>) to match a deployed assignment. Thread-safe.
/// </summary>
public sealed class BfrIdTable
{
    private readonly Dictionary<(VlanId, MacAddress), int> _ids = [];
    private readonly Lock _gate = new();
    private int _next = 1;

    public int Count { get { lock (_gate) return _ids.Count; } }

    public int GetOrAdd(VlanId vlan, MacAddress host)
    {
        lock (_gate)
        {
            if (_ids.TryGetValue((vlan, host), out var id)) return id;
            while (_ids.ContainsValue(_next)) _next++;
            if (_next > BfrIds.Max) throw new InvalidOperationException("Every BFR-id 1..65535 is taken.");
            _ids[(vlan, host)] = _next;
            return _next++;
        }
    }

    public void Assign(VlanId vlan, MacAddress host, int bfrId)
    {
        if (!BfrIds.IsValid(bfrId)) throw new ArgumentOutOfRangeException(nameof(bfrId), bfrId, "BFR-ids are 1..65535.");
        lock (_gate) _ids[(vlan, host)] = bfrId;
    }
}
