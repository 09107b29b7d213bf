using System.Buffers;
using System.Text.Json;
using Flywheel.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Flywheel.Server;

/// <summary>The <c>/v1</c> endpoints of DESIGN §5. Each one parses strictly, calls the engine and writes JSON.</summary>
public static partial class FlywheelEndpoints
{
    /// <summary>
    /// Maps the loop, decide, signal and audit endpoints, the model registry, shadow mode, the turn ledger, evaluation
    /// and export, plus <c>/healthz</c>.
    /// </summary>
    public static IEndpointRouteBuilder MapFlywheelApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var v1 = endpoints.MapGroup("/v1").WithTags("Flywheel");

        v1.MapPut("/loops/{loop}", PutLoopAsync)
            .WithName("PutLoop").WithSummary("Create or update a loop (DESIGN §4 config).")
            .Accepts<JsonElement>("application/json", "*/*").Produces<JsonElement>(200).ProducesProblem(422);
        v1.MapGet("/loops", ListLoopsAsync)
            .WithName("ListLoops").WithSummary("List every loop's config.").Produces<JsonElement>(200);
        v1.MapGet("/loops/{loop}", GetLoopAsync)
            .WithName("GetLoop").WithSummary("Read one loop's config.").Produces<JsonElement>(200).ProducesProblem(404);
        v1.MapPost("/loops/{loop}/decide", DecideAsync)
            .WithName("Decide").WithSummary("Score the actions, explore, log the decision durably and return the ranking with probabilities.")
            .Accepts<JsonElement>("application/json", "*/*").Produces<JsonElement>(200).ProducesProblem(422).ProducesProblem(413).ProducesProblem(404);
        v1.MapPost("/loops/{loop}/signals", SignalsAsync)
            .WithName("RecordSignals").WithSummary("Record a batch of signals durably; idempotent on signalId.")
            .Accepts<JsonElement>("application/json", "*/*").Produces<JsonElement>(202).ProducesProblem(422).ProducesProblem(413).ProducesProblem(404);
        v1.MapGet("/loops/{loop}/decisions/{decisionId}", GetDecisionAsync)
            .WithName("GetDecision").WithSummary("One decision with its signals and reward (audit).").Produces<JsonElement>(200).ProducesProblem(404);
        v1.MapRegistryAndTurns();

        endpoints.MapGet("/healthz", () => Results.Json(new { status = "ok" })).WithName("Healthz").WithSummary("Liveness.");
        return endpoints;
    }

    private static async Task PutLoopAsync(HttpContext http, string loop, IFlywheelEngine engine, IOptions<FlywheelServerOptions> options)
    {
        using var doc = await ReadJsonAsync(http, options.Value);
        var config = LoopConfigJson.Parse(doc.RootElement, expectedId: loop);
        var stored = await engine.PutLoopAsync(config, http.RequestAborted);
        await WriteJsonAsync(http, 200, w => LoopConfigJson.Write(w, stored));
    }

    private static async Task ListLoopsAsync(HttpContext http, IFlywheelEngine engine)
    {
        var loops = await engine.ListLoopsAsync(http.RequestAborted);
        await WriteJsonAsync(http, 200, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("loops");
            foreach (var l in loops)
            {
                LoopConfigJson.Write(w, l);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private static async Task GetLoopAsync(HttpContext http, string loop, IFlywheelEngine engine)
    {
        var config = await engine.GetLoopAsync(loop, http.RequestAborted)
            ?? throw new FlywheelValidationException("loop", $"loop '{loop}' does not exist") { Kind = ValidationKind.NotFound };
        await WriteJsonAsync(http, 200, w => LoopConfigJson.Write(w, config));
    }

    private static async Task DecideAsync(HttpContext http, string loop, IFlywheelEngine engine, IOptions<FlywheelServerOptions> options)
    {
        await EnsureLoopAsync(engine, loop, http.RequestAborted);
        using var doc = await ReadJsonAsync(http, options.Value);
        var request = FlywheelJson.ReadDecideRequest(doc.RootElement, options.Value.Limits);
        var decision = await engine.DecideAsync(loop, request, http.RequestAborted);
        await WriteJsonAsync(http, 200, w => FlywheelJson.WriteDecision(w, decision));
    }

    private static async Task SignalsAsync(HttpContext http, string loop, IFlywheelEngine engine, IOptions<FlywheelServerOptions> options)
    {
        await EnsureLoopAsync(engine, loop, http.RequestAborted);
        using var doc = await ReadJsonAsync(http, options.Value);
        var signals = FlywheelJson.ReadSignalBatch(doc.RootElement, options.Value.Limits);
        var result = await engine.RecordSignalsAsync(loop, signals, http.RequestAborted);
        await WriteJsonAsync(http, 202, w => FlywheelJson.WriteSignalBatchResult(w, result));
    }

    private static async Task GetDecisionAsync(HttpContext http, string loop, string decisionId, IFlywheelEngine engine)
    {
        var audit = await engine.GetDecisionAsync(loop, decisionId, http.RequestAborted)
            ?? throw new FlywheelValidationException("decisionId", $"decision '{decisionId}' does not exist in loop '{loop}'") { Kind = ValidationKind.NotFound };
        await WriteJsonAsync(http, 200, w => FlywheelJson.WriteDecisionAudit(w, audit));
    }

    // An unknown loop is a 404 even when the body is also wrong: the URL is the first thing a caller gets wrong.
    private static async Task EnsureLoopAsync(IFlywheelEngine engine, string loop, CancellationToken cancellationToken)
    {
        if (await engine.GetLoopAsync(loop, cancellationToken) is null)
        {
            throw new FlywheelValidationException("loop", $"loop '{loop}' does not exist") { Kind = ValidationKind.NotFound };
        }
    }

    /// <summary>Reads the body as JSON, enforcing the content type and the size limit without trusting Content-Length.</summary>
    private static async Task<JsonDocument> ReadJsonAsync(HttpContext http, FlywheelServerOptions options)
    {
        CheckJsonContentType(http.Request);
        var body = await ReadBodyAsync(http, options);
        if (body.WrittenCount == 0)
        {
            throw new HttpProblemException(400, "Bad request", "the body is empty; it must be a JSON object");
        }
        return ParseJson(body);
    }

    /// <summary>Like <see cref="ReadJsonAsync"/>, but a request without a body (or with an empty one) gives null.</summary>
    private static async Task<JsonDocument?> ReadOptionalJsonAsync(HttpContext http, FlywheelServerOptions options)
    {
        if (http.Request.ContentLength == 0 || http.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
        {
            return null;
        }
        var body = await ReadBodyAsync(http, options);
        if (body.WrittenCount == 0)
        {
            return null;
        }
        CheckJsonContentType(http.Request);
        return ParseJson(body);
    }

    private static void CheckJsonContentType(HttpRequest request)
    {
        var contentType = request.ContentType;
        if (contentType is null || !(contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
            || contentType.Contains("+json", StringComparison.OrdinalIgnoreCase)))
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

    private static JsonDocument ParseJson(ArrayBufferWriter<byte> body)
    {
        try
        {
            return JsonDocument.Parse(body.WrittenMemory, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException ex)
        {
            throw new HttpProblemException(400, "Malformed JSON", $"the body is not valid JSON: {ex.Message}");
        }
    }

    private static async Task WriteJsonAsync(HttpContext http, int status, Action<Utf8JsonWriter> write)
    {
        var response = http.Response;
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(response.BodyWriter, JsonOptions.Writer);
        write(writer);
        await writer.FlushAsync(http.RequestAborted);
    }
}
