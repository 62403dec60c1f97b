using Microsoft.AspNetCore.Http;
using SubsetMulticast.Core.Lifecycle;

namespace SubsetMulticast.Controller.Api;

/// <summary>Every error the API returns, as application/problem+json with a <c>urn:tsm:problem:…</c> type.</summary>
internal static class ApiProblems
{
    public const string ContentType = "application/problem+json";
    public const string TypePrefix = "urn:tsm:problem:";

    public static IResult From(TsmProblem problem, HttpContext http) =>
        Result(problem.Slug, StatusFor(problem.Kind), problem.Title, problem.Detail, http);

    public static int StatusFor(ProblemKind kind) => kind switch
    {
        ProblemKind.InvalidRequest or ProblemKind.EmptyMemberList or ProblemKind.TooManyMembers => StatusCodes.Status400BadRequest,
        ProblemKind.VlanNotAllowed or ProblemKind.UnknownReferenceGroup or ProblemKind.NoMemberInReferenceGroup
            or ProblemKind.AddressFamilyMismatch or ProblemKind.AddressOutsideBlock => StatusCodes.Status422UnprocessableEntity,
        ProblemKind.BlockExhausted or ProblemKind.GroupBusy => StatusCodes.Status409Conflict,
        ProblemKind.GroupNotFound => StatusCodes.Status404NotFound,
        ProblemKind.SouthboundFailed => StatusCodes.Status502BadGateway,
        ProblemKind.StoreUnavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };

    public static IResult MalformedJson(string detail, HttpContext http) =>
        Result("malformed-json", 400, "The request body is not valid JSON for this operation", detail, http);

    public static IResult MissingField(string field, HttpContext http) =>
        Result("missing-field", 400, "A required field is missing", $"'{field}' is required.", http);

    public static IResult MalformedAddress(string field, string? text, string expected, HttpContext http) =>
        Result("malformed-address", 400, "A field is not a valid address", $"{field}: '{text}' is not {expected}.", http);

    public static IResult Invalid(string detail, HttpContext http) =>
        Result("invalid-request", 400, "The request is malformed", detail, http);

    public static IResult UnsupportedMediaType(HttpContext http) =>
        Result("unsupported-media-type", 415, "The body must be JSON",
            $"Content-Type '{http.Request.ContentType}' is not application/json.", http);

    public static IResult Result(string slug, int status, string title, string detail, HttpContext http) =>
        Results.Json(Body(slug, status, title, detail, http), ApiJsonContext.Default.ProblemBody, ContentType, status);

    public static ProblemBody Body(string slug, int status, string title, string detail, HttpContext http) =>
        new(TypePrefix + slug, title, status, detail, http.Request.Path.Value);

    /// <summary>Writes a problem directly (status-code pages and the exception handler, where no endpoint runs).</summary>
    public static Task WriteAsync(HttpContext http, string slug, int status, string title, string detail)
    {
        http.Response.StatusCode = status;
        return http.Response.WriteAsJsonAsync(Body(slug, status, title, detail, http), ApiJsonContext.Default.ProblemBody, ContentType);
    }
}
