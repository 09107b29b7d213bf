using System.Globalization;
using System.Net.Http.Headers;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Flywheel.Client;

/// <summary>
/// The client's resilience pipeline, built once per <see cref="FlywheelClient"/> from its <see cref="FlywheelClientOptions"/>:
/// a retry strategy (outer) around a per-attempt timeout (inner), both on the options' <see cref="TimeProvider"/>.
/// It lives in the client rather than in an <see cref="HttpClient"/> handler so that a client created over the
/// caller's own <see cref="HttpClient"/> retries too, and so that each call can say what it may retry.
/// </summary>
internal sealed partial class FlywheelResilience
{
    /// <summary>The call being executed, set on each call's <see cref="ResilienceContext"/>.</summary>
    internal static readonly ResiliencePropertyKey<Attempt> AttemptKey = new("Flywheel.Attempt");

    private readonly FlywheelClientOptions _options;
    private readonly ILogger _logger;

    public FlywheelResilience(FlywheelClientOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { Name = "Flywheel.Client", TimeProvider = options.TimeProvider };
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new HttpRetryStrategyOptions
            {
                // Retry-After is read by DelayGenerator below on the options' clock; the package's own reader uses the system clock.
                ShouldRetryAfterHeader = false,
                MaxRetryAttempts = options.MaxRetries,
                ShouldHandle = args => new ValueTask<bool>(ShouldRetry(args.Outcome, Rules(args.Context).Retry, args.Context.CancellationToken)),
                DelayGenerator = args => new ValueTask<TimeSpan?>(Backoff(args.AttemptNumber + 1, args.Outcome.Result is { } r ? RetryAfter(r.Headers.RetryAfter) : null)),
                OnRetry = OnRetryAsync,
            });
        }
        builder.AddTimeout(new HttpTimeoutStrategyOptions
        {
            // A negative span (InfiniteTimeSpan) leaves the attempt unbounded.
            TimeoutGenerator = args => new ValueTask<TimeSpan>(Rules(args.Context).Timeout),
        });
        Pipeline = builder.Build();
    }

    /// <summary>Retries (when <see cref="FlywheelClientOptions.MaxRetries"/> &gt; 0) around a per-attempt timeout.</summary>
    public ResiliencePipeline<HttpResponseMessage> Pipeline { get; }

    /// <summary>
    /// Whether a failed attempt may be repeated under <paramref name="retry"/>. The caller's own cancellation never is.
    /// </summary>
    internal static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, FlywheelClient.Retry retry, CancellationToken cancellationToken) => outcome switch
    {
        { Exception: HttpRequestException e } => retry == FlywheelClient.Retry.Transient || !MayHaveReachedServer(e),
        // The attempt timed out (ours, or the HttpClient's own Timeout): the server may still be working on it.
        { Exception: { } e } when IsAttemptTimeout(e, cancellationToken) => retry == FlywheelClient.Retry.Transient,
        { Exception: not null } => false,
        { Result: { } response } => (int)response.StatusCode is var code && IsTransient(code)
            && (retry == FlywheelClient.Retry.Transient || code is 429 or 503),
        _ => false,
    };

    /// <summary>Statuses worth another attempt: the request timed out, was throttled, or met a failing or overloaded server.</summary>
    internal static bool IsTransient(int status) => status is 408 or 429 or 500 or 502 or 503 or 504;

    /// <summary>True when <paramref name="exception"/> is an attempt's timeout rather than the caller's cancellation.</summary>
    internal static bool IsAttemptTimeout(Exception exception, CancellationToken cancellationToken)
        => exception is TimeoutRejectedException || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    /// <summary>What a timed-out attempt surfaces as, to <see cref="FlywheelClientOptions.OnRetry"/> and to the caller.</summary>
    internal static TimeoutException TimedOut(HttpMethod method, Uri uri, Exception inner)
        => new($"The Flywheel server did not answer {method} {uri} in time.", inner);

    /// <summary>The delay after failed attempt <paramref name="attempt"/> (from 1): Retry-After, else doubling backoff with jitter.</summary>
    internal TimeSpan Backoff(int attempt, TimeSpan? retryAfter)
    {
        var options = _options;
        if (retryAfter is { } wait)
        {
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait > options.MaxBackoff ? options.MaxBackoff : wait;
        }
        var random = options.Randomizer?.Invoke() ?? Random.Shared.NextDouble();
        var ticks = options.InitialBackoff.Ticks * Math.Pow(2, Math.Min(attempt - 1, 30)) * (0.5 + Math.Clamp(random, 0, 1));
        return ticks >= options.MaxBackoff.Ticks ? options.MaxBackoff : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>A <c>Retry-After</c> header as a wait from now on the options' clock (negative for a date in the past); null without one.</summary>
    internal TimeSpan? RetryAfter(RetryConditionHeaderValue? header) => header switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - _options.TimeProvider.GetUtcNow(),
        _ => null,
    };

    private static Attempt Rules(ResilienceContext context)
        => context.Properties.TryGetValue(AttemptKey, out var attempt) ? attempt : throw new InvalidOperationException("The Flywheel pipeline ran without its call.");

    /// <summary>False only when the request certainly never reached the server: no name resolution, connection or TLS session.</summary>
    private static bool MayHaveReachedServer(HttpRequestException exception) => exception.HttpRequestError is not
        (HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError or HttpRequestError.SecureConnectionError);

    private ValueTask OnRetryAsync(OnRetryArguments<HttpResponseMessage> args)
    {
        var call = Rules(args.Context);
        var response = args.Outcome.Result;
        int? status = response is null ? null : (int)response.StatusCode;
        var exception = args.Outcome.Exception is { } e && IsAttemptTimeout(e, args.Context.CancellationToken) ? TimedOut(call.Method, call.Uri, e) : args.Outcome.Exception;
        var attempt = args.AttemptNumber + 1;
        LogRetry(_logger, call.Method.Method, call.Uri, attempt, status?.ToString(CultureInfo.InvariantCulture) ?? exception?.GetType().Name ?? "unknown", args.RetryDelay.TotalMilliseconds);
        try
        {
            _options.OnRetry?.Invoke(new FlywheelRetryInfo(call.Method, call.Uri, attempt, args.RetryDelay, status, exception));
        }
        catch
        {
            // The call ends here; Polly disposes a retried answer only after OnRetry returns.
            response?.Dispose();
            throw;
        }
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Retrying {Method} {Uri} after attempt {Attempt} failed ({Reason}); waiting {DelayMs} ms")]
    private static partial void LogRetry(ILogger logger, string method, Uri uri, int attempt, string reason, double delayMs);

    /// <summary>What the strategies need to know about one call.</summary>
    /// <param name="Method">The HTTP method, for OnRetry and the log.</param>
    /// <param name="Uri">The request's address, for OnRetry and the log.</param>
    /// <param name="Retry">Which failures the call may retry.</param>
    /// <param name="Timeout">How long one attempt may take; <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> for no limit.</param>
    internal sealed record Attempt(HttpMethod Method, Uri Uri, FlywheelClient.Retry Retry, TimeSpan Timeout);
}
