using System.Text.Json;
using Flywheel.Core;
using Microsoft.AspNetCore.Http;

namespace Flywheel.Server;

/// <summary>An HTTP error raised by the server itself (wrong content type, oversized body, empty body).</summary>
internal sealed class HttpProblemException(int status, string title, string detail, string? field = null) : Exception(detail)
{
    public int Status { get; } = status;

    public string Title { get; } = title;

    public string? Field { get; } = field;
}

/// <summary>An RFC 9457 problem, as every refusal of the API is answered (<c>application/problem+json</c>).</summary>
public sealed record FlywheelProblem
{
    /// <summary>
    /// A URI naming the kind of problem: <c>https://flywheel.dev/problems/{status}</c>, or for a store that cannot write
    /// (503) <c>…/store-full</c>, <c>…/store-read-only</c> or <c>…/store-io-error</c>.
    /// </summary>
    public required string Type { get; init; }

    /// <summary>A short summary of the kind, such as <c>Invalid request</c>.</summary>
    public required string Title { get; init; }

    /// <summary>The HTTP status code.</summary>
    public required int Status { get; init; }

    /// <summary>What is wrong, naming the field and the value or limit.</summary>
    public required string Detail { get; init; }

    /// <summary>
    /// The offending field as a JSON path such as <c>actions[3].id</c> (empty for the whole body), or a header or query
    /// parameter; absent when no one field is at fault.
    /// </summary>
    public string? Field { get; init; }

    /// <summary>The request path.</summary>
    public required string Instance { get; init; }
}

/// <summary>Writes RFC 9457 problem+json answers that name the offending field.</summary>
internal static class ProblemDetailsWriter
{
    public const string ContentType = "application/problem+json";

    /// <summary>The problem types of a store that cannot write (docs/operations.md); every other problem's type is its status.</summary>
    public const string StoreFullType = "https://flywheel.dev/problems/store-full";

    /// <inheritdoc cref="StoreFullType"/>
    public const string StoreReadOnlyType = "https://flywheel.dev/problems/store-read-only";

    /// <inheritdoc cref="StoreFullType"/>
    public const string StoreIoErrorType = "https://flywheel.dev/problems/store-io-error";

    /// <summary>
    /// The type, title and detail of a store that cannot write: for a refused write (<paramref name="readiness"/> false)
    /// or for <c>GET /readyz</c>. Clients see why and what it means for them; the server's log holds the paths and
    /// the system error, which are the operator's business.
    /// </summary>
    public static (string Type, string Title, string Detail) StoreFault(FlywheelStoreWriteException fault, bool readiness)
    {
        var (type, title, why) = fault.Reason switch
        {
            StoreWriteFailure.DiskFull => (StoreFullType, "Store full", "the server's disk is full"),
            StoreWriteFailure.ReadOnly => (StoreReadOnlyType, "Store read-only", "the server's data directory is read-only"),
            _ => (StoreIoErrorType, "Store I/O error", "the server's disk failed a write"),
        };
        var detail = readiness
            ? $"not ready: {why}, so calls that write (decide, signals, loop changes) answer 503 until an operator fixes it; reads still work"
            : $"{why}: nothing of this request was stored, and what was acknowledged before is safe; retry after {RetryAfterSeconds(fault)} s";
        return (type, title, detail);
    }

    /// <summary>Answers 503 with <c>Retry-After</c> and the store's problem, unless the answer has already started.</summary>
    public static async Task WriteStoreFaultAsync(HttpContext context, FlywheelStoreWriteException fault, bool readiness = false)
    {
        if (context.Response.HasStarted)
        {
            return;
        }
        var (type, title, detail) = StoreFault(fault, readiness);
        context.Response.Headers.RetryAfter = RetryAfterSeconds(fault).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await WriteAsync(context, StatusCodes.Status503ServiceUnavailable, title, detail, null, type);
    }

    private static int RetryAfterSeconds(FlywheelStoreWriteException fault) => Math.Max(1, (int)Math.Ceiling(fault.RetryAfter.TotalSeconds));

    public static (int Status, string Title, string Detail, string? Field) From(Exception exception) => exception switch
    {
        HttpProblemException p => (p.Status, p.Title, p.Message, p.Field),
        FlywheelValidationException v => v.Kind switch
        {
            ValidationKind.NotFound => (404, "Not found", v.Message, v.Field),
            ValidationKind.TooLarge => (413, "Too large", v.Message, v.Field),
            ValidationKind.NotSupported => (422, "Not supported", v.Message, v.Field),
            ValidationKind.Conflict => (409, "Conflict", v.Message, v.Field),
            ValidationKind.Malformed => (400, "Malformed JSON", $"the body {v.Problem}", null),
            _ => (422, "Invalid request", v.Message, v.Field),
        },
        BadHttpRequestException b when b.StatusCode == StatusCodes.Status413PayloadTooLarge
            => (413, "Too large", $"the request body exceeds the server's limit: {b.Message}", null),
        BadHttpRequestException b => (b.StatusCode, "Bad request", b.Message, null),
        _ => (500, "Internal error", "the server failed to handle the request; it has been logged", null),
    };

    public static async Task WriteAsync(HttpContext context, int status, string title, string detail, string? field, string? type = null)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = ContentType;
        var problem = new FlywheelProblem
        {
            Type = type ?? $"https://flywheel.dev/problems/{status}",
            Title = title,
            Status = status,
            Detail = detail,
            Field = field,
            Instance = context.Request.Path,
        };
        await using var writer = new Utf8JsonWriter(response.BodyWriter, JsonOptions.Writer);
        JsonSerializer.Serialize(writer, problem, ServerJsonContext.Default.FlywheelProblem);
        await writer.FlushAsync(context.RequestAborted);
    }
}
