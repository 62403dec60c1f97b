using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using SubsetMulticast.Core.Addressing;

namespace SubsetMulticast.Transfer.Groups;

/// <summary>
/// The controller's REST API: <c>POST /api/v1/groups</c> to open (README "REST API"), <c>DELETE
/// /api/v1/groups/{id}</c> to release. A refusal (problem+json) or a transport error becomes
/// <see cref="RendezvousUnavailableException"/> with the controller's detail.
/// </summary>
public sealed class RestRendezvousGroups(HttpClient http) : IRendezvousGroups
{
    public async Task<RendezvousLease> OpenAsync(int vlan, IpAddress reference, IReadOnlyList<IpAddress> members, TimeSpan ttl, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        string body;
        try
        {
            response = await http.PostAsJsonAsync("api/v1/groups", new
            {
                vlan,
                reference = reference.ToString(),
                members = members.Select(m => m.ToString()).ToArray(),
                ttlMs = (long)ttl.TotalMilliseconds,
            }, cancellationToken).ConfigureAwait(false);
            body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new RendezvousUnavailableException($"controller unreachable: {e.Message}", e);
        }
        if (!response.IsSuccessStatusCode)
        {
            string detail = body;
            try { detail = JsonNode.Parse(body)?["detail"]?.GetValue<string>() ?? body; } catch (JsonException) { }
            throw new RendezvousUnavailableException($"controller refused ({(int)response.StatusCode}): {detail}");
        }
        try
        {
            var j = JsonNode.Parse(body)!;
            var ignored = new Dictionary<IpAddress, string>();
            foreach (var i in j["ignored"]?.AsArray() ?? [])
                ignored[IpAddress.Parse(i!["member"]!.GetValue<string>())] = i["reason"]!.GetValue<string>();
            return new RendezvousLease(
                j["id"]!.GetValue<string>(),
                IpAddress.Parse(j["group"]!.GetValue<string>()),
                [.. members],
                ignored,
                j["expiresAt"] is { } e ? e.GetValue<DateTimeOffset>() : DateTimeOffset.MaxValue,
                j["setupMicros"]?.GetValue<long>() ?? 0);
        }
        catch (Exception e) when (e is JsonException or NullReferenceException or InvalidOperationException or FormatException)
        {
            throw new RendezvousUnavailableException($"controller answered with an unreadable group: {e.Message}", e);
        }
    }

    public async Task ReleaseAsync(RendezvousLease lease, CancellationToken cancellationToken)
    {
        try
        {
            using var _ = await http.DeleteAsync($"api/v1/groups/{Uri.EscapeDataString(lease.Id)}", cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            // The lease expires on its own; a failed release costs the address until then.
        }
    }
}
