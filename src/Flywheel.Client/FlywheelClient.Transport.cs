using System.Net.Http.Headers;
using System.Text.Json;
using Flywheel.Core;
using Polly;

namespace Flywheel.Client;

public sealed partial class FlywheelClient
{
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json") { CharSet = "utf-8" };
    private static readonly MediaTypeWithQualityHeaderValue AcceptJson = new("application/json");
    private static readonly MediaTypeWithQualityHeaderValue AcceptProblem = new("application/problem+json");
    private static readonly ProductInfoHeaderValue UserAgent = new("Flywheel.Client", typeof(FlywheelClient).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");

    /// <summary>An answer the caller reads: 2xx, or 404 where the call maps it to null.</summary>
    private readonly record struct Response(int Status, byte[] Content);

    /// <summary>Which failures a call may retry.</summary>
    internal enum Retry
    {
        /// <summary>
        /// Every transient failure (network errors, timeouts, 408, 429, 500, 502, 503, 504): the call is a read, or a
        /// write whose ids are chosen before the first attempt, so repeating it changes nothing.
        /// </summary>
        Transient,

        /// <summary>
        /// Only failures that prove the server did not act: the connection could not be made, or the server answered
        /// 429 or 503 (it refuses work it will not do). For calls that are not idempotent, such as running a turn: after
        /// a timeout or a 5xx the first attempt may have done its work, or may still be doing it.
        /// </summary>
        NotDelivered,
    }

    /// <summary>One call: what to send, how to read the answer and what to retry.</summary>
    private sealed record Call(HttpMethod Method, string Path, byte[]? Body = null)
    {
        /// <summary>A 404 is an answer (mapped to null by the caller), not an error.</summary>
        public bool AllowNotFound { get; init; }

        public Retry Retry { get; init; } = Retry.Transient;

        /// <summary>The attempt may take <see cref="FlywheelClientOptions.LongOperationTimeout"/> rather than <see cref="FlywheelClientOptions.Timeout"/>.</summary>
        public bool LongRunning { get; init; }

        /// <summary>Return once the headers are in; the caller streams the body (the attempt timeout covers the headers only).</summary>
        public bool Streamed { get; init; }

        /// <summary>The media type asked for besides problem+json. <value>Default <c>application/json</c>.</value></summary>
        public MediaTypeWithQualityHeaderValue Accept { get; init; } = AcceptJson;
    }

    /// <summary>
    /// Sends one request, retrying transient failures. The body is built once, before the first attempt, so every
    /// attempt carries the same ids.
    /// </summary>
    private Task<Response> SendAsync(HttpMethod method, string path, byte[]? body, bool allowNotFound, CancellationToken cancellationToken)
        => SendAsync(new Call(method, path, body) { AllowNotFound = allowNotFound }, cancellationToken);

    /// <summary>Sends <paramref name="call"/> and reads its whole answer.</summary>
    private async Task<Response> SendAsync(Call call, CancellationToken cancellationToken)
    {
        using var response = await SendCoreAsync(call with { Streamed = false }, cancellationToken).ConfigureAwait(false);
        // Buffered by the attempt itself (ResponseContentRead), under its timeout; this only copies it.
        var content = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return new Response((int)response.StatusCode, content);
    }

    /// <summary>
    /// Sends <paramref name="call"/> through the client's resilience pipeline, retrying what <see cref="Call.Retry"/>
    /// allows, and returns the successful answer (2xx, or 404 when allowed), which the caller disposes. Refusals throw
    /// as the engine would in process.
    /// </summary>
    private async Task<HttpResponseMessage> SendCoreAsync(Call call, CancellationToken cancellationToken)
    {
        var uri = new Uri(_baseAddress, call.Path);
        var options = Options;
        var attempt = new FlywheelResilience.Attempt(call.Method, uri, call.Retry, call.LongRunning ? options.LongOperationTimeout : options.Timeout);
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        Outcome<HttpResponseMessage> outcome;
        try
        {
            context.Properties.Set(FlywheelResilience.AttemptKey, attempt);
            outcome = await _resilience.Pipeline.ExecuteOutcomeAsync(AttemptAsync, context, (this, call, uri)).ConfigureAwait(false);
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
                throw new FlywheelOverloadedException(_resilience.RetryAfter(response.Headers.RetryAfter) ?? TimeSpan.FromSeconds(1));
            }
            throw FlywheelResilience.IsTransient(code) ? new FlywheelApiException(code, problem) : CreateException(code, problem);
        }
    }

    /// <summary>
    /// One attempt, under the pipeline's per-attempt token. A fresh request each time (a sent message cannot be sent
    /// again), carrying the same body bytes.
    /// </summary>
    private static async ValueTask<Outcome<HttpResponseMessage>> AttemptAsync(ResilienceContext context, (FlywheelClient Client, Call Call, Uri Uri) state)
    {
        var (client, call, uri) = state;
        HttpResponseMessage? response = null;
        try
        {
            using var request = new HttpRequestMessage(call.Method, uri);
            request.Headers.Accept.Add(call.Accept);
            request.Headers.Accept.Add(AcceptProblem);
            request.Headers.UserAgent.Add(UserAgent);
            if (call.Body is not null)
            {
                request.Content = new ByteArrayContent(call.Body);
                request.Content.Headers.ContentType = JsonContentType;
            }
            var completion = call.Streamed ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead;
            response = await client._http.SendAsync(request, completion, context.CancellationToken).ConfigureAwait(false);
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

    /// <summary>The delay after failed attempt <paramref name="attempt"/> (from 1): Retry-After, else doubling backoff with jitter.</summary>
    internal TimeSpan Backoff(int attempt, TimeSpan? retryAfter) => _resilience.Backoff(attempt, retryAfter);

    /// <summary>Maps a refusal to the exception the engine would throw in process, so callers handle both alike.</summary>
    private static Exception CreateException(int status, FlywheelProblemDetails? problem)
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
        var detail = problem?.Detail ?? problem?.Title ?? $"was refused with status {status}";
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
