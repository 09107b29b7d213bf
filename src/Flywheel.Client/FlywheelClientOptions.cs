namespace Flywheel.Client;

/// <summary>
/// Settings of a <see cref="FlywheelClient"/> and of the <see cref="FlywheelSignalBatcher"/>s it creates. Set them
/// before the client is created; the client reads them as it goes, so changing them afterwards has undefined effects.
/// </summary>
/// <remarks>
/// The retry and timeout settings build the client's resilience pipeline (Polly, through
/// Microsoft.Extensions.Http.Resilience) once, when the client is created: a retry strategy around a per-attempt
/// timeout, both on <see cref="TimeProvider"/>.
/// </remarks>
public sealed class FlywheelClientOptions
{
    /// <summary>
    /// The server's address, such as <c>http://127.0.0.1:5005</c>; a path prefix (<c>http://host/flywheel/</c>) is kept.
    /// <value>Default null: the <see cref="HttpClient.BaseAddress"/> of the client's <see cref="HttpClient"/>.</value>
    /// </summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>
    /// The API key sent as <c>Authorization: Bearer KEY</c> on every call (docs/security.md), made with
    /// <c>flywheel keys create</c>; it needs the scopes of the calls made (decide, ingest, read or admin).
    /// <value>Default null: no header, for a server whose store holds no keys.</value>
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// How long one attempt may take before it counts as a transient failure and is retried. The caller's own
    /// cancellation is never retried. <value>Default 30 seconds; <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> disables it.</value>
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long one attempt of a long operation may take: running a turn, an evaluation, and the wait for the first
    /// bytes of an export (the rows then stream for as long as they take). A turn that times out is not retried: the
    /// server finishes it anyway, and <see cref="FlywheelClient.ListTurnsAsync"/> shows its entry.
    /// <value>Default 10 minutes; <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> disables it.</value>
    /// </summary>
    public TimeSpan LongOperationTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Retries after the first attempt on transient failures: network errors, timeouts, 408, 429, 500, 502, 503 and
    /// 504. Retrying is safe because the client chooses decision and signal ids before the first attempt. Calls that
    /// are not idempotent (running a turn, promoting, rolling back) retry only failures that prove the server did not
    /// act: no connection, 429 or 503.
    /// <value>Default 4; 0 disables retries.</value>
    /// </summary>
    public int MaxRetries { get; set; } = 4;

    /// <summary>
    /// The delay before the first retry; it doubles with each retry, times a jitter factor in [0.5, 1.5) drawn from
    /// <see cref="Randomizer"/>. A <c>Retry-After</c> header from the server replaces the computed delay.
    /// <value>Default 100 milliseconds.</value>
    /// </summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest delay between two attempts, <c>Retry-After</c> included. <value>Default 30 seconds.</value></summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Returns a number in [0, 1) for the backoff jitter; must be thread-safe. Pin it (<c>() =&gt; 0.5</c> gives the
    /// exact doubling) or seed it for reproducible runs. <value>Default null: <see cref="Random.Shared"/>.</value>
    /// </summary>
    public Func<double>? Randomizer { get; set; }

    /// <summary>
    /// The clock for backoff delays, attempt timeouts (the resilience pipeline's clock), batcher intervals and the
    /// timestamps of generated ids; a fake one drives them all in tests.
    /// <value>Default <see cref="TimeProvider.System"/>.</value>
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Called before each retry with what failed and how long the client will wait (the retry strategy's OnRetry).
    /// Useful for metrics; exceptions it throws abort the call. <value>Default null.</value>
    /// </summary>
    public Action<FlywheelRetryInfo>? OnRetry { get; set; }

    /// <summary>
    /// Most signals a <see cref="FlywheelSignalBatcher"/> sends in one request; reaching it triggers a send.
    /// <value>Default 500; at most 10,000, the server's default limit per batch.</value>
    /// </summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>
    /// Longest time a <see cref="FlywheelSignalBatcher"/> holds a signal before sending it with whatever else is queued.
    /// <value>Default 200 milliseconds.</value>
    /// </summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Most items (signals, and generation loops' outputs) a <see cref="FlywheelSignalBatcher"/> queues; beyond it
    /// <see cref="FlywheelSignalBatcher.TryEnqueue"/> returns false and <see cref="FlywheelSignalBatcher.EnqueueAsync"/>
    /// waits. One batch in flight comes on top.
    /// <value>Default 100,000.</value>
    /// </summary>
    public int MaxQueuedSignals { get; set; } = 100_000;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (Timeout <= TimeSpan.Zero && Timeout != System.Threading.Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(Timeout), Timeout, "must be positive or Timeout.InfiniteTimeSpan");
        }
        if (LongOperationTimeout <= TimeSpan.Zero && LongOperationTimeout != System.Threading.Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(LongOperationTimeout), LongOperationTimeout, "must be positive or Timeout.InfiniteTimeSpan");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(MaxRetries, nameof(MaxRetries));
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialBackoff, TimeSpan.Zero, nameof(InitialBackoff));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBackoff, InitialBackoff, nameof(MaxBackoff));
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(BatchSize, 10_000, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(FlushInterval, TimeSpan.Zero, nameof(FlushInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueuedSignals, 1, nameof(MaxQueuedSignals));
        if (ApiKey is not null && (ApiKey.Length == 0 || ApiKey.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))))
        {
            throw new ArgumentOutOfRangeException(nameof(ApiKey), "must be a key such as fwk_…, without spaces or line breaks");
        }
        if (BaseAddress is { IsAbsoluteUri: false })
        {
            throw new ArgumentOutOfRangeException(nameof(BaseAddress), BaseAddress, "must be an absolute URI such as http://127.0.0.1:5005");
        }
    }
}

/// <summary>What the client tells <see cref="FlywheelClientOptions.OnRetry"/> before a retry.</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="RequestUri">The request's address.</param>
/// <param name="Attempt">The attempt that failed, from 1.</param>
/// <param name="Delay">How long the client waits before the next attempt.</param>
/// <param name="StatusCode">The status code of the failed attempt, or null when no answer came (network error, timeout).</param>
/// <param name="Exception">
/// The exception of the failed attempt (a <see cref="TimeoutException"/> when the attempt timed out), or null when the
/// server answered.
/// </param>
public sealed record FlywheelRetryInfo(HttpMethod Method, Uri RequestUri, int Attempt, TimeSpan Delay, int? StatusCode, Exception? Exception);
