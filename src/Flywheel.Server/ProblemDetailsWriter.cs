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
    /// <summary>A URI naming the kind of problem: <c>https://flywheel.dev/problems/{status}</c>.</summary>
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

    public static async Task WriteAsync(HttpContext context, int status, string title, string detail, string? field)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = ContentType;
        var problem = new FlywheelProblem
        {
            Type = $"https://flywheel.dev/problems/{status}",
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
