using System.Net.Http.Headers;
using System.Text.Json;
using Flywheel.Core;
using Polly;

namespace Flywheel.Client;

/// <summary>
/// Sends a <see cref="FlywheelClient"/>'s calls: builds each attempt's request from the same body bytes, runs the
/// attempts through the client's resilience pipeline (<see cref="FlywheelResilience"/>), and turns refusals into the
/// exceptions the engine throws in process.
/// </summary>
internal sealed class FlywheelTransport(HttpClient http, Uri baseAddress, FlywheelClientOptions options, FlywheelResilience resilience)
{
    private readonly HttpClient _http = http;
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json") { CharSet = "utf-8" };
    internal static readonly MediaTypeWithQualityHeaderValue AcceptJson = new("application/json");
    private static readonly MediaTypeWithQualityHeaderValue AcceptProblem = new("application/problem+json");
    private static readonly byte[] EmptyObject = "{}"u8.ToArray();
    private readonly AuthenticationHeaderValue? _authorization = options.ApiKey is { } key ? new("Bearer", key) : null;
    private static readonly ProductInfoHeaderValue UserAgent = new("Flywheel.Client", typeof(FlywheelClient).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");

    /// <summary>Sends <paramref name="call"/> and reads its whole answer.</summary>
    public async Task<FlywheelClient.Response> SendAsync(FlywheelClient.Call call, CancellationToken cancellationToken)
    {
        using var response = await SendCoreAsync(call with { Streamed = false }, cancellationToken).ConfigureAwait(false);
        // Buffered by the attempt itself (ResponseContentRead), under its timeout; this only copies it.
        var content = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return new FlywheelClient.Response((int)response.StatusCode, content);
    }

    /// <summary>
    /// Sends <paramref name="call"/> through the client's resilience pipeline, retrying what <see cref="FlywheelClient.Call.Retry"/>
    /// allows, and returns the successful answer (2xx, or 404 when allowed), which the caller disposes. Refusals throw
    /// as the engine would in process.
    /// </summary>
    public async Task<HttpResponseMessage> SendCoreAsync(FlywheelClient.Call call, CancellationToken cancellationToken)
    {
        var uri = new Uri(baseAddress, call.Path);
        var attempt = new FlywheelResilience.Attempt(call.Method, uri, call.Retry, call.LongRunning ? options.LongOperationTimeout : options.Timeout);
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        Outcome<HttpResponseMessage> outcome;
        try
        {
            context.Properties.Set(FlywheelResilience.AttemptKey, attempt);
            outcome = await Resilience.Pipeline.ExecuteOutcomeAsync(AttemptAsync, context, (this, call, uri)).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        if (outcome.Exception is { } exception)
        {
            if (FlywheelResilience.IsAttemptTimeout(exception, cancellationToken))
            {
                throw FlywheelResilience.TimedOut(call.Method, uri, exception);
            }
            outcome.ThrowIfException();
        }
        var response = outcome.Result!;
        var code = (int)response.StatusCode;
        if (code is >= 200 and < 300 || (code == 404 && call.AllowNotFound))
        {
            return response;
        }
        using (response)
        {
            // The pipeline hands back a failure when it may not retry it; a caller who gave up hears that instead.
            cancellationToken.ThrowIfCancellationRequested();
            // Already buffered, under the attempt's timeout (see AttemptAsync).
            var problem = ReadProblem(await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false));
            if (code is 429 or 503)
            {
                throw new FlywheelOverloadedException(Resilience.RetryAfter(response.Headers.RetryAfter) ?? TimeSpan.FromSeconds(1));
            }
            throw FlywheelResilience.IsTransient(code) ? new FlywheelApiException(code, problem) : CreateException(code, problem, call.Method, uri);
        }
    }

    /// <summary>
    /// One attempt, under the pipeline's per-attempt token. A fresh request each time (a sent message cannot be sent
    /// again), carrying the same body bytes.
    /// </summary>
    private static async ValueTask<Outcome<HttpResponseMessage>> AttemptAsync(ResilienceContext context, (FlywheelTransport Transport, FlywheelClient.Call Call, Uri Uri) state)
    {
        var (transport, call, uri) = state;
        HttpResponseMessage? response = null;
        try
        {
            using var request = new HttpRequestMessage(call.Method, uri);
            request.Headers.Accept.Add(call.Accept);
            request.Headers.Accept.Add(AcceptProblem);
            request.Headers.UserAgent.Add(UserAgent);
            request.Headers.Authorization = transport._authorization;
            // The server takes a POST only with a JSON body, so that a cross-site form cannot make one: a POST that
            // says nothing (run a turn, promote without a reason) sends {}.
            var body = call.Body ?? (call.Method == HttpMethod.Post ? EmptyObject : null);
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = JsonContentType;
            }
            var completion = call.Streamed ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead;
            response = await transport._http.SendAsync(request, completion, context.CancellationToken).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            if (call.Streamed && !(code is >= 200 and < 300 || (code == 404 && call.AllowNotFound)))
            {
                // A refusal's problem document is small: read it under the attempt's timeout, as the headers were.
                await response.Content.LoadIntoBufferAsync(context.CancellationToken).ConfigureAwait(false);
            }
            return Outcome.FromResult(response);
        }
        catch (Exception ex)
        {
            response?.Dispose();
            return Outcome.FromException<HttpResponseMessage>(ex);
        }
    }

    /// <summary>Maps a refusal to the exception the engine would throw in process, so callers handle both alike.</summary>
    /// <summary>The client's resilience pipeline and its delay rules.</summary>
    public FlywheelResilience Resilience { get; } = resilience;

    private static Exception CreateException(int status, FlywheelProblemDetails? problem, HttpMethod method, Uri uri)
    {
        ValidationKind? kind = status switch
        {
            400 => ValidationKind.Invalid,
            404 => ValidationKind.NotFound,
            409 => ValidationKind.Conflict,
            413 => ValidationKind.TooLarge,
            422 => string.Equals(problem?.Title, "Not supported", StringComparison.OrdinalIgnoreCase) ? ValidationKind.NotSupported : ValidationKind.Invalid,
            _ => null,
        };
        if (kind is null)
        {
            return new FlywheelApiException(status, problem);
        }
        var field = problem?.Field ?? "";
        // No problem document: the answer did not come from a Flywheel API (a wrong --server path or port, a proxy).
        var detail = problem?.Detail ?? problem?.Title ?? $"{method} {uri} was refused with status {status} and no problem document; is that a Flywheel server's address?";
        // The server's detail is the engine's message, "field: problem"; keep only the problem, as the engine does.
        if (field.Length > 0 && detail.StartsWith(field + ": ", StringComparison.Ordinal))
        {
            detail = detail[(field.Length + 2)..];
        }
        return new FlywheelApiValidationException(status, field, detail, kind.Value, problem);
    }

    /// <summary>Reads an RFC 9457 problem document leniently; null when the body is not one.</summary>
    internal static FlywheelProblemDetails? ReadProblem(byte[] content)
    {
        if (content.Length == 0)
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(content);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            return new FlywheelProblemDetails(
                Text(root, "type"),
                Text(root, "title"),
                root.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.Number && s.TryGetInt32(out var n) ? n : null,
                Text(root, "detail"),
                Text(root, "field"));
        }
        catch (JsonException)
        {
            return null;
        }

        static string? Text(JsonElement e, string name) => e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
    }
}
