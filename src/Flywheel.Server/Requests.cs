using System.Buffers;
using System.Globalization;
using Flywheel.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Flywheel.Server;

/// <summary>What every endpoint does with a request before it calls the engine: the loop, the body, the query.</summary>
internal static class Requests
{
    // Bodies are declared with "*/*" besides application/json so that a wrong content type reaches the handler and gets
    // a problem+json 415 naming Content-Type, rather than the router's bare 415.

    /// <summary>Longest <c>reason</c> a promotion, rollback or retirement may carry, in characters.</summary>
    public const int MaxReasonLength = 1_000;

    // An unknown loop is a 404 even when the body is also wrong: the URL is the first thing a caller gets wrong.
    public static async Task EnsureLoopAsync(IFlywheelEngine engine, string loop, CancellationToken cancellationToken)
    {
        if (await engine.GetLoopAsync(loop, cancellationToken) is null)
        {
            throw new FlywheelValidationException("loop", $"loop '{loop}' does not exist") { Kind = ValidationKind.NotFound };
        }
    }

    /// <summary>Reads the body as a <typeparamref name="T"/>, enforcing the content type and the size limit without trusting Content-Length.</summary>
    public static async Task<T> ReadJsonAsync<T>(HttpContext http, FlywheelServerOptions options)
        => FlywheelJson.Read<T>((await ReadJsonBytesAsync(http, options)).WrittenSpan);

    /// <summary>The body's bytes, checked as <see cref="ReadJsonAsync{T}"/> checks them but not yet read as JSON.</summary>
    public static async Task<ArrayBufferWriter<byte>> ReadJsonBytesAsync(HttpContext http, FlywheelServerOptions options)
    {
        CheckJsonContentType(http.Request);
        var body = await ReadBodyAsync(http, options);
        if (body.WrittenCount == 0)
        {
            throw new HttpProblemException(400, "Bad request", "the body is empty; it must be a JSON object");
        }
        return body;
    }

    /// <summary>
    /// Reads the body of promote, rollback and retire: <c>{}</c> or <c>{ "reason": "…" }</c>; a blank reason is none.
    /// The body is required even without a reason: a JSON body is what a cross-site form cannot send (docs/security.md).
    /// </summary>
    public static async Task<string?> ReadReasonAsync(HttpContext http, FlywheelServerOptions options)
    {
        var reason = (await ReadJsonAsync<ReasonRequest>(http, options)).Reason;
        if (reason?.Length > MaxReasonLength)
        {
            throw new FlywheelValidationException("reason", $"is {reason.Length} characters long; the limit is {MaxReasonLength}") { Kind = ValidationKind.TooLarge };
        }
        return string.IsNullOrWhiteSpace(reason) ? null : reason;
    }

    /// <summary>
    /// Reads the body of run-turn and shadow: an empty JSON object, <c>{}</c>, sent as application/json. Required
    /// although it says nothing: a cross-site form can post an empty or form body, never an application/json one.
    /// </summary>
    public static Task ReadNoFieldsAsync(HttpContext http, FlywheelServerOptions options) => ReadJsonAsync<EmptyRequest>(http, options);

    /// <summary>Refuses query parameters the endpoint does not know, and repeated ones, naming them.</summary>
    public static void CheckQuery(IQueryCollection query, string endpoint, string[] known)
    {
        foreach (var (name, values) in query)
        {
            if (!known.Contains(name, StringComparer.Ordinal))
            {
                throw new FlywheelValidationException(name, $"is not a query parameter of {endpoint}; use {string.Join(", ", known)}");
            }
            if (values.Count > 1)
            {
                throw new FlywheelValidationException(name, "is given more than once");
            }
        }
    }

    /// <summary>Reads the <c>{version}</c> of a model path: a positive integer.</summary>
    public static int ParseVersion(string version)
        => int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= 1
            ? number
            : throw new FlywheelValidationException("version", $"'{version}' is not a model version; use a positive integer such as 3");

    /// <summary>Declares the problem+json answers (<see cref="FlywheelProblem"/>) an endpoint may give.</summary>
    public static RouteHandlerBuilder ProducesProblems(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses)
        {
            builder.Produces<FlywheelProblem>(status, ProblemDetailsWriter.ContentType);
        }
        return builder;
    }

    /// <summary>
    /// Accepts <c>application/json</c> or <c>application/…+json</c>, parsed as a media type (parameters apart), with no
    /// charset or UTF-8. Browsers send text/plain, form and multipart bodies across sites without asking; a JSON type
    /// needs a CORS preflight, which this server answers only for configured origins.
    /// </summary>
    internal static bool IsJsonContentType(string? contentType)
    {
        if (contentType is null || !MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            return false;
        }
        var subType = media.SubType;
        var json = media.Type.Equals("application", StringComparison.OrdinalIgnoreCase)
            && (subType.Equals("json", StringComparison.OrdinalIgnoreCase)
                || (subType.Length > "+json".Length && subType.EndsWith("+json", StringComparison.OrdinalIgnoreCase)));
        var charset = media.Charset;
        return json && (!charset.HasValue || charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase));
    }

    private static void CheckJsonContentType(HttpRequest request)
    {
        var contentType = request.ContentType;
        if (!IsJsonContentType(contentType))
        {
            throw new HttpProblemException(415, "Unsupported media type", $"the body must be JSON with Content-Type application/json; got '{contentType ?? "(none)"}'", "Content-Type");
        }
    }

    private static async Task<ArrayBufferWriter<byte>> ReadBodyAsync(HttpContext http, FlywheelServerOptions options)
    {
        var request = http.Request;
        var limit = options.MaxRequestBodyBytes;
        if (request.ContentLength > limit)
        {
            throw new HttpProblemException(413, "Too large", $"the body is {request.ContentLength} bytes; the limit is {limit}");
        }
        var buffer = new ArrayBufferWriter<byte>((int)Math.Min(request.ContentLength ?? 4096, limit) + 1);
        var reader = request.BodyReader;
        while (true)
        {
            var read = await reader.ReadAsync(http.RequestAborted);
            foreach (var segment in read.Buffer)
            {
                if (buffer.WrittenCount + segment.Length > limit)
                {
                    throw new HttpProblemException(413, "Too large", $"the body exceeds the limit of {limit} bytes");
                }
                buffer.Write(segment.Span);
            }
            reader.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                break;
            }
        }
        return buffer;
    }
}
