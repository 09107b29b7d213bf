using System.Net.Http.Headers;

namespace Flywheel.Client;

public sealed partial class FlywheelClient
{
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
    /// Sends one request, retrying transient failures. The body is built once, before the first attempt, so every
    /// attempt carries the same ids.
    /// </summary>
    private Task<Response> SendAsync(HttpMethod method, string path, byte[]? body, bool allowNotFound, CancellationToken cancellationToken)
        => _transport.SendAsync(new Call(method, path, body) { AllowNotFound = allowNotFound }, cancellationToken);

    /// <summary>Sends <paramref name="call"/> and reads its whole answer.</summary>
    private Task<Response> SendAsync(Call call, CancellationToken cancellationToken) => _transport.SendAsync(call, cancellationToken);

    /// <summary>Sends <paramref name="call"/> and returns the successful answer unread, which the caller disposes.</summary>
    private Task<HttpResponseMessage> SendCoreAsync(Call call, CancellationToken cancellationToken) => _transport.SendCoreAsync(call, cancellationToken);

    /// <summary>The delay after failed attempt <paramref name="attempt"/> (from 1): Retry-After, else doubling backoff with jitter.</summary>
    internal TimeSpan Backoff(int attempt, TimeSpan? retryAfter) => _transport.Resilience.Backoff(attempt, retryAfter);
}
