using System.Text.Json;
using Flywheel.Core;
using Microsoft.AspNetCore.Http;

namespace Flywheel.Server;

/// <summary>An HTTP error raised by the server itself (wrong content type, oversized body, broken JSON).</summary>
internal sealed class HttpProblemException(int status, string title, string detail, string? field = null) : Exception(detail)
{
    public int Status { get; } = status;

    public string Title { get; } = title;

    public string? Field { get; } = field;
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
        await using var writer = new Utf8JsonWriter(response.BodyWriter, JsonOptions.Writer);
        writer.WriteStartObject();
        writer.WriteString("type", $"https://flywheel.dev/problems/{status}");
        writer.WriteString("title", title);
        writer.WriteNumber("status", status);
        writer.WriteString("detail", detail);
        if (field is not null)
        {
            writer.WriteString("field", field);
        }
        writer.WriteString("instance", context.Request.Path);
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }
}
