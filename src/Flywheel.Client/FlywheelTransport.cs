using System.Net.Http.Headers;
using System.Text.Json;
using Flywheel.Core;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Flywheel.Client;

/// <summary>An answer the caller reads: 2xx, or 404 where the call maps it to null.</summary>
internal readonly record struct Response(int Status, byte[] Content);

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
internal sealed record Call(HttpMethod Method, string Path, byte[]? Body = null)
{
    /// <summary>A 404 is an answer (mapped to null by the caller), not an error.</summary>
    public bool AllowNotFound { get; init; }

    public Retry Retry { get; init; } = Retry.Transient;

    /// <summary>The attempt may take <see cref="FlywheelClientOptions.LongOperationTimeout"/> rather than <see cref="FlywheelClientOptions.Timeout"/>.</summary>
    public bool LongRunning { get; init; }

    /// <summary>Return once the headers are in; the caller streams the body (the attempt timeout covers the headers only).</summary>
    public bool Streamed { get; init; }

    /// <summary>The media type asked for besides problem+json. <value>Default <c>application/json</c>.</value></summary>
    public MediaTypeWithQualityHeaderValue Accept { get; init; } = FlywheelTransport.AcceptJson;
}

/// <summary>
/// Sends the client's calls through one Polly pipeline (Microsoft.Extensions.Http.Resilience's retry and timeout
/// strategies): an outer retry whose rules depend on the call, and an inner timeout per attempt. The body is built
/// before the first attempt, so every attempt carries the same ids. Delays and timeouts run on the options'
/// <see cref="TimeProvider"/>.
/// </summary>
internal sealed partial class FlywheelTransport
{
    internal static readonly MediaTypeWithQualityHeaderValue AcceptJson = new("application/json");
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json") { CharSet = "utf-8" };
    private static readonly MediaTypeWithQualityHeaderValue AcceptProblem = new("application/problem+json");
    private static readonly ProductInfoHeaderValue UserAgent = new("Flywheel.Client", typeof(FlywheelClient).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");
    private static readonly ResiliencePropertyKey<Call> CallKey = new("Flywheel.Call");
    private static readonly ResiliencePropertyKey<Uri> UriKey = new("Flywheel.Uri");

    private readonly HttpClient _http;
    private readonly Uri _baseAddress;
    private readonly FlywheelClientOptions _options;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;

    public FlywheelTransport(HttpClient http, Uri baseAddress, FlywheelClientOptions options, ILogger logger)
    {
        _http = http;
        _baseAddress = baseAddress;
        _options = options;
        _logger = logger;
        _pipeline = BuildPipeline();
    }

    private ResiliencePipeline<HttpResponseMessage> BuildPipeline()
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { Name = "Flywheel.Client", TimeProvider = _options.TimeProvider };
        if (_options.MaxRetries > 0)
        {
            builder.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = _options.MaxRetries,
                // The delay generator below reads Retry-After itself, on the client's clock and capped by MaxBackoff.
                ShouldRetryAfterHeader = false,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Context.Properties.GetValue(CallKey, null!), args.Outcome, args.Context.CancellationToken)),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(Backoff(args.AttemptNumber + 1, RetryAfter(args.Outcome.Result))),
                OnRetry = args =>
                {
                    OnRetry(args.Context, args.AttemptNumber + 1, args.RetryDelay, args.Outcome);
                    return default;
                },
            });
        }
        builder.AddTimeout(new HttpTimeoutStrategyOptions
        {
            TimeoutGenerator = args => ValueTask.FromResult(args.Context.Properties.GetValue(CallKey, null!).LongRunning ? _options.LongOperationTimeout : _options.Timeout),
        });
        return builder.Build();
    }

    /// <summary>Sends <paramref name="call"/> and reads its whole answer.</summary>
    public async Task<Response> SendAsync(Call call, CancellationToken cancellationToken)
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
    public async Task<HttpResponseMessage> SendCoreAsync(Call call, CancellationToken cancellationToken)
    {
        var uri = new Uri(_baseAddress, call.Path);
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        HttpResponseMessage response;
        try
        {
            context.Properties.Set(CallKey, call);
            context.Properties.Set(UriKey, uri);
            var outcome = await _pipeline.ExecuteOutcomeAsync(static (ctx, self) => self.AttemptAsync(ctx), context, this).ConfigureAwait(false);
            if (outcome.Exception is TimeoutRejectedException timeout)
            {
                throw new TimeoutException($"The Flywheel server did not answer {call.Method} {uri} in time.", timeout);
            }
            outcome.ThrowIfException();
            response = outcome.Result!;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        var code = (int)response.StatusCode;
        if (IsAnswer(call, code))
        {
            return response;
        }
        using (response)
        {
            // The last attempt's refusal, after any retries: throw what the engine would have thrown in process.
            var content = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            var problem = ReadProblem(content);
            if (code is 429 or 503)
            {
                throw new FlywheelOverloadedException(RetryAfter(response) ?? TimeSpan.FromSeconds(1));
            }
            throw IsTransient(code) ? new FlywheelApiException(code, problem) : CreateException(code, problem);
        }
    }

    /// <summary>One attempt: a fresh request with the same body. Refusals come back as responses for the retry to judge.</summary>
    private async ValueTask<Outcome<HttpResponseMessage>> AttemptAsync(ResilienceContext context)
    {
        var call = context.Properties.GetValue(CallKey, null!);
        var uri = context.Properties.GetValue(UriKey, null!);
        var attemptToken = context.CancellationToken;
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
            var response = await _http.SendAsync(request, completion, attemptToken).ConfigureAwait(false);
            return Outcome.FromResult(response);
        }
        catch (OperationCanceledException ex) when (!attemptToken.IsCancellationRequested)
        {
            // HttpClient.Timeout, not ours and not the caller's: a transient failure like our own attempt timeout.
            return Outcome.FromException<HttpResponseMessage>(new TimeoutException($"The Flywheel server did not answer {call.Method} {uri} in time.", ex));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return Outcome.FromException<HttpResponseMessage>(ex);
        }
    }

    /// <summary>Whether a failed attempt is retried: never the caller's cancellation, and for non-idempotent calls only what proves the server did not act.</summary>
    private static bool ShouldRetry(Call call, Outcome<HttpResponseMessage> outcome, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        if (outcome.Result is { } response)
        {
            var code = (int)response.StatusCode;
            return !IsAnswer(call, code) && IsTransient(code) && (call.Retry == Retry.Transient || code is 429 or 503);
        }
        return outcome.Exception switch
        {
            HttpRequestException ex => call.Retry == Retry.Transient || !MayHaveReachedServer(ex),
            // The server may have received the request and still be working on it.
            TimeoutRejectedException or TimeoutException => call.Retry == Retry.Transient,
            _ => false,
        };
    }

    private void OnRetry(ResilienceContext context, int attempt, TimeSpan delay, Outcome<HttpResponseMessage> outcome)
    {
        var call = context.Properties.GetValue(CallKey, null!);
        var uri = context.Properties.GetValue(UriKey, null!);
        int? status = outcome.Result is { } response ? (int)response.StatusCode : null;
        var exception = outcome.Exception switch
        {
            null => null,
            TimeoutRejectedException ex => new TimeoutException($"The Flywheel server did not answer {call.Method} {uri} in time.", ex),
            var ex => ex,
        };
        LogRetry(_logger, call.Method.Method, uri, attempt, status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? exception!.GetType().Name, delay.TotalMilliseconds);
        _options.OnRetry?.Invoke(new FlywheelRetryInfo(call.Method, uri, attempt, delay, status, exception));
    }

    private static bool IsAnswer(Call call, int code) => code is >= 200 and < 300 || (code == 404 && call.AllowNotFound);

    /// <summary>False only when the request certainly never reached the server: no name resolution, connection or TLS session.</summary>
    private static bool MayHaveReachedServer(HttpRequestException exception) => exception.HttpRequestError is not
        (HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError or HttpRequestError.SecureConnectionError);

    private static bool IsTransient(int status) => status is 408 or 429 or 500 or 502 or 503 or 504;

    /// <summary>The delay after failed attempt <paramref name="attempt"/> (from 1): Retry-After, else doubling backoff with jitter.</summary>
    internal TimeSpan Backoff(int attempt, TimeSpan? retryAfter)
    {
        if (retryAfter is { } wait)
        {
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait > _options.MaxBackoff ? _options.MaxBackoff : wait;
        }
        var random = _options.Randomizer?.Invoke() ?? Random.Shared.NextDouble();
        var ticks = _options.InitialBackoff.Ticks * Math.Pow(2, Math.Min(attempt - 1, 30)) * (0.5 + Math.Clamp(random, 0, 1));
        return ticks >= _options.MaxBackoff.Ticks ? _options.MaxBackoff : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>The wait a refusal asks for, in either form of <c>Retry-After</c> (seconds, or a date on the client's clock).</summary>
    private TimeSpan? RetryAfter(HttpResponseMessage? response) => response?.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - _options.TimeProvider.GetUtcNow(),
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
