using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using SubsetMulticast.Bier.BitStrings;
using SubsetMulticast.Bier.Delivery;
using SubsetMulticast.Core.Lifecycle;

namespace SubsetMulticast.Controller.Api;

/// <summary>One SI's BitString: <see cref="Bits"/> are positions within the set, <see cref="Hex"/> the wire bytes.</summary>
public sealed record BierSetView(int Si, int[] Bits, string Hex);

/// <summary>
/// The answer to POST /groups with <c>"delivery":"bier"</c>: 200, not 201 — nothing is stored or installed, so
/// there is no group to GET or DELETE; the sender writes <see cref="Sets"/> into its packets' BIER headers.
/// </summary>
public sealed record BierDeliveryView(string Delivery, int Vlan, string Reference, string[] Members, string[] Effective, IgnoredView[] Ignored,
    int[] BfrIds, int SubDomain, int Bsl, BierSetView[] Sets, long SetupMicros);

internal static class BierDeliveryApi
{
    public static IResult Answer(CreateGroupRequest request, HttpContext http, TimeProvider time, long start)
    {
        var planner = http.RequestServices.GetRequiredService<BierDeliveryPlanner>();
        var planned = planner.Plan(request.Vlan, request.Reference, request.Members);
        if (!planned.Succeeded) return ApiProblems.From(planned.Problem!, http);
        var d = planned.Value!;
        var view = new BierDeliveryView("bier", d.Vlan.Value, d.Reference.ToString(), [.. d.Members.Select(m => m.ToString())],
            [.. d.Effective.Select(m => m.ToString())], [.. d.Ignored.Select(i => new IgnoredView(i.Member.ToString(), GroupView.ReasonName(i.Reason)))],
            [.. d.BfrIds], d.SubDomain, d.Bsl.Bits(), [.. d.Sets.Select(s => new BierSetView(s.Si, [.. s.Bits.SetBits()], s.Bits.ToHex()))],
            (long)time.GetElapsedTime(start).TotalMicroseconds);
        return Results.Json(view, ApiJsonContext.Default.BierDeliveryView);
    }
}
