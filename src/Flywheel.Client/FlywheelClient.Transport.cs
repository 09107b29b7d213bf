using System.Net.Http.Headers;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using Flywheel.Core;
using Microsoft.Extensions.Logging;

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
    private enum Retry
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
    /// Sends <paramref name="call"/>, retrying what <see cref="Call.Retry"/> allows, and returns the successful answer
    /// (2xx, or 404 when allowed), which the caller disposes. Refusals throw as the engine would in process.
    /// </summary>
    private async Task<HttpResponseMessage> SendCoreAsync(Call call, CancellationToken cancellationToken)
    {
        var method = call.Method;
        var uri = new Uri(_baseAddress, call.Path);
        var options = Options;
        var attemptTimeout = call.LongRunning ? options.LongOperationTimeout : options.Timeout;
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ExceptionDispatchInfo failure;
            int? status = null;
            TimeSpan? retryAfter = null;
            bool retryable;
            using (var timeout = attemptTimeout == Timeout.InfiniteTimeSpan ? new CancellationTokenSource() : new CancellationTokenSource(attemptTimeout, options.TimeProvider))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token))
            {
                HttpResponseMessage? response = null;
                try
                {
                    using var request = new HttpRequestMessage(method, uri);
                    request.Headers.Accept.Add(call.Accept);
                    request.Headers.Accept.Add(AcceptProblem);
                    request.Headers.UserAgent.Add(UserAgent);
                    if (call.Body is not null)
                    {
                        request.Content = new ByteArrayContent(call.Body);
                        request.Content.Headers.ContentType = JsonContentType;
                    }
                    var completion = call.Streamed ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead;
                    response = await _http.SendAsync(request, completion, linked.Token).ConfigureAwait(false);
                    var code = (int)response.StatusCode;
                    if (code is >= 200 and < 300 || (code == 404 && call.AllowNotFound))
                    {
                        var answer = response;
                        response = null;
                        return answer;
                    }
                    var content = await response.Content.ReadAsByteArrayAsync(linked.Token).ConfigureAwait(false);
                    var problem = ReadProblem(content);
                    retryAfter = RetryAfter(response.Headers.RetryAfter);
                    if (!IsTransient(code))
                    {
                        throw CreateException(code, problem);
                    }
                    status = code;
                    retryable = call.Retry == Retry.Transient || code is 429 or 503;
                    failure = ExceptionDispatchInfo.Capture(code is 429 or 503
                        ? new FlywheelOverloadedException(retryAfter ?? TimeSpan.FromSeconds(1))
                        : new FlywheelApiException(code, problem));
                }
                catch (HttpRequestException ex)
                {
                    retryable = call.Retry == Retry.Transient || !MayHaveReachedServer(ex);
                    failure = ExceptionDispatchInfo.Capture(ex);
                }
                catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    // Our attempt timeout or HttpClient.Timeout, not the caller: a transient failure, but the server
                    // may have received the request and still be working on it.
                    retryable = call.Retry == Retry.Transient;
                    failure = ExceptionDispatchInfo.Capture(new TimeoutException($"The Flywheel server did not answer {method} {uri} in time.", ex));
                }
                finally
                {
                    response?.Dispose();
                }
            }

            if (!retryable || attempt > options.MaxRetries)
            {
                failure.Throw();
            }
            var delay = Backoff(attempt, retryAfter);
            var exception = status is null ? failure.SourceException : null;
            LogRetry(_logger, method.Method, uri, attempt, status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? exception!.GetType().Name, delay.TotalMilliseconds);
            options.OnRetry?.Invoke(new FlywheelRetryInfo(method, uri, attempt, delay, status, exception));
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>False only when the request certainly never reached the server: no name resolution, connection or TLS session.</summary>
    private static bool MayHaveReachedServer(HttpRequestException exception) => exception.HttpRequestError is not
        (HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError or HttpRequestError.SecureConnectionError);

    private static bool IsTransient(int status) => status is 408 or 429 or 500 or 502 or 503 or 504;

    /// <summary>The delay after failed attempt <paramref name="attempt"/> (from 1): Retry-After, else doubling backoff with jitter.</summary>
    internal TimeSpan Backoff(int attempt, TimeSpan? retryAfter)
    {
        var options = Options;
        if (retryAfter is { } wait)
        {
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait > options.MaxBackoff ? options.MaxBackoff : wait;
        }
        var random = options.Randomizer?.Invoke() ?? Random.Shared.NextDouble();
        var ticks = options.InitialBackoff.Ticks * Math.Pow(2, Math.Min(attempt - 1, 30)) * (0.5 + Math.Clamp(random, 0, 1));
        return ticks >= options.MaxBackoff.Ticks ? options.MaxBackoff : TimeSpan.FromTicks((long)ticks);
    }

    private TimeSpan? RetryAfter(RetryConditionHeaderValue? header) => header switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - Options.TimeProvider.GetUtcNow(),
        _ => null,
    };

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

    [LoggerMessage(Level = LogLevel.Debug, Message = "Retrying {Method} {Uri} after attempt {Attempt} failed ({Reason}); waiting {DelayMs} ms")]
    private static partial void LogRetry(ILogger logger, string method, Uri uri, int attempt, string reason, double delayMs);
}
